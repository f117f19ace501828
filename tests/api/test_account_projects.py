"""/account/projects/: the projects a signed-in person holds a role on, and on
those they own, adding and removing Maintainers through packages.curation.roles
(journaled as PyPI records role changes, purged after commit)."""

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from packages.cache.purgers import _purgers, register_purger
from packages.curation.roles import add_role
from packages.models import JournalEntry, Role, RoleName
from tests.factories import create_user, publish

pytestmark = pytest.mark.django_db


@pytest.fixture
def purged(django_capture_on_commit_callbacks):
    """The keys purged by what runs inside ``with purged.capture():``."""

    class Purges(list):
        def capture(self):
            return django_capture_on_commit_callbacks(execute=True)

    keys = Purges()
    register_purger(keys.extend)
    yield keys
    _purgers.remove(keys.extend)


@pytest.fixture
def people(db):
    owner, maintainer, bob = create_user("olive"), create_user("mario"), create_user("bob")
    project = publish("Shared.Lib", "1.0", owner=owner).project
    add_role(project, role_name=RoleName.MAINTAINER, user=maintainer, by=owner)
    return {"owner": owner, "maintainer": maintainer, "bob": bob, "project": project}


def signed_in(user, *, csrf=False) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    client.force_login(user)
    return client


def roles(project) -> set[tuple[str, str]]:
    return {(r.holder_name, r.role_name) for r in Role.objects.filter(project=project)}


def journal(project) -> list[str]:
    return list(JournalEntry.objects.filter(name=project.name).values_list("action", flat=True))


