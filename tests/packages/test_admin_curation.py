"""Curation through the real admin views: every action answers a confirmation page
listing what will change (and changes nothing), then, confirmed, goes through the
domain with its journal entry and purges the keys it dirtied; the reads honour
the new states (packages.queries & co), and the project creation policy holds."""

from xmlrpc import queries as xmlrpc_queries

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from feeds import queries as feed_queries
from packages.curation.tokens import create_token
from packages.models import Filename, JournalEntry, Project, Release, Role
from packages.upstream.models import ReservedName
from tests.factories import create_user, publish
from tests.legacy.upload_forms import stored_paths, upload_wheel
from tests.packages import curation_helpers as helpers
from tests.packages.curation_helpers import confirm, latest_entry, simple_filenames

# The shared fixtures (pytest finds fixtures by module attribute).
admin_client, purged, root = helpers.admin_client, helpers.purged, helpers.root
fresh_simple_pages = helpers.fresh_simple_pages

pytestmark = pytest.mark.django_db


def test_yank_confirms_then_yanks_with_journal_and_purge(admin_client, purged):
    release = publish("Yank.Me", "1.0")
    publish("other", "1.0")

    page = confirm(admin_client, "release", "yank_selected", [release], purged, reason="CVE-1")

    assert "yank_me-1.0.tar.gz" in page and "project/yank-me" in page
    release.refresh_from_db()
    assert release.yanked and release.yanked_reason == "CVE-1"
    assert latest_entry() == ("Yank.Me", "1.0", "yank release", "root")
    assert set(purged) == {"project/yank-me", "all-projects"}
    files = admin_client.get("/simple/yank-me/",
                             HTTP_ACCEPT="application/vnd.pypi.simple.v1+json").json()["files"]
    assert all(f["yanked"] == "CVE-1" for f in files)

    purged.clear()
    confirm(admin_client, "release", "unyank_selected", [release], purged)
    release.refresh_from_db()
    assert not release.yanked
    assert latest_entry() == ("Yank.Me", "1.0", "unyank release", "root")
    assert set(purged) == {"project/yank-me", "all-projects"}


def test_a_get_of_an_action_url_changes_nothing(admin_client):
    release = publish("getme", "1.0")
    url = reverse("admin:packages_release_changelist")
    response = admin_client.get(url, {"action": "yank_selected", "_selected_action": release.pk,
                                      "confirm": "yes"})
    assert response.status_code in (200, 302)
    release.refresh_from_db()
    assert not release.yanked and latest_entry()[2] != "yank release"


def test_quarantined_release_leaves_every_read_and_is_not_served(admin_client, client, purged):
    old = publish("Split", "1.0")
    bad = publish("Split", "2.0")
    bad_file = bad.files.get(packagetype="bdist_wheel")
    assert client.get(f"/{bad_file.path}").status_code == 200

    page = confirm(admin_client, "release", "quarantine_selected", [bad], purged,
                   reason="malware")

    assert bad_file.filename in page
    bad.refresh_from_db()
    assert bad.quarantined and bad.quarantine_reason == "malware"
    assert latest_entry() == ("Split", "2.0", "release quarantined", "root")
    assert set(purged) == {"project/split", "all-projects"}
    assert simple_filenames(client, "split") == sorted(old.files.values_list("filename",
                                                                              flat=True))
    assert client.get(f"/{bad_file.path}").status_code == 404
    assert xmlrpc_queries.release_files("Split", "2.0") == []
    assert xmlrpc_queries.find_release("Split", "2.0") == (None, None)
    assert [r.version for r in xmlrpc_queries.releases_in_order(bad.project)] == ["1.0"]
    assert [r.version for r in feed_queries.latest_releases()] == ["1.0"]
    assert [r.version for r in feed_queries.project_releases(bad.project)] == ["1.0"]
    assert feed_queries.newest_projects()[0].highest_release.version == "1.0"
    document = client.get("/pypi/split/json").json()
    assert document["info"]["version"] == "1.0" and list(document["releases"]) == ["1.0"]
    assert bad_file.filename not in {f["filename"] for f in document["urls"]}
    assert client.get("/pypi/split/2.0/json").status_code == 404

    purged.clear()
    confirm(admin_client, "release", "clear_quarantine_selected", [bad], purged)
    assert latest_entry() == ("Split", "2.0", "release quarantine cleared", "root")
    assert set(purged) == {"project/split", "all-projects"}
    assert bad_file.filename in simple_filenames(client, "split")
    assert client.get(f"/{bad_file.path}").status_code == 200


