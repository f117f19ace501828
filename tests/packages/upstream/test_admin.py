"""The proxy's admin through the real admin views: the approval queue, refresh
and prefetch (Celery tasks queued after commit), dropping what is kept,
write-only upstream passwords, team owners' namespaces."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.urls import reverse
from django.utils import timezone

from packages.storage import distributions_storage
from packages.upstream.errors import UpstreamNotFound
from packages.upstream.models import (
    ApprovalState,
    ReservedName,
    Upstream,
    UpstreamApproval,
    UpstreamFile,
    UpstreamProject,
)
from packages.upstream.pages import resolve_project
from tests.packages.upstream.test_pages import make_upstream

pytestmark = pytest.mark.django_db


@pytest.fixture
def root_client(client):
    client.force_login(User.objects.create_superuser("root", "", "pw-root-123"))
    return client


def _action(client, model, action, ids, **extra):
    return client.post(reverse(f"admin:packages_{model}_changelist"),
                       {"action": action, "_selected_action": [str(i) for i in ids], **extra})


def test_curators_approve_and_refuse_from_the_queue(root_client, real_upstream):
    make_upstream(real_upstream, mode="approval")
    for name in ("alpha", "beta"):
        with pytest.raises(UpstreamNotFound):
            resolve_project(name)
    alpha, beta = (UpstreamApproval.objects.get(normalized_name=n) for n in ("alpha", "beta"))
    page = root_client.get(reverse("admin:packages_upstreamapproval_changelist"))
    assert b"alpha" in page.content and b"Pending" in page.content
    assert _action(root_client, "upstreamapproval", "approve", [alpha.pk]).status_code == 302
    assert _action(root_client, "upstreamapproval", "refuse", [beta.pk],
                   reason="unmaintained").status_code == 302
    alpha.refresh_from_db()
    beta.refresh_from_db()
    assert alpha.state == ApprovalState.APPROVED and alpha.decided_by.username == "root"
    assert beta.state == ApprovalState.REFUSED and beta.reason == "unmaintained"
    assert resolve_project("alpha").page.versions == ["1.0", "2.0"]
    with pytest.raises(UpstreamNotFound, match="unmaintained"):
        resolve_project("beta")


def test_refresh_and_prefetch_run_as_tasks_after_commit(
        root_client, real_upstream, django_capture_on_commit_callbacks):
    make_upstream(real_upstream)
    resolve_project("alpha")
    kept = UpstreamProject.objects.get()
    UpstreamProject.objects.update(checked_at=timezone.now() - timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _action(root_client, "upstreamproject", "refresh_now", [kept.pk])
    assert len(real_upstream.requests) == 1 and len(callbacks) == 1  # queued, not yet run
    callbacks[0]()
    kept.refresh_from_db()
    assert timezone.now() - kept.checked_at < timedelta(minutes=1)
    with django_capture_on_commit_callbacks(execute=True):
        _action(root_client, "upstreamproject", "prefetch_now", [kept.pk])
    rows = UpstreamFile.objects.filter(project=kept)
    assert rows.count() == 4 and all(row.path for row in rows)
    assert len(real_upstream.paths("/packages/")) == 4 + 2  # files and the wheels' metadata


def test_drop_deletes_kept_pages_and_copies(root_client, real_upstream):
    make_upstream(real_upstream)
    from packages.upstream.files import fetch_file

    wheel = resolve_project("alpha").page.files[0]
    fetch_file(wheel.path, stream=False)
    assert distributions_storage().exists(wheel.path)
    kept = UpstreamProject.objects.get()
    page = root_client.get(reverse("admin:packages_upstreamproject_changelist"))
    assert page.status_code == 200 and b"alpha" in page.content
    _action(root_client, "upstreamproject", "drop_selected", [kept.pk])
    assert not UpstreamProject.objects.exists() and not UpstreamFile.objects.exists()
    assert not distributions_storage().exists(wheel.path)


def test_upstream_password_is_write_only(root_client, scripted):
    data = {"name": "private", "simple_url": f"{scripted.url}/simple", "files_hosts": "",
            "username": "bot", "password": "pa55-secret", "priority": "5", "enabled": "on",
            "mode": "open"}
    response = root_client.post(reverse("admin:packages_upstream_add"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    upstream = Upstream.objects.get()
    assert upstream.password == "pa55-secret" and upstream.simple_url.endswith("/simple/")
    change = reverse("admin:packages_upstream_change", args=[upstream.pk])
    assert b"pa55-secret" not in root_client.get(change).content
    root_client.post(change, {**data, "password": "", "priority": "7"})
    upstream.refresh_from_db()
    assert upstream.password == "pa55-secret" and upstream.priority == 7
    bad = root_client.post(reverse("admin:packages_upstream_add"),
                           {**data, "name": "x", "simple_url": "https://u:p@example.invalid/"})
    assert b"not in the URL" in bad.content


def test_team_owner_reserves_only_namespaces_of_their_team(client):
    team, other = Group.objects.create(name="platform"), Group.objects.create(name="data")
    owner = User.objects.create_user("owner", password="pw-owner-123", is_staff=True)
    owner.groups.add(team)
    owner.user_permissions.add(*Permission.objects.filter(codename__endswith="reservedname"))
    ReservedName.objects.create(name="data", is_prefix=True, team=other)
    client.force_login(owner)
    url = reverse("admin:packages_reservedname_add")
    refused = client.post(url, {"name": "plat", "is_prefix": "on", "team": str(other.pk)})
    assert refused.status_code == 200 and not ReservedName.objects.filter(name="plat").exists()
    assert client.post(url, {"name": "plat", "is_prefix": "on", "team": str(team.pk)}
                       ).status_code == 302
    listing = client.get(reverse("admin:packages_reservedname_changelist")).content
    assert b"plat-*" in listing and b"data-*" not in listing
