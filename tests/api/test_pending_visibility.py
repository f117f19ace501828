"""A project waiting for approval (INDEX_PROJECT_CREATION=moderated): its pages
are shown to the people who hold a role on it and to staff, marked as not
installable yet; everyone else gets the 404 of a missing project, and every
API (simple, JSON, files, feeds, XML-RPC) hides it from everyone."""

import xmlrpc.client

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from packages.curation.projects import approve_project, set_project_status
from packages.curation.roles import add_role
from packages.curation.tokens import create_token
from packages.models import File, Project, RoleName
from tests.factories import create_user
from tests.legacy.upload_forms import basic, upload_wheel

pytestmark = pytest.mark.django_db

BANNER = "This project is pending approval: not installable yet."


@pytest.fixture
def pending(settings, client):
    """Fresh.Idea 1.0, uploaded by alice (as its Owner) while creation is moderated."""
    settings.INDEX_PROJECT_CREATION = "moderated"
    alice = create_user("alice")
    _, token = create_token(alice)
    assert upload_wheel(client, token, "Fresh.Idea", "1.0").status_code == 200
    project = Project.objects.get()
    assert project.status == "pending"
    return {"project": project, "alice": alice, "token": token}


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def assert_private(response):
    assert "private" in response["Cache-Control"] and "no-store" in response["Cache-Control"]
    assert "Cookie" in response["Vary"]


def assert_same_404_as_a_missing_project(client, url):
    response = client.get(url)
    missing = client.get(url.replace("fresh-idea", "no-such-project"))
    assert response.status_code == missing.status_code == 404
    assert response.content == missing.content


@pytest.mark.parametrize("url", ["/project/fresh-idea/", "/project/fresh-idea/1.0/"])
def test_anonymous_people_get_the_404_of_a_missing_project(pending, url):
    assert_same_404_as_a_missing_project(Client(), url)


@pytest.mark.parametrize("url", ["/project/fresh-idea/", "/project/fresh-idea/1.0/"])
def test_signed_in_people_without_a_role_get_the_same_404(pending, url):
    assert_same_404_as_a_missing_project(as_user(create_user("mallory")), url)


@pytest.mark.parametrize("url", ["/project/fresh-idea/", "/project/fresh-idea/1.0/"])
def test_the_uploader_sees_its_pages_marked_not_installable(pending, url):
    response = as_user(pending["alice"]).get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Fresh.Idea 1.0</h1>" in page and BANNER in page
    assert_private(response)


def test_a_team_holding_a_role_sees_it_too(pending):
    team = Group.objects.create(name="ideas")
    add_role(pending["project"], role_name=RoleName.MAINTAINER, group=team)
    member = create_user("member")
    member.groups.add(team)
    response = as_user(member).get("/project/fresh-idea/")
    assert response.status_code == 200 and BANNER in response.content.decode()


def test_staff_see_it(pending):
    response = as_user(create_user("curator", is_staff=True)).get("/project/fresh-idea/1.0/")
    assert response.status_code == 200 and BANNER in response.content.decode()
    assert_private(response)


def test_my_projects_page_shows_it_pending(pending):
    page = as_user(pending["alice"]).get("/account/projects/").content.decode()
    section = page.split('id="project-fresh-idea"')[1].split("</section>")[0]
    assert 'href="/project/fresh-idea/"' in section
    assert "pending approval: not installable yet" in section
    assert "Your role: Owner" in section


def test_nothing_keeps_the_owner_view_for_anonymous_people(pending):
    owner = as_user(pending["alice"])
    assert owner.get("/project/fresh-idea/").status_code == 200
    assert Client().get("/project/fresh-idea/").status_code == 404
    assert owner.get("/project/fresh-idea/").status_code == 200
    assert Client().get("/project/fresh-idea/").status_code == 404


def test_every_api_hides_it_even_from_its_uploader(pending):
    """Not installable: pages are for people, the APIs serve nothing of it."""
    wheel = File.objects.get()
    session = as_user(pending["alice"])
    token = {"HTTP_AUTHORIZATION": basic("__token__", pending["token"])}
    for client, headers in [(Client(), {}), (session, {}), (Client(), token)]:
        for url in ["/simple/fresh-idea/", "/pypi/fresh-idea/json", "/pypi/fresh-idea/1.0/json",
                    f"/{wheel.path}", "/rss/project/fresh-idea/releases.xml"]:
            assert client.get(url, **headers).status_code == 404, url
        assert b"fresh-idea" not in body(client.get("/simple/", **headers))
        assert b"Fresh.Idea" not in client.get("/rss/packages.xml", **headers).content
        call = xmlrpc.client.dumps((), "list_packages").encode()
        answer = client.post("/pypi", call, content_type="text/xml", **headers)
        assert b"Fresh.Idea" not in answer.content
    # nor do the pages that list projects
    for url in ["/", "/projects/", "/search/?q=fresh"]:
        assert "Fresh.Idea" not in session.get(url).content.decode(), url


def test_a_quarantined_project_stays_hidden_from_its_owner(pending):
    set_project_status(pending["project"], "quarantined", reason="malware")
    assert as_user(pending["alice"]).get("/project/fresh-idea/").status_code == 404


def test_once_approved_everyone_sees_it_without_the_banner(pending):
    approve_project(pending["project"])
    response = Client().get("/project/fresh-idea/")
    assert response.status_code == 200
    assert BANNER not in response.content.decode()
    assert "private" not in response.get("Cache-Control", "")