def test_needs_a_login(client, people):
    response = client.get("/account/projects/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/account/projects/"
    refused = client.post("/account/projects/shared-lib/maintainers/", {"username": "bob"})
    assert refused.status_code == 302
    assert roles(people["project"]) == {("olive", "Owner"), ("mario", "Maintainer")}


def test_lists_the_projects_with_the_role_held_directly_or_through_a_team(people):
    team = Group.objects.create(name="platform")
    people["bob"].groups.add(team)
    team_project = publish("Team.Tool", "1.0").project
    add_role(team_project, role_name=RoleName.OWNER, group=team)
    add_role(people["project"], role_name=RoleName.MAINTAINER, user=people["bob"])
    publish("Not.Mine", "1.0", owner=people["owner"])

    response = signed_in(people["bob"]).get("/account/projects/")

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    page = response.content.decode()
    assert "Not.Mine" not in page
    shared = page.split('id="project-shared-lib"')[1].split("</section>")[0]
    assert "Your role: Maintainer" in shared and 'class="add-maintainer"' not in shared
    tool = page.split('id="project-team-tool"')[1].split("</section>")[0]
    assert "Your role: Owner (through the team platform)" in tool
    assert 'class="add-maintainer"' in tool  # a team Owner is an Owner
    # Linked from the navigation of the account pages.
    tokens = signed_in(people["bob"]).get("/account/tokens/").content.decode()
    assert 'href="/account/projects/" id="nav-projects"' in tokens


def test_owner_adds_a_maintainer(people, purged):
    client = signed_in(people["owner"], csrf=True)
    page = client.get("/account/projects/").content.decode()
    assert page.count('class="inline remove-maintainer"') == 1  # mario only, not the Owner
    token = client.cookies["csrftoken"].value

    with purged.capture():
        response = client.post("/account/projects/shared-lib/maintainers/",
                               {"username": "bob", "csrfmiddlewaretoken": token})

    assert response.status_code == 303 and response["Location"] == "/account/projects/"
    project = people["project"]
    assert ("bob", "Maintainer") in roles(project)
    entry = JournalEntry.objects.latest("id")
    assert (entry.name, entry.action, entry.submitted_by) == (
        "Shared.Lib", "add Maintainer bob", "olive")
    assert "project/shared-lib" in purged
    after = client.get("/account/projects/").content.decode()
    assert "bob is now a Maintainer of Shared.Lib." in after
    assert after.count('class="inline remove-maintainer"') == 2


def test_owner_removes_a_maintainer(people, purged):
    client = signed_in(people["owner"])
    with purged.capture():
        response = client.post("/account/projects/shared-lib/maintainers/remove/",
                               {"username": "mario"})
    assert response.status_code == 303
    assert roles(people["project"]) == {("olive", "Owner")}
    assert journal(people["project"])[-1] == "remove Maintainer mario"
    assert "project/shared-lib" in purged
    assert "mario is no longer a Maintainer of Shared.Lib." in client.get(
        "/account/projects/").content.decode()


def test_posts_need_the_csrf_token(people):
    client = signed_in(people["owner"], csrf=True)
    assert client.post("/account/projects/shared-lib/maintainers/",
                       {"username": "bob"}).status_code == 403
    assert client.post("/account/projects/shared-lib/maintainers/remove/",
                       {"username": "mario"}).status_code == 403
    assert roles(people["project"]) == {("olive", "Owner"), ("mario", "Maintainer")}


@pytest.mark.parametrize("action, username", [("", "bob"), ("remove/", "mario"),
                                              ("", "nobody-at-all"), ("remove/", "olive")])
def test_a_maintainer_cannot_change_maintainers(people, action, username):
    before = (roles(people["project"]), journal(people["project"]))
    response = signed_in(people["maintainer"]).post(
        f"/account/projects/shared-lib/maintainers/{action}", {"username": username})
    assert response.status_code == 403
    assert response.reason_phrase == "Only an Owner of Shared.Lib can change its Maintainers."
    assert "Only an Owner of Shared.Lib can change its Maintainers." in response.content.decode()
    assert (roles(people["project"]), journal(people["project"])) == before


def test_someone_without_a_role_cannot_either(people):
    response = signed_in(people["bob"]).post("/account/projects/shared-lib/maintainers/",
                                             {"username": "bob"})
    assert response.status_code == 403
    assert ("bob", "Maintainer") not in roles(people["project"])


@pytest.mark.parametrize("action, username, status, message", [
    ("", "ghost", 400, "There is no user 'ghost'."),
    ("", "", 400, "Give the username of the Maintainer."),
    ("", "mario", 409, "'mario' already holds the Maintainer role on Shared.Lib."),
    ("", "olive", 409, "'olive' already holds the Owner role on Shared.Lib."),
    ("remove/", "ghost", 400, "There is no user 'ghost'."),
    ("remove/", "bob", 404, "'bob' holds no role on Shared.Lib."),
    ("remove/", "olive", 400, "You cannot remove your own role."),
])
def test_refusals_are_4xx_with_a_clear_message_and_change_nothing(
    people, action, username, status, message
):
    before = (roles(people["project"]), journal(people["project"]))
    response = signed_in(people["owner"]).post(
        f"/account/projects/shared-lib/maintainers/{action}", {"username": username})
    assert response.status_code == status
    assert response.reason_phrase == message
    assert f'<p class="error" id="error">{message}'.replace("'", "&#x27;") in (
        response.content.decode())
    assert (roles(people["project"]), journal(people["project"])) == before


def test_an_owner_cannot_remove_another_owner(people):
    add_role(people["project"], role_name=RoleName.OWNER, user=people["bob"])
    response = signed_in(people["owner"]).post(
        "/account/projects/shared-lib/maintainers/remove/", {"username": "bob"})
    assert response.status_code == 403
    assert "only Maintainers can be removed here" in response.reason_phrase
    assert ("bob", "Owner") in roles(people["project"])


def test_unknown_or_hidden_project_is_404(people):
    from packages.curation.projects import set_project_status

    client = signed_in(people["owner"])
    assert client.post("/account/projects/nope/maintainers/",
                       {"username": "bob"}).status_code == 404
    hidden = publish("Hidden.One", "1.0", owner=people["bob"]).project
    set_project_status(hidden, "quarantined", reason="malware")
    response = client.post("/account/projects/hidden-one/maintainers/", {"username": "mario"})
    assert response.status_code == 404
    assert not Role.objects.filter(project=hidden, user=people["maintainer"]).exists()


def test_an_owner_adds_and_removes_a_maintainer_in_chromium(live_server, browser_page):
    """The forms as a browser sends them: its CSRF token, the 303, the message."""
    owner = create_user("olive", password="olive-password-123")
    create_user("bob")
    project = publish("Browser.Lib", "1.0", owner=owner).project
    page = browser_page
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "olive")
    page.fill("#id_password", "olive-password-123")
    page.click("#login-form >> button")
    page.click("#nav-projects")
    page.wait_for_url(f"{live_server.url}/account/projects/")

    page.fill("#project-browser-lib form.add-maintainer input[name=username]", "bob")
    page.click("#project-browser-lib form.add-maintainer button")
    page.wait_for_url(f"{live_server.url}/account/projects/")
    assert page.text_content("#messages").strip() == "bob is now a Maintainer of Browser.Lib."
    assert ("bob", "Maintainer") in roles(project)

    page.click("#project-browser-lib form.remove-maintainer button")
    page.wait_for_url(f"{live_server.url}/account/projects/")
    assert "bob is no longer a Maintainer" in page.text_content("#messages")
    assert roles(project) == {("olive", "Owner")}
    assert journal(project)[-2:] == ["add Maintainer bob", "remove Maintainer bob"]
