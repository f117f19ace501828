"""The admin's records and overviews: the journal is read-only for everyone and
searchable; only superusers delete projects or change prohibited and reserved
names; the project changelist (counts in one query, look-alike search, filters);
users' tokens; the dashboard."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from packages.curation.tokens import create_token, find_active_token
from packages.models import ApiToken, File, JournalEntry, ProhibitedProjectName, Project, Release
from packages.upstream.models import ReservedName
from tests.factories import create_project, create_user, publish
from tests.legacy.upload_forms import upload_wheel
from tests.packages import curation_helpers as helpers
from tests.packages.curation_helpers import confirm, latest_entry

# The shared fixtures (pytest finds fixtures by module attribute).
admin_client, purged, root = helpers.admin_client, helpers.purged, helpers.root
fresh_simple_pages = helpers.fresh_simple_pages

pytestmark = pytest.mark.django_db


def test_only_superusers_delete_projects_and_change_prohibited_or_reserved_names(client, root):
    curator = create_user("curator", is_staff=True)
    curator.user_permissions.add(*Permission.objects.filter(
        content_type__app_label="packages"))
    client.force_login(curator)
    project = publish("keepme", "1.0").project
    banned = ProhibitedProjectName.objects.create(name="banned")
    reserved = ReservedName.objects.create(name="internal", is_prefix=True)

    changelist = client.get(reverse("admin:packages_project_changelist")).content.decode()
    assert 'value="delete_selected"' not in changelist
    assert 'value="quarantine_selected"' in changelist
    assert client.post(reverse("admin:packages_project_delete", args=[project.pk]),
                       {"post": "yes"}).status_code == 403
    assert client.post(reverse("admin:packages_prohibitedprojectname_change",
                               args=[banned.pk]), {"name": "x"}).status_code == 403
    assert client.post(reverse("admin:packages_prohibitedprojectname_add"),
                       {"name": "new"}).status_code == 403
    assert client.post(reverse("admin:packages_reservedname_delete", args=[reserved.pk]),
                       {"post": "yes"}).status_code == 403
    assert Project.objects.exists() and ProhibitedProjectName.objects.count() == 1
    assert ReservedName.objects.count() == 1

    client.force_login(root)
    assert client.post(reverse("admin:packages_project_delete", args=[project.pk]),
                       {"post": "yes"}).status_code == 302
    assert not Project.objects.exists()
    assert latest_entry() == ("keepme", None, "remove project", "root")


@pytest.mark.parametrize("superuser", [True, False])
def test_the_journal_cannot_be_changed_through_the_admin(client, root, superuser):
    user = root
    if not superuser:
        user = create_user("curator", is_staff=True)
        user.user_permissions.add(*Permission.objects.filter(
            content_type__model="journalentry"))
    client.force_login(user)
    publish("audited", "1.0")
    entry = JournalEntry.objects.first()
    before = list(JournalEntry.objects.values_list("id", "name", "version", "action"))

    changelist = client.get(reverse("admin:packages_journalentry_changelist"))
    assert changelist.status_code == 200
    assert 'name="action"' not in changelist.content.decode()  # no actions at all
    assert client.get(reverse("admin:packages_journalentry_add")).status_code == 403
    assert client.post(reverse("admin:packages_journalentry_add"),
                       {"name": "forged", "action": "create"}).status_code == 403
    change = client.get(reverse("admin:packages_journalentry_change", args=[entry.pk]))
    assert change.status_code == 200 and "<textarea" not in change.content.decode()
    assert client.post(reverse("admin:packages_journalentry_change", args=[entry.pk]),
                       {"name": "forged", "action": "x"}).status_code == 403
    assert client.post(reverse("admin:packages_journalentry_delete", args=[entry.pk]),
                       {"post": "yes"}).status_code == 403
    assert client.post(reverse("admin:packages_journalentry_changelist"), {
        "action": "delete_selected", "_selected_action": [entry.pk], "post": "yes",
        "index": "0"}).status_code in (200, 302)
    assert list(JournalEntry.objects.values_list("id", "name", "version", "action")) == before


def test_the_journal_is_searchable_by_project_user_action_and_date(admin_client, root):
    publish("first", "1.0")
    release = publish("second", "1.0")
    confirm(admin_client, "release", "yank_selected", [release], reason="bad")
    url = reverse("admin:packages_journalentry_changelist")

    def shown(**params):
        response = admin_client.get(url, params)
        assert response.status_code == 200
        return [(e.name, e.action) for e in response.context["cl"].result_list]

    assert {name for name, _ in shown(project="second")} == {"second"}
    assert shown(user="root") == [("second", "yank release")]
    assert shown(kind="yank") == [("second", "yank release")]
    assert shown(q="first") and all(name == "first" for name, _ in shown(q="first"))
    today = JournalEntry.objects.latest("id").submitted_date
    dated = shown(submitted_date__year=str(today.year), submitted_date__month=str(today.month),
                  submitted_date__day=str(today.day))
    assert len(dated) == JournalEntry.objects.count()


def test_project_changelist_annotates_in_constant_queries(
    admin_client, django_assert_max_num_queries
):
    alice = create_user("alice")
    for n in range(6):
        publish(f"proj{n}", "1.0", owner=alice)
        publish(f"proj{n}", "2.0")
    Release.objects.filter(project__name="proj3", version="1.0").update(yanked=True)
    url = reverse("admin:packages_project_changelist")

    with django_assert_max_num_queries(12):
        response = admin_client.get(url)

    rows = {p.name: p for p in response.context["cl"].result_list}
    assert rows["proj0"]._releases == 2 and rows["proj0"]._files == 4
    assert rows["proj0"]._last_upload == File.objects.filter(
        release__project__name="proj0").latest("upload_time").upload_time
    assert "alice" in response.content.decode()
    yanked = admin_client.get(url, {"has_yanked": "yes"}).context["cl"].result_list
    assert [p.name for p in yanked] == ["proj3"]


def test_project_search_finds_normalized_and_look_alike_names(admin_client):
    create_project("Django-Tools")
    create_project("other")
    url = reverse("admin:packages_project_changelist")
    for term in ("django_tools", "DJANGO.TOOLS", "djang0_t00ls", "djangotools"):
        found = admin_client.get(url, {"q": term}).context["cl"].result_list
        assert [p.name for p in found] == ["Django-Tools"], term


def test_frozen_and_pending_filters(admin_client):
    create_project("archived-one", status="archived")
    create_project("quarantined-one", status="quarantined")
    create_project("pending-one", status="pending")
    create_project("active-one")
    url = reverse("admin:packages_project_changelist")

    def names(**params):
        return sorted(p.name for p in admin_client.get(url, params).context["cl"].result_list)

    assert names(frozen="yes") == ["archived-one", "quarantined-one"]
    assert names(pending="yes") == ["pending-one"]
    assert names(status__exact="active") == ["active-one"]


def test_tokens_are_listed_on_the_user_with_last_use_and_revoked_with_confirmation(
    admin_client, client
):
    alice = create_user("alice")
    token, plaintext = create_token(alice, description="laptop")
    publish("mine", "1.0", owner=alice)
    assert upload_wheel(client, plaintext, "mine", "2.0").status_code == 200
    token.refresh_from_db()
    assert token.last_used is not None

    user_page = admin_client.get(reverse("admin:auth_user_change", args=[alice.pk]))
    body = user_page.content.decode()
    assert token.identifier in body and "laptop" in body
    secret = plaintext.split("_", 2)[2]  # isk_<identifier>_<secret>; the secret may hold "_"
    assert secret not in body and token.secret_hash not in body

    page = confirm(admin_client, "apitoken", "revoke_selected", [token])

    assert "last used" in page
    assert find_active_token(plaintext) is None
    assert ApiToken.objects.get().revoked is not None
    assert upload_wheel(client, plaintext, "mine", "3.0").status_code == 403


def test_the_dashboard_shows_counts_chart_uploads_and_queues(admin_client):
    from packages.upstream.models import Upstream, UpstreamApproval

    publish("charted", "1.0")
    create_project("waiting", status="pending")
    upstream = Upstream.objects.create(name="pypi", simple_url="https://pypi.org/simple/")
    UpstreamApproval.objects.create(upstream=upstream, normalized_name="requests")

    index = admin_client.get(reverse("admin:index")).content.decode()
    assert reverse("admin:packages_dashboard") in index
    response = admin_client.get(reverse("admin:packages_dashboard"))

    assert response.status_code == 200
    body = response.content.decode()
    assert body.count('class="bar"') == 90 and "<svg" in body
    assert "2 upload(s)" in body  # today's bar: the wheel and the sdist
    assert "charted-1.0.tar.gz" in body and "waiting" in body and "requests" in body
    assert "<script" not in body.split('id="dashboard"')[1] and "http://cdn" not in body
    storage = Project.objects.get(name="charted").total_size
    assert response.context["storage_bytes"] == storage


def test_the_dashboard_needs_the_view_permission(client):
    client.force_login(create_user("staffer", is_staff=True))
    assert client.get(reverse("admin:packages_dashboard")).status_code == 403
