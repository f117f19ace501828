"""resolve_project against a real upstream index (another instance of this one,
under gunicorn), seen through a recording proxy."""

from datetime import timedelta

import pytest
from django.utils import timezone

from packages.upstream.errors import UpstreamNotFound, UpstreamTimeout, UpstreamUnavailable
from packages.upstream.models import (
    ApprovalState,
    ReservedName,
    Upstream,
    UpstreamAllowance,
    UpstreamApproval,
    UpstreamBlock,
    UpstreamCooldown,
    UpstreamFile,
    UpstreamProject,
)
from packages.upstream.pages import kept_project_names, resolve_project
from tests.factories import publish
from tests.packages.upstream.servers import Reply

pytestmark = pytest.mark.django_db


def make_upstream(server, name="real", **fields) -> Upstream:
    return Upstream.objects.create(name=name, simple_url=f"{server.url}/simple/", **fields)


def test_json_upstream_page_carries_everything(real_upstream):
    make_upstream(real_upstream)
    resolution = resolve_project("Alpha")
    assert resolution.source == "upstream"
    page = resolution.page
    assert page.upstream == "real" and page.name == "alpha" and page.status == "active"
    assert page.versions == ["1.0", "2.0"]
    assert page.last_serial and not page.stale
    wheel = next(f for f in page.files if f.filename == "alpha-2.0-py3-none-any.whl")
    assert wheel.yanked and wheel.yanked_reason == "broken build"
    assert wheel.size > 0 and wheel.upload_time is not None
    assert len(wheel.metadata_sha256) == 64 and len(wheel.sha256) == 64
    assert wheel.path == (f"packages/upstream/{wheel.sha256[:2]}/{wheel.sha256[2:4]}/"
                          f"{wheel.sha256[4:]}/alpha-2.0-py3-none-any.whl")
    assert wheel.url_path == "/" + wheel.path and not wheel.kept
    # The page was asked for as PEP 691 JSON.
    [seen] = real_upstream.requests
    assert seen.path == "/simple/alpha/"
    assert seen.headers["Accept"].startswith("application/vnd.pypi.simple.v1+json")
    assert kept_project_names() == ["alpha"]


def test_html_upstream_page(html_upstream):
    make_upstream(html_upstream)
    page = resolve_project("beta").page
    assert page.status == "deprecated" and page.status_reason == "use gamma"
    assert page.versions == ["1.0"]
    assert {f.filename for f in page.files} == {"beta-1.0-py3-none-any.whl", "beta-1.0.tar.gz"}
    wheel = next(f for f in page.files if f.filename.endswith(".whl"))
    assert wheel.requires_python == ">=3.8" and len(wheel.metadata_sha256) == 64
    assert wheel.upload_time is None and wheel.size is None  # HTML says neither


def test_kept_page_is_revalidated_with_its_etag(real_upstream, settings):
    make_upstream(real_upstream)
    resolve_project("alpha")
    resolve_project("alpha")  # fresh: no request
    assert len(real_upstream.requests) == 1
    UpstreamProject.objects.update(checked_at=timezone.now() - timedelta(hours=1))
    page = resolve_project("alpha").page
    second = real_upstream.requests[1]
    assert second.headers.get("If-None-Match") and second.status == 304
    assert page.versions == ["1.0", "2.0"]
    assert timezone.now() - UpstreamProject.objects.get().checked_at < timedelta(minutes=1)


def test_priority_order_and_404_moves_on(real_upstream, scripted):
    make_upstream(scripted, "first", priority=1)
    make_upstream(real_upstream, "second", priority=2)
    assert resolve_project("alpha").page.upstream == "second"
    assert scripted.paths() == ["/simple/alpha/"]


def test_other_failure_stops_the_search_with_502(real_upstream, scripted):
    scripted.routes["/simple/alpha/"] = Reply(500, b"oops")
    make_upstream(scripted, "first", priority=1)
    make_upstream(real_upstream, "second", priority=2)
    with pytest.raises(UpstreamUnavailable) as error:
        resolve_project("alpha")
    assert error.value.status == 502
    assert error.value.message == "Upstream 'first' answered 500."
    assert real_upstream.requests == []
    assert not UpstreamProject.objects.filter(gone=False).exists()


def test_slow_upstream_with_nothing_kept_is_504(scripted, settings):
    settings.INDEX_UPSTREAM_TIMEOUT = 1
    scripted.routes["/simple/alpha/"] = Reply(200, b"{}", delay=3)
    make_upstream(scripted, "slow")
    start = timezone.now()
    with pytest.raises(UpstreamTimeout) as error:
        resolve_project("alpha")
    assert error.value.status == 504 and "'slow'" in error.value.message
    assert timezone.now() - start < timedelta(seconds=2)


def test_stale_page_served_while_upstream_fails(real_upstream, scripted, caplog):
    upstream = make_upstream(real_upstream)
    resolve_project("alpha")
    # The upstream moves to a server that fails, and the page is due.
    scripted.routes["/simple/alpha/"] = Reply(503, b"down")
    Upstream.objects.filter(pk=upstream.pk).update(simple_url=f"{scripted.url}/simple/")
    UpstreamProject.objects.update(checked_at=timezone.now() - timedelta(hours=1))
    page = resolve_project("alpha").page
    assert page.stale and page.versions == ["1.0", "2.0"]
    assert scripted.paths() == ["/simple/alpha/"]
    assert "serving the page of alpha" in caplog.text


