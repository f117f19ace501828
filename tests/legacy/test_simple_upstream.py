# ruff: noqa: F811 (the upstream fixtures are imported, then requested by name)
"""/simple/<p>/, /simple/ and /packages/upstream/... answered through the upstream
proxy (packages.upstream): another instance of this index under gunicorn is the
upstream (tests/packages/upstream/conftest.py)."""

import base64
import hashlib
import json
import re

import pytest
import requests

from packages.upstream.models import (
    ApprovalState,
    UpstreamAllowance,
    UpstreamApproval,
    UpstreamFile,
)
from tests.factories import create_user, publish
from tests.packages.upstream.conftest import (  # noqa: F401 (fixtures)
    _no_fetch_left_claimed,
    _upstream_settings,
    real_index,
    real_upstream,
    scripted,
)
from tests.packages.upstream.servers import Reply
from tests.packages.upstream.test_pages import make_upstream

pytestmark = pytest.mark.django_db

JSON = "application/vnd.pypi.simple.v1+json"


def page_json(client, name: str):
    response = client.get(f"/simple/{name}/", HTTP_ACCEPT=JSON)
    assert response.status_code == 200, response.content
    return response, json.loads(response.content)


def download(client, url: str, **headers):
    response = client.get(url, **headers)
    # The test client closes a streamed response once it is read (a second close()
    # would send request_finished again and close the test's database connection).
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


def test_upstream_page_in_json_carries_everything_with_this_index_urls(client, real_upstream):
    make_upstream(real_upstream)
    response, page = page_json(client, "alpha")
    upstream_page = requests.get(real_upstream.target + "/simple/alpha/",
                                 headers={"Accept": JSON}, timeout=10).json()
    assert response["X-PyPI-Last-Serial"] == str(upstream_page["meta"]["_last-serial"])
    # Kept no longer than the copy is fresh (600 s from its fetch, a moment ago).
    assert 590 <= int(re.fullmatch(r"max-age=(\d+), public", response["Cache-Control"])[1]) <= 600
    assert page["name"] == "alpha" and page["versions"] == ["1.0", "2.0"]
    assert page["project-status"] == {"status": "active"}
    theirs = {f["filename"]: f for f in upstream_page["files"]}
    assert {f["filename"] for f in page["files"]} == set(theirs)
    for f in page["files"]:
        original = theirs[f["filename"]]
        assert f["url"].startswith("/packages/upstream/")  # this index's, never theirs
        assert f["hashes"] == original["hashes"]
        for key in ("size", "upload-time", "yanked", "requires-python", "core-metadata"):
            assert f[key] == original[key], key
    wheel = next(f for f in page["files"] if f["filename"] == "alpha-2.0-py3-none-any.whl")
    assert wheel["yanked"] == "broken build" and wheel["core-metadata"]["sha256"]
    assert client.get("/simple/Alpha/").status_code == 301


def test_upstream_page_in_html_and_its_status(client, real_upstream):
    make_upstream(real_upstream)
    html = client.get("/simple/alpha/").content.decode()
    assert 'href="/packages/upstream/' in html and 'data-yanked="broken build"' in html
    assert "data-core-metadata=\"sha256=" in html
    beta = client.get("/simple/beta/").content.decode()
    assert '<meta name="pypi:project-status" content="deprecated">' in beta
    assert 'content="use gamma"' in beta and 'data-requires-python="&gt;=3.8"' in beta
    assert client.get("/simple/hidden/").status_code == 404  # quarantined upstream
    assert client.get("/simple/nowhere/").status_code == 404