@pytest.mark.parametrize(("action", "status", "reason", "entry"), [
    ("archive_selected", "archived", "", "project status archived"),
    ("deprecate_selected", "deprecated", "use newthing", "project status deprecated"),
    ("quarantine_selected", "quarantined", "malware", "project quarantined"),
])
def test_project_states_are_journaled_purged_and_honoured(
    admin_client, client, purged, action, status, reason, entry
):
    owner = create_user("alice")
    _, token = create_token(owner)
    release = publish("Stateful", "1.0", owner=owner)

    confirm(admin_client, "project", action, [release.project], purged, reason=reason)

    project = Project.objects.get()
    assert (project.status, project.status_reason) == (status, reason)
    assert latest_entry() == ("Stateful", None, entry, "root")
    assert set(purged) == {"project/stateful", "all-projects"}
    page = client.get("/simple/stateful/", HTTP_ACCEPT="application/vnd.pypi.simple.v1+json")
    upload = upload_wheel(client, token, "stateful", "2.0")
    if status == "quarantined":
        assert page.status_code == 404 and upload.status_code == 403
    else:
        # PEP 792 markers pass through; archived takes no upload, says why, stays installable.
        assert page.json()["project-status"] == {"status": status, **(
            {"reason": reason} if reason else {})}
        assert len(page.json()["files"]) == 2
        if status == "archived":
            assert upload.status_code == 400 and "archived" in upload.reason_phrase
        else:
            assert upload.status_code == 200

    purged.clear()
    confirm(admin_client, "project", "activate_selected", [project], purged)
    assert Project.objects.get().status == "active"
    assert set(purged) == {"project/stateful", "all-projects"}
    assert client.get("/simple/stateful/").status_code == 200


def test_deprecation_needs_a_message(admin_client):
    project = publish("needs-why", "1.0").project
    url = reverse("admin:packages_project_changelist")
    response = admin_client.post(url, {"action": "deprecate_selected",
                                       "_selected_action": [project.pk], "confirm": "yes"})
    assert response.status_code == 200 and "This field is required" in response.content.decode()
    assert Project.objects.get().status == "active"


def test_moderated_creation_hides_a_new_project_until_a_curator_approves(
    admin_client, client, purged, settings
):
    settings.INDEX_PROJECT_CREATION = "moderated"
    alice = create_user("alice")
    _, token = create_token(alice)

    assert upload_wheel(client, token, "Fresh.Idea", "1.0").status_code == 200
    project = Project.objects.get()
    assert project.status == "pending"
    assert client.get("/simple/fresh-idea/").status_code == 404
    assert b"fresh-idea" not in b"".join(client.get("/simple/").streaming_content)
    assert xmlrpc_queries.project_names() == []
    assert not any(e[0] == "Fresh.Idea" for e in xmlrpc_queries.journal_since_serial(0))
    # Its uploader keeps uploading to it while it waits.
    assert upload_wheel(client, token, "Fresh.Idea", "1.1").status_code == 200
    changelist = admin_client.get(reverse("admin:packages_project_changelist"),
                                  {"pending": "yes"}).content.decode()
    assert "Fresh.Idea" in changelist

    page = confirm(admin_client, "project", "approve_selected", [project], purged)

    assert "fresh_idea-1.1-py3-none-any.whl" in page
    assert Project.objects.get().status == "active"
    assert latest_entry() == ("Fresh.Idea", None, "project approved", "root")
    assert set(purged) == {"project/fresh-idea", "all-projects"}
    assert len(simple_filenames(client, "fresh-idea")) == 2
    assert xmlrpc_queries.project_names() == ["Fresh.Idea"]


def test_refusing_a_pending_project_keeps_it_hidden_and_its_name_taken(
    admin_client, client, purged, settings
):
    settings.INDEX_PROJECT_CREATION = "moderated"
    _, token = create_token(create_user("alice"))
    upload_wheel(client, token, "spam-thing", "1.0")
    project = Project.objects.get()

    confirm(admin_client, "project", "refuse_selected", [project], purged, reason="spam")

    project.refresh_from_db()
    assert (project.status, project.status_reason) == ("quarantined", "spam")
    assert latest_entry() == ("spam-thing", None, "project refused", "root")
    assert set(purged) == {"project/spam-thing", "all-projects"}
    assert client.get("/simple/spam-thing/").status_code == 404
    _, other = create_token(create_user("mallory"))
    assert upload_wheel(client, other, "spam-thing", "2.0").status_code == 403


def test_any_policy_creates_active_projects(client, settings):
    settings.INDEX_PROJECT_CREATION = "any"
    _, token = create_token(create_user("alice"))
    assert upload_wheel(client, token, "open-door", "1.0").status_code == 200
    assert Project.objects.get().status == "active"


