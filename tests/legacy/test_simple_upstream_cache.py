# ruff: noqa: F811 (the upstream fixtures are imported, then requested by name)
"""Cached renderings of upstream pages (legacy/simple_pages.py, "cached upstream
and merged pages"): a warm upstream page costs what a warm local page costs, and
every curation change, every new kept copy, a cooldown's end and the
revalidation deadline still show on the very next request.

Each test first checks that the page is served from the cache (no query beyond
the local project's lookup, the upstream not asked), so that the change seen
next can only come through a purge or a deadline."""

import hashlib
import json
import re
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from packages.http import shared_cache
from packages.upstream.files import drop_kept
from packages.upstream.models import (
    ApprovalState,
    ReservedName,
    UpstreamAllowance,
    UpstreamApproval,
    UpstreamBlock,
    UpstreamCooldown,
    UpstreamProject,
)
from packages.upstream.pages import refresh_project
from tests.factories import publish
from tests.packages.upstream.conftest import (  # noqa: F401 (fixtures)
    _no_fetch_left_claimed,
    _upstream_settings,
    scripted,
)
from tests.packages.upstream.servers import Reply
from tests.packages.upstream.test_pages import make_upstream

# Committed for real: purges run after commit, as in production.
pytestmark = pytest.mark.django_db(transaction=True)

JSON = "application/vnd.pypi.simple.v1+json"
OLD = datetime.now(UTC) - timedelta(days=2)


def _file(name: str, version: str, uploaded: datetime | None = OLD, *, size=True) -> dict:
    filename = f"{name}-{version}.tar.gz"
    content = f"{filename} bytes".encode()
    entry = {"filename": filename, "url": f"/files/{filename}",
             "hashes": {"sha256": hashlib.sha256(content).hexdigest()}}
    if size:
        entry["size"] = len(content)
    if uploaded is not None:
        entry["upload-time"] = uploaded.isoformat().replace("+00:00", "Z")
    return entry


def serve_page(server, name: str, files: list[dict]) -> None:
    page = {"meta": {"api-version": "1.1"}, "name": name, "files": files}
    server.routes[f"/simple/{name}/"] = Reply(200, json.dumps(page).encode(),
                                              {"Content-Type": JSON})
    for entry in files:
        content = f"{entry['filename']} bytes".encode()
        server.routes[entry["url"]] = Reply(200, content)


def cooling_page(scripted, settings, ends_in: float) -> None:
    """demo 1.0, and 2.0 whose one-hour cooldown ends in ``ends_in`` seconds."""
    settings.INDEX_UPSTREAM_COOLDOWN = 3600
    almost = datetime.now(UTC) - timedelta(seconds=3600 - ends_in)
    serve_page(scripted, "demo", [_file("demo", "1.0"), _file("demo", "2.0", almost)])
    make_upstream(scripted, "up")


def versions(client, name: str = "demo"):
    """The page's versions, or its status code when it is not a 200."""
    response = client.get(f"/simple/{name}/", HTTP_ACCEPT=JSON)
    if response.status_code != 200:
        return response.status_code
    return json.loads(response.content)["versions"]


def page_queries(captured: CaptureQueriesContext) -> list[str]:
    # Not the consumer-ban middleware's check of its list's version, which it
    # makes now and then before any view, local pages' included.
    return [q["sql"] for q in captured.captured_queries
            if "consumerbanlistversion" not in q["sql"]]


def assert_served_from_cache(client, scripted, name: str = "demo"):
    """The page again: one query (the local project's lookup), the upstream not asked."""
    asked = len(scripted.requests)
    with CaptureQueriesContext(connection) as queries:
        page = versions(client, name)
    assert len(page_queries(queries)) <= 1, page_queries(queries)
    assert len(scripted.requests) == asked
    return page


@pytest.fixture
def demo(scripted):
    serve_page(scripted, "demo", [_file("demo", "1.0"), _file("demo", "2.0")])
    return make_upstream(scripted, "up")


def test_warm_upstream_page_costs_no_more_queries_than_a_warm_local_page(client, scripted,
                                                                           demo):
    publish("localpkg", "1.0")
    counts = {}
    for name in ("demo", "localpkg"):
        for accept in (JSON, "text/html"):
            client.get(f"/simple/{name}/", HTTP_ACCEPT=accept)  # warm
            with CaptureQueriesContext(connection) as queries:
                response = client.get(f"/simple/{name}/", HTTP_ACCEPT=accept)
            assert response.status_code == 200
            counts[name, accept] = len(page_queries(queries))
    assert counts["demo", JSON] <= counts["localpkg", JSON]
    assert counts["demo", "text/html"] <= counts["localpkg", "text/html"]
    assert scripted.paths("/simple/") == ["/simple/demo/"]  # fetched once