def test_stale_page_too_old_is_502(real_upstream, scripted, settings):
    settings.INDEX_UPSTREAM_MAX_STALE = 60
    upstream = make_upstream(real_upstream)
    resolve_project("alpha")
    scripted.routes["/simple/alpha/"] = Reply(503, b"down")
    Upstream.objects.filter(pk=upstream.pk).update(simple_url=f"{scripted.url}/simple/")
    UpstreamProject.objects.update(checked_at=timezone.now() - timedelta(hours=1))
    with pytest.raises(UpstreamUnavailable):
        resolve_project("alpha")


def test_not_found_anywhere_is_remembered(real_upstream):
    make_upstream(real_upstream)
    assert resolve_project("nope").source == "none"
    assert resolve_project("nope").source == "none"
    assert real_upstream.paths() == ["/simple/nope/"]
    assert kept_project_names() == []


def test_reserved_names_are_never_looked_up(real_upstream):
    make_upstream(real_upstream)
    ReservedName.objects.create(name="alpha", is_prefix=True, reason="ours")
    ReservedName.objects.create(name="Beta", reason="ours too")
    for name in ("alpha", "alpha-tools", "beta"):
        resolution = resolve_project(name)
        assert resolution.source == "local" and resolution.page is None
    assert resolve_project("alphabet").source == "none"  # not under the prefix
    assert real_upstream.paths() == ["/simple/alphabet/"]


def test_local_files_win_unless_merge_is_allowed(real_upstream):
    make_upstream(real_upstream)
    publish("alpha", "0.1", sdist=False)
    assert resolve_project("alpha").source == "local"
    assert real_upstream.requests == []
    UpstreamAllowance.objects.create(name="alpha", allow_merge=True)
    resolution = resolve_project("alpha")
    assert resolution.source == "merged" and resolution.page.versions == ["1.0", "2.0"]


def test_quarantined_upstream_project_is_hidden(real_upstream):
    make_upstream(real_upstream)
    # This index's own pages hide a quarantined project (404)...
    assert resolve_project("hidden").source == "none"


def test_approval_mode_queues_once_then_serves(real_upstream, admin_user):
    make_upstream(real_upstream, mode="approval")
    for _ in range(2):
        with pytest.raises(UpstreamNotFound) as error:
            resolve_project("alpha")
        assert error.value.status == 404
        assert "awaits approval" in error.value.message
    approval = UpstreamApproval.objects.get()
    assert approval.normalized_name == "alpha" and approval.state == ApprovalState.PENDING
    UpstreamApproval.objects.update(state=ApprovalState.REFUSED, reason="licence")
    with pytest.raises(UpstreamNotFound, match="refused by this index's curators: licence"):
        resolve_project("alpha")
    UpstreamApproval.objects.update(state=ApprovalState.APPROVED)
    assert resolve_project("alpha").page.versions == ["1.0", "2.0"]


def test_blocked_project_and_blocked_versions(real_upstream):
    upstream = make_upstream(real_upstream)
    block = UpstreamBlock.objects.create(name="Alpha", reason="malware", upstream=upstream)
    with pytest.raises(UpstreamNotFound, match="blocked on this index: malware"):
        resolve_project("alpha")
    block.specifier = "==2.0"
    block.save()
    page = resolve_project("alpha").page
    assert page.versions == ["1.0"]
    assert all(f.version == "1.0" for f in page.files)


def test_cooldown_uses_upload_time(real_upstream, settings):
    settings.INDEX_UPSTREAM_COOLDOWN = 3600
    upstream = make_upstream(real_upstream)
    assert resolve_project("alpha").page.versions == ["1.0"]  # 2.0 is minutes old
    UpstreamCooldown.objects.create(name="alpha", exempt=True)
    assert resolve_project("alpha").page.versions == ["1.0", "2.0"]
    UpstreamCooldown.objects.all().delete()
    Upstream.objects.filter(pk=upstream.pk).update(cooldown_seconds=0)  # the upstream's own
    assert resolve_project("alpha").page.versions == ["1.0", "2.0"]
    Upstream.objects.filter(pk=upstream.pk).update(cooldown_seconds=5 * 86400)
    # A day: 2.0 (uploaded when the session's upstream started) stays younger
    # however long the run; 1.0 (two days old) passes, which 5 days would not.
    UpstreamCooldown.objects.create(name="alpha", min_age_seconds=86400, upstream=upstream)
    assert resolve_project("alpha").page.versions == ["1.0"]


def test_cooldown_uses_first_seen_without_upload_time(html_upstream, settings):
    settings.INDEX_UPSTREAM_COOLDOWN = 3600
    make_upstream(html_upstream)
    page = resolve_project("alpha").page
    assert page.files == [] and page.versions == []  # never seen before
    UpstreamFile.objects.filter(filename__contains="-1.0").update(
        first_seen=timezone.now() - timedelta(hours=2))
    assert resolve_project("alpha").page.versions == ["1.0"]