def test_prefix_team_policy_lets_only_the_prefix_team_create(client, settings):
    settings.INDEX_PROJECT_CREATION = "prefix-team"
    team = Group.objects.create(name="platform")
    ReservedName.objects.create(name="acme", is_prefix=True, team=team)
    ReservedName.objects.create(name="solo", is_prefix=False, team=team)
    member, outsider = create_user("member"), create_user("outsider")
    member.groups.add(team)
    _, member_token = create_token(member)
    _, outsider_token = create_token(outsider)

    refused = upload_wheel(client, outsider_token, "acme-tools", "1.0")
    assert refused.status_code == 403 and "reserved by one of your teams" in refused.reason_phrase
    assert upload_wheel(client, member_token, "elsewhere", "1.0").status_code == 403
    # An exact reservation does not cover longer names.
    assert upload_wheel(client, member_token, "solo-extra", "1.0").status_code == 403
    assert upload_wheel(client, member_token, "acme-tools", "1.0").status_code == 200
    assert upload_wheel(client, member_token, "solo", "1.0").status_code == 200
    assert sorted(Project.objects.values_list("name", flat=True)) == ["acme-tools", "solo"]


def test_transfer_ownership_replaces_the_owners(admin_client, purged):
    alice, bob = create_user("alice"), create_user("bob")
    project = publish("handed-over", "1.0", owner=alice).project

    page = confirm(admin_client, "project", "transfer_selected", [project], purged,
                   user=str(bob.pk))

    assert "alice (user)" in page
    assert {(r.role_name, r.holder_name) for r in Role.objects.all()} == {("Owner", "bob")}
    actions = list(JournalEntry.objects.filter(submitted_by="root").values_list("action",
                                                                                flat=True))
    assert actions == ["transfer ownership to bob", "add Owner bob", "remove Owner alice"]
    assert set(purged) == {"project/handed-over", "all-projects"}


def test_transfer_to_a_team_can_keep_previous_owners_as_maintainers(admin_client):
    alice = create_user("alice")
    team = Group.objects.create(name="platform")
    project = publish("team-owned", "1.0", owner=alice).project
    confirm(admin_client, "project", "transfer_selected", [project], group=str(team.pk),
            keep_as_maintainers="on")
    assert {(r.role_name, r.holder_name) for r in Role.objects.all()} == {
        ("Owner", "platform"), ("Maintainer", "alice")}


def test_deleting_a_release_journals_purges_removes_stored_files_and_keeps_names(
    admin_client, purged
):
    release = publish("shrink", "1.0")
    publish("shrink", "2.0")
    names = list(release.files.values_list("filename", flat=True))
    paths = list(release.files.values_list("path", flat=True))
    page = admin_client.post(reverse("admin:packages_release_changelist"), {
        "action": "delete_selected", "_selected_action": [release.pk]}).content.decode()
    assert "filenames stay reserved" in page and Release.objects.count() == 2

    with purged.capture():
        response = admin_client.post(reverse("admin:packages_release_changelist"), {
            "action": "delete_selected", "_selected_action": [release.pk], "post": "yes"})

    assert response.status_code == 302
    assert list(Release.objects.values_list("version", flat=True)) == ["2.0"]
    assert latest_entry() == ("shrink", "1.0", "remove release", "root")
    assert set(purged) == {"project/shrink", "all-projects"}
    assert not set(paths) & set(stored_paths())
    assert set(names) <= set(Filename.objects.values_list("filename", flat=True))


def test_role_changes_on_the_project_page_journal_and_purge(admin_client, purged):
    alice, bob = create_user("alice"), create_user("bob")
    project = publish("roled", "1.0", owner=alice).project
    role = Role.objects.get()
    data = {"max_file_size": "", "max_project_size": "",
            "roles-TOTAL_FORMS": "2", "roles-INITIAL_FORMS": "1", "roles-MIN_NUM_FORMS": "0",
            "roles-MAX_NUM_FORMS": "1000",
            "roles-0-id": str(role.pk), "roles-0-project": str(project.pk),
            "roles-0-role_name": "Owner", "roles-0-user": str(alice.pk), "roles-0-DELETE": "on",
            "roles-1-project": str(project.pk), "roles-1-role_name": "Maintainer",
            "roles-1-user": str(bob.pk),
            "releases-TOTAL_FORMS": "1", "releases-INITIAL_FORMS": "1",
            "releases-MIN_NUM_FORMS": "0", "releases-MAX_NUM_FORMS": "1000",
            "releases-0-id": str(project.releases.get().pk),
            "releases-0-project": str(project.pk)}

    with purged.capture():
        response = admin_client.post(
            reverse("admin:packages_project_change", args=[project.pk]), data)

    assert response.status_code == 302, response.content.decode()[:3000]
    assert {(r.role_name, r.holder_name) for r in Role.objects.all()} == {("Maintainer", "bob")}
    actions = set(JournalEntry.objects.filter(submitted_by="root").values_list("action",
                                                                             flat=True))
    assert actions == {"remove Owner alice", "add Maintainer bob"}
    assert "project/roled" in purged
