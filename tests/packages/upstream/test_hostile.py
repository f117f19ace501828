"""Hostile or broken upstreams get nothing in: a clear 502/504 naming the
upstream, nothing kept. Credentials go to the upstream's own origin only."""

import base64
import hashlib
import json
import time

import pytest

from packages.upstream.errors import HostileUpstream, UpstreamTimeout, UpstreamUnavailable
from packages.upstream.files import FileStream, fetch_file
from packages.upstream.models import UpstreamFile, UpstreamProject
from packages.upstream.pages import resolve_project
from tests.packages.upstream.servers import Reply
from tests.packages.upstream.test_pages import make_upstream

pytestmark = pytest.mark.django_db

JSON = {"Content-Type": "application/vnd.pypi.simple.v1+json"}
SHA = "cd" * 32


def json_page(*files, **extra) -> bytes:
    return json.dumps({"meta": {"api-version": "1.1"}, "name": "evil", "files": list(files),
                       **extra}).encode()


def a_file(filename="evil-1.0.tar.gz", url=None, **extra) -> dict:
    return {"filename": filename, "url": url or f"/files/{filename}",
            "hashes": {"sha256": SHA}, **extra}


def assert_refused(match):
    with pytest.raises(HostileUpstream, match=match) as error:
        resolve_project("evil")
    assert error.value.status == 502 and "Upstream 'evil' refused" in error.value.message
    assert not UpstreamProject.objects.exists() and not UpstreamFile.objects.exists()


@pytest.mark.parametrize("filename", ["../evil-1.0.tar.gz", "a/evil-1.0.tar.gz",
                                      "evil-1.0.tar.gz\x00.whl", "..", "x\\evil-1.0.tar.gz"])
def test_filenames_with_a_path_are_refused(scripted, filename):
    scripted.routes["/simple/evil/"] = Reply(200, json_page(a_file(filename, "/f/x")), JSON)
    make_upstream(scripted, "evil")
    assert_refused("names a file")


def test_html_link_with_dotdot_is_refused(scripted):
    body = b'<a href="/files/..%2Fevil-1.0.tar.gz#sha256=' + SHA.encode() + b'">x</a>'
    scripted.routes["/simple/evil/"] = Reply(200, body, {"Content-Type": "text/html"})
    make_upstream(scripted, "evil")
    assert_refused("names a file")


def test_links_to_other_hosts_are_refused(scripted):
    scripted.routes["/simple/evil/"] = Reply(
        200, json_page(a_file(url="http://files.example.invalid/evil-1.0.tar.gz")), JSON)
    make_upstream(scripted, "evil")
    assert_refused(r"links to another host \(files.example.invalid\)")


def test_links_to_a_configured_files_host_are_followed_without_credentials(scripted,
                                                                           other_host):
    content = b"payload" * 1000
    sha = hashlib.sha256(content).hexdigest()
    scripted.routes["/simple/evil/"] = Reply(200, json_page(
        {"filename": "evil-1.0.tar.gz", "url": f"{other_host.url}/evil-1.0.tar.gz",
         "hashes": {"sha256": sha}}), JSON)
    other_host.routes["/evil-1.0.tar.gz"] = Reply(200, content)
    make_upstream(scripted, "evil", username="bot", password="pa55-secret",
                  files_hosts=f"localhost:{other_host.port}")
    [file] = resolve_project("evil").page.files
    assert fetch_file(file.path, stream=False).size == len(content)
    expected = "Basic " + base64.b64encode(b"bot:pa55-secret").decode()
    assert scripted.requests[0].headers["Authorization"] == expected
    assert "Authorization" not in other_host.requests[0].headers


def test_redirect_of_a_file_to_an_unconfigured_host_is_refused(scripted, other_host):
    scripted.routes["/simple/evil/"] = Reply(200, json_page(a_file()), JSON)
    scripted.routes["/files/evil-1.0.tar.gz"] = Reply(
        302, b"", {"Location": f"{other_host.url}/evil-1.0.tar.gz"})
    make_upstream(scripted, "evil", username="bot", password="pa55-secret")
    [file] = resolve_project("evil").page.files
    with pytest.raises(HostileUpstream, match="redirects to another host"):
        fetch_file(file.path)
    assert other_host.requests == []


def test_a_100_mb_page_is_refused_by_its_length(scripted):
    scripted.routes["/simple/evil/"] = Reply(
        200, None, {**JSON, "Content-Length": str(100 * 1024 * 1024)},
        writer=lambda out: out.write(b"[" * 1024))
    make_upstream(scripted, "evil")
    assert_refused("larger than")


def test_a_100_mb_page_without_length_is_cut_off(scripted, settings):
    settings.INDEX_UPSTREAM_MAX_PAGE_BYTES = 1024 * 1024
    sent = []

    def endless(out):
        for _ in range(100 * 16):  # 100 MB in 64 KB writes, unless cut off
            out.write(b" " * 65536)
            sent.append(1)

    scripted.routes["/simple/evil/"] = Reply(200, None, JSON, writer=endless)
    make_upstream(scripted, "evil")
    assert_refused("larger than 1048576 bytes")
    assert len(sent) < 100 * 16


