"""A real Varnish in front of the live server: responses are cached at the CDN
and a change purges exactly the keys it dirties (packages.cache.cdn + deploy/varnish.vcl)."""

import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings

from packages.curation.yanking import yank_release
from tests.conftest import require_external
from tests.factories import publish

VARNISHD = shutil.which("varnishd") or "/usr/sbin/varnishd"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def varnish(live_server, tmp_path):
    yield from _varnish(live_server, tmp_path)


@pytest.fixture
def varnish_without_loopback_purgers(live_server, tmp_path):
    """The shipped VCL with its purge ACL edited as the README says: only another
    network may purge, so this test (on loopback) may not."""
    def edit(vcl):
        start = vcl.index("acl purgers {")
        end = vcl.index("}", start)
        return vcl[:start] + 'acl purgers {\n    "192.0.2.0"/24;\n' + vcl[end:]

    yield from _varnish(live_server, tmp_path, edit)


def _varnish(live_server, tmp_path, edit=lambda vcl: vcl):
    require_external(Path(VARNISHD).exists(), "Debian's varnish (varnishd)")
    backend = urlsplit(live_server.url)
    vcl = edit((settings.BASE_DIR / "deploy" / "varnish.vcl").read_text())
    vcl = vcl.replace("@BACKEND_HOST@", backend.hostname).replace(
        "@BACKEND_PORT@", str(backend.port))
    (tmp_path / "index.vcl").write_text(vcl)
    port = _free_port()
    process = subprocess.Popen(
        [VARNISHD, "-F", "-j", "none", "-a", f"127.0.0.1:{port}", "-f",
         str(tmp_path / "index.vcl"), "-n", str(tmp_path / "varnish"), "-s", "malloc,32m",
         "-T", "none"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"varnishd did not start: {process.stdout.read().decode()}")
            time.sleep(0.1)
    yield url
    process.terminate()
    process.wait(timeout=10)


def _get(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.headers, response.read()


def test_varnish_caches_and_a_change_purges_only_its_project(varnish, settings):
    settings.INDEX_CDN_PURGE_URL = varnish + "/"
    release = publish("cdn-proj", "1.0")
    publish("bystander", "1.0")
    first, body = _get(f"{varnish}/simple/cdn-proj/")
    second, again = _get(f"{varnish}/simple/cdn-proj/")
    assert (first["X-Cache"], second["X-Cache"]) == ("MISS", "HIT") and body == again
    assert "project/cdn-proj" in second["Surrogate-Key"].split()
    _get(f"{varnish}/simple/bystander/")
    assert _get(f"{varnish}/simple/bystander/")[0]["X-Cache"] == "HIT"

    # The yank commits (live_server runs with real transactions), then its
    # purge task (eager here) sends PURGE for project/cdn-proj and all-projects.
    yank_release(release, reason="bad")
    headers, body = _get(f"{varnish}/simple/cdn-proj/")
    assert headers["X-Cache"] == "MISS"
    assert b'data-yanked="bad"' in body
    assert _get(f"{varnish}/simple/bystander/")[0]["X-Cache"] == "HIT"


def test_private_reads_are_never_cached_at_the_cdn(varnish):
    publish("secret-proj", "1.0")
    request = urllib.request.Request(
        f"{varnish}/simple/secret-proj/", headers={"Authorization": "Basic eDp5"})
    for _ in range(2):
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.headers["X-Cache"] == "MISS"


def _purge(url, key):
    request = urllib.request.Request(url + "/", method="PURGE", headers={"X-Purge-Key": key})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.parametrize("key", [".*", "project/.*", "(^|x)", "project/a b", "ALL-PROJECTS",
                                 "project/" + "a" * 201])
def test_a_purge_key_outside_the_grammar_is_refused(varnish, key):
    publish("kept", "1.0")
    _get(f"{varnish}/simple/kept/")
    assert _get(f"{varnish}/simple/kept/")[0]["X-Cache"] == "HIT"
    assert _purge(varnish, key) == 400
    assert _get(f"{varnish}/simple/kept/")[0]["X-Cache"] == "HIT"


def test_a_purge_key_of_the_grammar_purges(varnish):
    publish("gone", "1.0")
    _get(f"{varnish}/simple/gone/")
    assert _purge(varnish, "project/gone") == 200
    assert _get(f"{varnish}/simple/gone/")[0]["X-Cache"] == "MISS"


def test_only_addresses_in_the_purge_acl_may_purge(varnish_without_loopback_purgers):
    varnish = varnish_without_loopback_purgers
    publish("guarded", "1.0")
    _get(f"{varnish}/simple/guarded/")
    assert _purge(varnish, "project/guarded") == 405
    assert _get(f"{varnish}/simple/guarded/")[0]["X-Cache"] == "HIT"
