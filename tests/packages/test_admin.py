"""The admin as curators use it: through the real admin views and forms."""

import html
import re

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse

from packages.curation.tokens import find_active_token
from packages.errors import UploadRejected
from packages.models import ApiToken, File, JournalEntry, Project, Release, Role
from tests.factories import create_project, create_user, publish
from tests.packages.test_uploads import upload


@pytest.fixture
def admin_client(client, db):
    admin = User.objects.create_superuser("root", "", "pw-root-123")
    client.force_login(admin)
    return client


def _inline_management(prefix, total=0, initial=0):
    return {f"{prefix}-TOTAL_FORMS": str(total), f"{prefix}-INITIAL_FORMS": str(initial),
            f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"}


def test_admin_creates_project_with_roles_and_journals(admin_client):
    alice = create_user("alice")
    team = Group.objects.create(name="platform")
    data = {"name": "Shiny.Tool", "status": "active", "status_reason": "",
            "max_file_size": "", "max_project_size": "",
            **_inline_management("roles", total=2),
            "roles-0-role_name": "Owner", "roles-0-user": str(alice.pk), "roles-0-group": "",
            "roles-1-role_name": "Maintainer", "roles-1-user": "", "roles-1-group": str(team.pk),
            **_inline_management("releases")}
    response = admin_client.post(reverse("admin:packages_project_add"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    project = Project.objects.get(normalized_name="shiny-tool")
    assert {(r.role_name, r.holder_name) for r in Role.objects.filter(project=project)} == {
        ("Owner", "alice"), ("Maintainer", "platform")}
    actions = list(JournalEntry.objects.filter(name="Shiny.Tool").values_list("action", flat=True))
    assert actions[0] == "create"
    assert set(actions[1:]) == {"add Owner alice", "add Maintainer platform"}


def test_admin_refuses_a_name_that_normalizes_to_an_existing_project(admin_client):
    publish("foo-bar", "1.0")
    data = {"name": "Foo_Bar", "status": "active", **_inline_management("roles"),
            **_inline_management("releases")}
    response = admin_client.post(reverse("admin:packages_project_add"), data)
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert Project.objects.count() == 1


@pytest.mark.parametrize(("name", "reason"), [
    ("asyncio", "conflict with Python Standard Library module name"),
    ("f00-bar", "too similar to an existing project 'foobar'"),
])
def test_admin_refuses_a_name_an_upload_refuses_with_the_same_message(
    admin_client, name, reason
):
    create_project("foobar")
    with pytest.raises(UploadRejected) as upload_refusal:
        upload(create_user("alice"), name)
    data = {"name": name, "status": "active", **_inline_management("roles"),
            **_inline_management("releases")}

    response = admin_client.post(reverse("admin:packages_project_add"), data)

    assert response.status_code == 200
    assert reason in upload_refusal.value.message
    assert html.escape(upload_refusal.value.message) in response.content.decode()
    assert list(Project.objects.values_list("name", flat=True)) == ["foobar"]


def test_admin_creates_a_token_shown_once(admin_client):
    user = create_user("ci")
    response = admin_client.post(reverse("admin:packages_apitoken_add"), {
        "user": str(user.pk), "description": "pipeline", "read_only": "on",
        "expires_in_days": "30"}, follow=True)
    page = response.content.decode()
    plaintext = re.search(r'id="new-token">(isk_[^<]+)<', page).group(1)
    token = find_active_token(plaintext)
    assert token.user == user and token.read_only and token.expires is not None
    assert plaintext not in str(ApiToken.objects.values().get())


def test_yank_action_writes_journal_with_reason(admin_client):
    release = publish("yankme", "1.0")
    url = reverse("admin:packages_release_changelist")
    page = admin_client.post(url, {"action": "yank_selected", "_selected_action": [release.pk]})
    assert page.status_code == 200 and "Nothing has changed yet" in page.content.decode()
    response = admin_client.post(url, {
        "action": "yank_selected", "_selected_action": [release.pk], "reason": "CVE-1",
        "confirm": "yes"})
    assert response.status_code == 302
    release.refresh_from_db()
    assert release.yanked and release.yanked_reason == "CVE-1"
    entry = JournalEntry.objects.latest("id")
    assert (entry.action, entry.version, entry.submitted_by) == ("yank release", "1.0", "root")
    admin_client.post(url, {
        "action": "unyank_selected", "_selected_action": [release.pk], "confirm": "yes"})
    assert JournalEntry.objects.latest("id").action == "unyank release"


def test_admin_delete_goes_through_the_domain(admin_client):
    release = publish("delme", "1.0")
    file = release.files.first()
    response = admin_client.post(
        reverse("admin:packages_file_delete", args=[file.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert JournalEntry.objects.latest("id").action == f"remove file {file.filename}"
    response = admin_client.post(reverse("admin:packages_project_changelist"), {
        "action": "delete_selected", "_selected_action": [release.project.pk], "post": "yes"})
    assert response.status_code == 302
    assert not Project.objects.exists() and not Release.objects.exists()
    assert not File.objects.exists()
    assert JournalEntry.objects.latest("id").action == "remove project"


def test_quarantine_action_journals(admin_client):
    release = publish("sus", "1.0")
    admin_client.post(reverse("admin:packages_project_changelist"), {
        "action": "quarantine_selected", "_selected_action": [release.project.pk],
        "reason": "malware", "confirm": "yes"})
    project = Project.objects.get()
    assert project.status == "quarantined" and project.status_reason == "malware"
    assert JournalEntry.objects.latest("id").action == "project quarantined"


def test_journal_is_read_only_in_admin(admin_client):
    publish("ro", "1.0")
    entry = JournalEntry.objects.first()
    assert admin_client.get(reverse("admin:packages_journalentry_changelist")).status_code == 200
    response = admin_client.post(
        reverse("admin:packages_journalentry_delete", args=[entry.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert JournalEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.parametrize("name", ["project", "release", "file", "apitoken", "journalentry",
                                  "filename", "prohibitedprojectname"])
def test_admin_pages_render(admin_client, name):
    publish("render", "1.0")
    assert admin_client.get(reverse(f"admin:packages_{name}_changelist")).status_code == 200
    obj_model = {"project": Project, "release": Release, "file": File}.get(name)
    if obj_model:
        pk = obj_model.objects.first().pk
        assert admin_client.get(
            reverse(f"admin:packages_{name}_change", args=[pk])).status_code == 200
