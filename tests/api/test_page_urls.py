"""Absolute URLs on the pages for people (install commands, the credentials hint,
the token snippets): INDEX_BASE_URL once it is set, else the address the request
reached (its Host checked against ALLOWED_HOSTS by Django)."""

import re

import pytest
import requests

from tests.factories import create_user, publish
from tests.gunicorn_server import start_gunicorn

pytestmark = pytest.mark.django_db

HOSTS = ["127.0.0.1:8765", "localhost:9000"]


@pytest.fixture
def unset(settings):
    """INDEX_BASE_URL left at its embedded default (whatever this run's environment says)."""
    settings.INDEX_BASE_URL = settings.INDEX_BASE_URL_DEFAULT


@pytest.fixture
def project(db):
    return publish("Url.Proj", "1.0").project


def install_line(page: str) -> str:
    return re.search(r'<pre class="install" id="install">([^<]*)</pre>', page).group(1)


def test_unset_the_install_command_names_the_host_reached(client, project, unset):
    for host in HOSTS:  # in turn: nothing answers one host with the other's page
        page = client.get("/project/url-proj/", HTTP_HOST=host).content.decode()
        assert install_line(page) == f"pip install --index-url http://{host}/simple/ url-proj"
        version = client.get("/project/url-proj/1.0/", HTTP_HOST=host).content.decode()
        assert install_line(version).endswith(f"http://{host}/simple/ url-proj==1.0")
        home = client.get("/", HTTP_HOST=host).content.decode()
        assert f"pip install --index-url http://{host}/simple/ PACKAGE" in home
        assert f"twine upload --repository-url http://{host}/legacy/" in home


def test_unset_the_scheme_follows_a_trusted_proxy_header(client, project, unset, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    page = client.get("/project/url-proj/", HTTP_HOST="localhost:9000",
                      HTTP_X_FORWARDED_PROTO="https").content.decode()
    assert install_line(page) == "pip install --index-url https://localhost:9000/simple/ url-proj"


def test_unset_a_host_not_allowed_is_refused(client, project, unset):
    assert client.get("/project/url-proj/", HTTP_HOST="evil.example:80").status_code == 400


def test_unset_the_token_snippets_and_credentials_hint_name_the_host(client, project, unset,
                                                                      settings):
    client.force_login(create_user("alice"))
    page = client.post("/account/tokens/", {"scope": "all", "permission": "read"},
                       HTTP_HOST="localhost:9000").content.decode()
    assert "repository = http://localhost:9000/legacy/" in page
    assert 'url = &quot;http://localhost:9000/simple/&quot;' in page
    assert re.search(r"index-url = http://__token__:[\w-]+@localhost:9000/simple/", page)
    settings.INDEX_READ_AUTH = "authenticated"
    create_user("reader", password="s3cret-password")
    from tests.legacy.upload_forms import basic

    page = client.get("/project/url-proj/", HTTP_HOST="127.0.0.1:8765",
                      HTTP_AUTHORIZATION=basic("reader", "s3cret-password")).content.decode()
    assert "http://__token__:&lt;token&gt;@127.0.0.1:8765/simple/" in page


def test_set_the_setting_wins_whatever_the_host(client, project, settings):
    settings.INDEX_BASE_URL = "https://pkgs.example.test/base"
    for host in HOSTS:
        page = client.get("/project/url-proj/", HTTP_HOST=host).content.decode()
        assert install_line(page) == (
            "pip install --index-url https://pkgs.example.test/base/simple/ url-proj")
        assert "https://pkgs.example.test/base/legacy/" in client.get("/", HTTP_HOST=host).content.decode()
    client.force_login(create_user("alice"))
    page = client.post("/account/tokens/", {"scope": "all", "permission": "read"},
                       HTTP_HOST="localhost:9000").content.decode()
    assert "repository = https://pkgs.example.test/base/legacy/" in page
    assert "localhost:9000" not in page


def test_a_real_server_without_the_setting_answers_each_host_with_its_own(tmp_path):
    """gunicorn on its own database, INDEX_BASE_URL absent (and the shared cache of
    this run, if any): the same page asked under two host names."""
    server = start_gunicorn(tmp_path, INDEX_BASE_URL=None,
                            setup="from tests.factories import publish\n"
                                  "publish('Url.Proj', '1.0')\n")
    try:
        port = server.url.rsplit(":", 1)[1]
        for host in [f"127.0.0.1:{port}", f"localhost:{port}", f"127.0.0.1:{port}"]:
            response = requests.get(f"{server.url}/project/url-proj/", headers={"Host": host},
                                    timeout=10)
            assert response.status_code == 200
            assert install_line(response.text) == (
                f"pip install --index-url http://{host}/simple/ url-proj")
    finally:
        server.stop()
