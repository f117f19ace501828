"""Access decisions are made on the path the URLconf routes (``path_info``), not
on ``request.path``: gunicorn takes ``SCRIPT_NAME`` from a request header when the
client is a trusted proxy (loopback by default), which prefixes ``request.path``
without changing the view that answers. Checked through real gunicorn."""

import json
import xmlrpc.client

import pytest
import requests

from tests.gunicorn_server import start_gunicorn

SETUP = """
import json
from packages.models import ConsumerBan, File
from tests.factories import publish
release = publish("secretpkg", "1.0")
wheel = File.objects.get(release=release, packagetype="bdist_wheel")
print(json.dumps({"file": "/packages/" + wheel.path, "wheel": wheel.filename}))
"""


@pytest.fixture(scope="module")
def private_server(tmp_path_factory):
    server = start_gunicorn(
        tmp_path_factory.mktemp("private"), setup=SETUP, INDEX_READ_AUTH="authenticated"
    )
    try:
        server.paths = json.loads(server.setup_output.strip().splitlines()[-1])
        yield server
    finally:
        server.stop()


def _read_urls(paths):
    return [
        "/simple/",
        "/simple/secretpkg/",
        paths["file"],
        paths["file"] + ".metadata",
        "/pypi/secretpkg/json",
        "/pypi/secretpkg/1.0/json",
        "/rss/updates.xml",
        "/rss/packages.xml",
        "/rss/project/secretpkg/releases.xml",
        "/project/secretpkg/",
        "/",
        "/api/openapi.json",
    ]


@pytest.mark.parametrize("script_name", ["/legacy", "/admin", "/static"])
def test_script_name_header_does_not_open_private_reads(private_server, script_name):
    for path in _read_urls(private_server.paths):
        # Without the header every read needs credentials: the baseline.
        assert requests.get(private_server.url + path, timeout=10).status_code == 401, path
        # With it, gunicorn strips the prefix from PATH_INFO: the same view answers,
        # and it must still ask for credentials.
        response = requests.get(
            private_server.url + script_name + path, headers={"SCRIPT_NAME": script_name},
            timeout=10, allow_redirects=False,
        )
        assert response.status_code == 401, (script_name, path, response.status_code)
        assert "secretpkg" not in response.text


def test_script_name_header_does_not_open_private_xmlrpc(private_server):
    body = xmlrpc.client.dumps(("secretpkg",), "package_releases")
    response = requests.post(
        private_server.url + "/legacy/pypi", data=body, timeout=10,
        headers={"SCRIPT_NAME": "/legacy", "Content-Type": "text/xml"},
    )
    assert response.status_code == 401
    assert "1.0" not in response.text


@pytest.fixture(scope="module")
def banning_server(tmp_path_factory):
    # The ban exists before the server starts (how a ban saved elsewhere reaches
    # running workers is tests/packages/test_consumer_bans_workers.py's subject).
    ban = "ConsumerBan.objects.create(user_agent_pattern='EvilBot', reason='scraping')\n"
    server = start_gunicorn(tmp_path_factory.mktemp("banned"), setup=SETUP + ban)
    try:
        server.paths = json.loads(server.setup_output.strip().splitlines()[-1])
        yield server
    finally:
        server.stop()


@pytest.mark.parametrize("script_name", ["/admin", "/static"])
def test_script_name_header_does_not_lift_a_ban(banning_server, script_name):
    headers = {"User-Agent": "EvilBot/1.0"}
    for path in _read_urls(banning_server.paths):
        assert requests.get(banning_server.url + path, headers=headers, timeout=10).status_code \
            == 403, path
        response = requests.get(
            banning_server.url + script_name + path, timeout=10, allow_redirects=False,
            headers={**headers, "SCRIPT_NAME": script_name},
        )
        assert response.status_code == 403, (script_name, path, response.status_code)
        assert "scraping" in response.text


def test_script_name_header_does_not_lift_a_ban_on_xmlrpc(banning_server):
    body = xmlrpc.client.dumps(("secretpkg",), "package_releases")
    response = requests.post(
        banning_server.url + "/admin/pypi", data=body, timeout=10,
        headers={"SCRIPT_NAME": "/admin", "Content-Type": "text/xml", "User-Agent": "EvilBot"},
    )
    # XML-RPC clients are answered with a Fault naming the prohibition.
    with pytest.raises(xmlrpc.client.Fault, match="prohibited"):
        xmlrpc.client.loads(response.content)


def test_reads_with_credentials_still_work_under_a_script_name(private_server):
    private_server.shell(
        "from django.contrib.auth import get_user_model\n"
        "get_user_model().objects.create_user('reader', password='a-long-read-password')\n"
    )
    response = requests.get(
        private_server.url + "/mirror/simple/secretpkg/", auth=("reader", "a-long-read-password"),
        headers={"SCRIPT_NAME": "/mirror"}, timeout=10,
    )
    assert response.status_code == 200
    assert "secretpkg" in response.text
    assert "private" in response.headers["Cache-Control"]