def test_cached_page_has_the_same_bytes_etag_and_headers(client, scripted, demo):
    first = client.get("/simple/demo/", HTTP_ACCEPT=JSON)
    again = client.get("/simple/demo/", HTTP_ACCEPT=JSON)
    assert again.content == first.content and again["ETag"] == first["ETag"]
    assert again["Surrogate-Key"] == "project/demo upstream-pages"
    # Kept no longer than the copy is fresh (600 s from its fetch, a moment ago).
    assert 590 <= int(re.fullmatch(r"max-age=(\d+), public", again["Cache-Control"])[1]) <= 600
    assert client.get("/simple/demo/", HTTP_ACCEPT=JSON,
                      HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    html = client.get("/simple/demo/")  # the other representation, cached apart
    assert html["Content-Type"] == "text/html; charset=UTF-8" and b"demo-2.0.tar.gz" in html.content
    assert client.get("/simple/demo/").content == html.content
    assert client.get("/simple/Demo/").status_code == 301


def test_a_project_block_and_its_removal_show_at_once(client, scripted, demo):
    assert versions(client) == ["1.0", "2.0"]
    assert_served_from_cache(client, scripted)
    block = UpstreamBlock.objects.create(name="Demo", reason="malware")
    assert versions(client) == 404
    block.delete()
    assert versions(client) == ["1.0", "2.0"]


def test_a_version_block_edited_or_renamed_shows_at_once(client, scripted, demo):
    versions(client)
    assert assert_served_from_cache(client, scripted) == ["1.0", "2.0"]
    block = UpstreamBlock.objects.create(name="demo", specifier="==2.0", reason="broken")
    assert versions(client) == ["1.0"]
    block.specifier = "<2"
    block.save()
    assert versions(client) == ["2.0"]
    block.name = "other"  # the name it no longer applies to is purged too
    block.save()
    assert versions(client) == ["1.0", "2.0"]


def test_approval_decided_in_the_admin_shows_at_once(client, scripted, settings):
    serve_page(scripted, "demo", [_file("demo", "1.0")])
    make_upstream(scripted, "up", mode="approval")
    assert versions(client) == 404  # queued
    root = User.objects.create_superuser("root", "", "pw-root-123")
    client.force_login(root)
    approval = UpstreamApproval.objects.get(normalized_name="demo")
    changelist = reverse("admin:packages_upstreamapproval_changelist")
    client.post(changelist, {"action": "approve", "_selected_action": [str(approval.pk)]})
    assert versions(client) == ["1.0"]
    assert_served_from_cache(client, scripted)
    client.post(changelist, {"action": "refuse", "_selected_action": [str(approval.pk)],
                             "reason": "unmaintained"})
    response = client.get("/simple/demo/", HTTP_ACCEPT=JSON)
    assert response.status_code == 404 and "unmaintained" in response.reason_phrase
    approval.refresh_from_db()
    approval.state = ApprovalState.APPROVED  # a save elsewhere (shell, another screen)
    approval.save()
    assert versions(client) == ["1.0"]
    approval.delete()
    assert versions(client) == 404  # queued again


def test_cooldown_override_and_exemption_show_at_once(client, scripted, settings):
    settings.INDEX_UPSTREAM_COOLDOWN = 3600
    just_now = datetime.now(UTC) - timedelta(minutes=1)
    serve_page(scripted, "demo", [_file("demo", "1.0"), _file("demo", "2.0", just_now)])
    make_upstream(scripted, "up")
    assert versions(client) == ["1.0"]
    assert_served_from_cache(client, scripted)
    exemption = UpstreamCooldown.objects.create(name="demo", exempt=True)
    assert versions(client) == ["1.0", "2.0"]
    assert_served_from_cache(client, scripted)
    exemption.exempt, exemption.min_age_seconds = False, 30
    exemption.save()
    assert versions(client) == ["1.0", "2.0"]  # a minute old passes 30 s
    exemption.min_age_seconds = 7200
    exemption.save()
    assert versions(client) == ["1.0"]
    exemption.delete()
    assert versions(client) == ["1.0"]


def test_upstream_row_changes_show_at_once(client, scripted, demo):
    assert versions(client) == ["1.0", "2.0"]
    assert_served_from_cache(client, scripted)
    demo.cooldown_seconds = 7 * 24 * 3600  # the upstream's own cooldown
    demo.save()
    assert versions(client) == []  # every file younger than a week
    demo.cooldown_seconds = None
    demo.enabled = False
    demo.save()
    assert versions(client) == 404
    demo.enabled = True
    demo.save()
    assert versions(client) == ["1.0", "2.0"]


def test_reserved_name_and_prefix_show_at_once(client, scripted, demo):
    versions(client)
    assert_served_from_cache(client, scripted)
    reserved = ReservedName.objects.create(name="demo")
    assert versions(client) == 404  # local only, and there is no local project
    reserved.delete()
    assert versions(client) == ["1.0", "2.0"]
    assert_served_from_cache(client, scripted)
    namespace = ReservedName.objects.create(name="demo", is_prefix=True)
    assert versions(client) == 404
    namespace.delete()
    assert versions(client) == ["1.0", "2.0"]


def test_merge_allowance_and_local_uploads_show_at_once(client, scripted, demo):
    assert versions(client) == ["1.0", "2.0"]
    publish("demo", "0.5")  # a local project with files: local only
    assert versions(client) == ["0.5"]
    allowance = UpstreamAllowance.objects.create(name="demo", allow_merge=True)
    assert versions(client) == ["0.5", "1.0", "2.0"]
    assert_served_from_cache(client, scripted)
    publish("demo", "3.0")  # journaled: the merged page moves with the local serial
    assert versions(client) == ["0.5", "1.0", "2.0", "3.0"]
    before = shared_cache.generation("project/demo")
    allowance.delete()
    assert shared_cache.generation("project/demo") == before + 1  # the CDN's copy too
    assert versions(client) == ["0.5", "3.0"]


def test_refreshed_page_with_new_files_shows_at_once(client, scripted, demo):
    versions(client)
    assert_served_from_cache(client, scripted)
    kept = UpstreamProject.objects.get()
    before = shared_cache.generation("project/demo")
    refresh_project(kept.pk)  # the upstream has not changed: nothing to purge
    assert shared_cache.generation("project/demo") == before
    serve_page(scripted, "demo", [_file("demo", "1.0"), _file("demo", "2.0"),
                                  _file("demo", "3.0")])
    refresh_project(kept.pk)  # the admin's "refresh", or a worker's
    assert versions(client) == ["1.0", "2.0", "3.0"]
    del scripted.routes["/simple/demo/"]  # gone upstream
    refresh_project(kept.pk)
    assert versions(client) == 404
    index = json.loads(b"".join(client.get("/simple/", HTTP_ACCEPT=JSON).streaming_content))
    assert index["projects"] == []


def test_dropped_page_is_fetched_again_on_the_next_request(client, scripted, demo):
    versions(client)
    assert_served_from_cache(client, scripted)
    serve_page(scripted, "demo", [_file("demo", "1.0"), _file("demo", "3.0")])
    drop_kept(UpstreamProject.objects.all())
    assert versions(client) == ["1.0", "3.0"]
    assert scripted.paths("/simple/") == ["/simple/demo/", "/simple/demo/"]


def test_size_of_a_kept_copy_shows_on_an_html_upstreams_page(client, scripted):
    entry = _file("demo", "1.0", None, size=False)
    html = (f'<a href="{entry["url"]}#sha256={entry["hashes"]["sha256"]}">'
            f'{entry["filename"]}</a>').encode()
    scripted.routes["/simple/demo/"] = Reply(200, html, {"Content-Type": "text/html"})
    scripted.routes[entry["url"]] = Reply(200, f"{entry['filename']} bytes".encode())
    make_upstream(scripted, "up")
    page = json.loads(client.get("/simple/demo/", HTTP_ACCEPT=JSON).content)
    assert page["files"][0]["size"] is None
    assert_served_from_cache(client, scripted)
    download = client.get(page["files"][0]["url"])
    body = b"".join(download.streaming_content)
    page = json.loads(client.get("/simple/demo/", HTTP_ACCEPT=JSON).content)
    assert page["files"][0]["size"] == len(body)


def test_file_appears_when_its_cooldown_ends_with_the_page_cached(client, scripted, settings):
    ends_in = 1.0  # well within the 2 s a process-local cache keeps a page
    started = time.monotonic()
    cooling_page(scripted, settings, ends_in)
    assert versions(client) == ["1.0"]
    assert assert_served_from_cache(client, scripted) == ["1.0"]
    time.sleep(max(ends_in + 0.2 - (time.monotonic() - started), 0))
    assert versions(client) == ["1.0", "2.0"]  # no purge: the cooldown's end
    assert len(scripted.paths("/simple/")) == 1  # and no new fetch for it
    assert assert_served_from_cache(client, scripted) == ["1.0", "2.0"]


def test_kept_page_is_revalidated_on_time_with_the_page_cached(client, scripted, settings):
    settings.INDEX_UPSTREAM_REVALIDATE = 1
    serve_page(scripted, "demo", [_file("demo", "1.0")])
    make_upstream(scripted, "up")
    assert versions(client) == ["1.0"]
    assert_served_from_cache(client, scripted)
    time.sleep(1.1)
    serve_page(scripted, "demo", [_file("demo", "1.0"), _file("demo", "1.1")])
    assert versions(client) == ["1.0", "1.1"]
    assert scripted.paths("/simple/") == ["/simple/demo/", "/simple/demo/"]


def test_stale_page_is_not_cached(client, scripted, settings, caplog):
    settings.INDEX_UPSTREAM_REVALIDATE = 1
    serve_page(scripted, "demo", [_file("demo", "1.0")])
    make_upstream(scripted, "up")
    assert versions(client) == ["1.0"]
    time.sleep(1.1)
    scripted.routes["/simple/demo/"] = Reply(503, b"down")
    assert versions(client) == ["1.0"]  # stale
    stale = client.get("/simple/demo/", HTTP_ACCEPT=JSON)
    assert json.loads(stale.content)["versions"] == ["1.0"]
    assert scripted.paths("/simple/") == ["/simple/demo/"] * 3  # each request tried again
    # No moment is known when it changes: kept in front for the usual time.
    assert stale["Cache-Control"] == "max-age=600, public"
    assert stale["Surrogate-Control"] == "max-age=600, stale-if-error=86400"