def test_etag_of_an_upstream_page_gives_304(client, real_upstream):
    make_upstream(real_upstream)
    first = client.get("/simple/alpha/")
    again = client.get("/simple/alpha/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304


def test_local_project_wins_and_merge_only_when_allowed(client, real_upstream):
    make_upstream(real_upstream)
    publish("shared", "0.5")
    _, page = page_json(client, "shared")
    assert page["versions"] == ["0.5"]
    assert all(f["url"].startswith("/packages/") and "/upstream/" not in f["url"]
               for f in page["files"])
    assert real_upstream.paths("/simple/") == []  # never asked
    UpstreamAllowance.objects.create(name="shared", allow_merge=True)
    _, page = page_json(client, "shared")
    assert page["versions"] == ["0.5", "1.0"]
    assert {"/upstream/" in f["url"] for f in page["files"]} == {True, False}


def test_index_lists_local_and_kept_upstream_projects(client, real_upstream):
    make_upstream(real_upstream)
    publish("mine", "1.0")
    before = client.get("/simple/", HTTP_ACCEPT=JSON)
    assert [p["name"] for p in json.loads(b"".join(before.streaming_content))["projects"]] == [
        "mine"]
    client.get("/simple/alpha/")
    data = json.loads(b"".join(client.get("/simple/", HTTP_ACCEPT=JSON).streaming_content))
    assert [p["name"] for p in data["projects"]] == ["mine", "alpha"]
    assert "_last-serial" not in data["projects"][1]
    html = b"".join(client.get("/simple/").streaming_content).decode()
    assert '<a href="/simple/alpha/">alpha</a>' in html and ">mine</a>" in html


def test_awaiting_approval_is_404_with_the_message(client, real_upstream):
    make_upstream(real_upstream, mode="approval")
    response = client.get("/simple/alpha/")
    assert response.status_code == 404
    assert "awaits approval" in response.reason_phrase
    assert b"awaits approval" in response.content
    UpstreamApproval.objects.update(state=ApprovalState.APPROVED)
    assert client.get("/simple/alpha/").status_code == 200


def test_unreachable_upstream_is_502_naming_it(client, scripted):
    make_upstream(scripted, "gone")
    scripted.stop()
    response = client.get("/simple/anything/")
    assert response.status_code == 502
    assert response.reason_phrase == "Upstream 'gone' could not be reached."
    assert response.content == b"Upstream 'gone' could not be reached.\n"


def test_upstream_file_is_downloaded_once_then_served_like_a_local_file(client, real_upstream):
    make_upstream(real_upstream)
    _, page = page_json(client, "alpha")
    wheel = next(f for f in page["files"] if f["filename"] == "alpha-1.0-py3-none-any.whl")
    first, body = download(client, wheel["url"])
    assert first.status_code == 200 and first.streaming
    assert hashlib.sha256(body).hexdigest() == wheel["hashes"]["sha256"]
    assert first["Content-Length"] == str(wheel["size"])
    assert UpstreamFile.objects.get(filename=wheel["filename"]).path
    fetched = len(real_upstream.paths("/packages/"))
    kept, again = download(client, wheel["url"])
    assert again == body and kept["ETag"] == f'"{wheel["hashes"]["sha256"]}"'
    assert kept["X-PyPI-File-Project"] == "alpha"
    part, chunk = download(client, wheel["url"], HTTP_RANGE="bytes=0-9")
    assert part.status_code == 206 and chunk == body[:10]
    assert download(client, wheel["url"], HTTP_IF_NONE_MATCH=kept["ETag"])[0].status_code == 304
    metadata, text = download(client, wheel["url"] + ".metadata")
    assert hashlib.sha256(text).hexdigest() == wheel["core-metadata"]["sha256"]
    assert len(real_upstream.paths("/packages/")) == fetched + 1  # the metadata only
    assert download(client, wheel["url"][:-4] + "x.whl")[0].status_code == 404


def test_file_with_a_wrong_hash_is_502_and_not_kept(client, scripted):
    page = {"meta": {"api-version": "1.1"}, "name": "evil", "files": [
        {"filename": "evil-1.0.tar.gz", "url": "/files/evil-1.0.tar.gz",
         "hashes": {"sha256": "cd" * 32}}]}
    scripted.routes["/simple/evil/"] = Reply(200, json.dumps(page).encode(),
                                             {"Content-Type": JSON})
    scripted.routes["/files/evil-1.0.tar.gz"] = Reply(200, b"not what was declared")
    make_upstream(scripted, "evil")
    _, served = page_json(client, "evil")
    response = client.head(served["files"][0]["url"])
    assert response.status_code == 502
    assert "Upstream 'evil' refused" in response.reason_phrase
    assert UpstreamFile.objects.get().path == ""


def test_private_reads_cover_upstream_pages_and_files(client, real_upstream, settings):
    make_upstream(real_upstream)
    settings.INDEX_READ_AUTH = "authenticated"
    create_user("reader", password="reader-password")
    assert client.get("/simple/alpha/").status_code == 401
    credentials = "Basic " + base64.b64encode(b"reader:reader-password").decode()
    response = client.get("/simple/alpha/", HTTP_ACCEPT=JSON, HTTP_AUTHORIZATION=credentials)
    assert response.status_code == 200 and "private" in response["Cache-Control"]
    url = json.loads(response.content)["files"][0]["url"]
    assert client.get(url).status_code == 401
    assert real_upstream.paths("/packages/") == []
    ok, _ = download(client, url, HTTP_AUTHORIZATION=credentials)
    assert ok.status_code == 200


def test_journal_rss_and_xmlrpc_stay_local(client, real_upstream):
    make_upstream(real_upstream)
    publish("mine", "1.0")
    client.get("/simple/alpha/")
    import xmlrpc.client

    body = xmlrpc.client.dumps((), "list_packages")
    listed = client.post("/pypi", body, content_type="text/xml")
    assert b"mine" in listed.content and b"alpha" not in listed.content
    serial = xmlrpc.client.dumps((), "changelog_last_serial")
    assert client.post("/pypi", serial, content_type="text/xml").status_code == 200
    changes = xmlrpc.client.dumps((0,), "changelog_since_serial")
    assert b"alpha" not in client.post("/pypi", changes, content_type="text/xml").content
    assert b"alpha" not in client.get("/rss/updates.xml").content
    assert b"alpha" not in client.get("/rss/packages.xml").content