def test_a_page_that_never_finishes_is_cut_at_the_deadline(scripted, settings):
    settings.INDEX_UPSTREAM_TIMEOUT = 1.5

    def dribble(out):
        for _ in range(600):
            out.write(b" ")
            out.flush()
            time.sleep(0.05)

    scripted.routes["/simple/evil/"] = Reply(200, None, JSON, writer=dribble)
    make_upstream(scripted, "evil")
    started = time.monotonic()
    with pytest.raises(UpstreamTimeout) as error:
        resolve_project("evil")
    assert time.monotonic() - started < 2.5
    assert error.value.status == 504 and "'evil'" in error.value.message
    assert not UpstreamProject.objects.exists()


def test_files_without_sha256_are_not_offered(scripted):
    no_hash = {"filename": "evil-2.0.tar.gz", "url": "/f/evil-2.0.tar.gz", "hashes": {}}
    md5_only = {"filename": "evil-3.0.tar.gz", "url": "/f/evil-3.0.tar.gz",
                "hashes": {"md5": "ab" * 16}}
    scripted.routes["/simple/evil/"] = Reply(200, json_page(a_file(), no_hash, md5_only), JSON)
    make_upstream(scripted, "evil")
    assert resolve_project("evil").page.versions == ["1.0"]


def test_quarantined_upstream_project_is_hidden(scripted):
    scripted.routes["/simple/evil/"] = Reply(200, json_page(
        a_file(), **{"project-status": {"status": "quarantined"}}), JSON)
    make_upstream(scripted, "evil")
    assert resolve_project("evil").source == "none"


def test_status_yank_and_metadata_pass_through_from_html(scripted):
    body = (
        '<html><head><meta name="pypi:project-status" content="archived">'
        '<meta name="pypi:project-status-reason" content="done &amp; dusted"></head><body>'
        f'<a href="/f/evil-1.0-py3-none-any.whl#sha256={SHA}" data-yanked="bad &lt;1&gt;" '
        f'data-core-metadata="sha256={"ef" * 32}" data-requires-python="&gt;=3.9">w</a>'
        f'<a href="/f/evil-1.1.tar.gz#sha256={SHA}" data-yanked>s</a>'
        "</body></html><!--SERIAL 42-->"
    ).encode()
    scripted.routes["/simple/evil/"] = Reply(200, body, {"Content-Type": "text/html"})
    make_upstream(scripted, "evil")
    page = resolve_project("evil").page
    assert (page.status, page.status_reason, page.last_serial) == ("archived", "done & dusted",
                                                                   42)
    wheel, sdist = page.files
    assert wheel.yanked and wheel.yanked_reason == "bad <1>"
    assert wheel.requires_python == ">=3.9" and wheel.metadata_sha256 == "ef" * 32
    assert sdist.yanked and sdist.yanked_reason == "" and sdist.metadata_sha256 == ""


def test_unauthorized_upstream_is_502_and_its_password_never_logged(scripted, caplog):
    scripted.routes["/simple/evil/"] = Reply(401, b"who are you")
    make_upstream(scripted, "evil", username="bot", password="pa55-secret")
    with pytest.raises(UpstreamUnavailable) as error:
        resolve_project("evil")
    assert error.value.message == "Upstream 'evil' refused access (401); check its credentials."
    assert "pa55-secret" not in caplog.text and "pa55-secret" not in error.value.message


def test_unreachable_upstream_is_502(scripted):
    make_upstream(scripted, "gone")
    scripted.stop()
    with pytest.raises(UpstreamUnavailable) as error:
        resolve_project("evil")
    assert error.value.status == 502
    assert error.value.message == "Upstream 'gone' could not be reached."


def test_file_whose_upstream_fails_is_502_and_nothing_kept(scripted):
    scripted.routes["/simple/evil/"] = Reply(200, json_page(a_file()), JSON)
    scripted.routes["/files/evil-1.0.tar.gz"] = Reply(500, b"boom")
    make_upstream(scripted, "evil")
    [file] = resolve_project("evil").page.files
    with pytest.raises(UpstreamUnavailable, match="answered 500"):
        fetch_file(file.path)
    assert UpstreamFile.objects.get().path == ""
    scripted.routes["/files/evil-1.0.tar.gz"] = Reply(200, b"not what was declared")
    stream = fetch_file(file.path)  # the lease was released
    assert isinstance(stream, FileStream)
    stream.close()


@pytest.mark.parametrize("name", ["/admin", "../etc", "a/b", "x%2f..", ""])
def test_names_that_are_not_project_names_never_reach_the_upstream(scripted, name):
    make_upstream(scripted, "evil", username="bot", password="pa55-secret")
    assert resolve_project(name).source == "none"
    assert scripted.requests == []


def test_files_of_other_projects_and_empty_yank_reasons(scripted):
    scripted.routes["/simple/evil/"] = Reply(200, json_page(
        a_file(yanked=""), a_file("requests-99.0-py3-none-any.whl"),
        a_file("evil_extra-1.0.tar.gz")), JSON)
    make_upstream(scripted, "evil")
    [file] = resolve_project("evil").page.files
    assert file.filename == "evil-1.0.tar.gz" and file.yanked and file.yanked_reason == ""
