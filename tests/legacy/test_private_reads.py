"""INDEX_READ_AUTH=authenticated: every read of the simple API and of files needs
HTTP Basic credentials, and pip sends them from the index URL."""

import base64
import subprocess

import pytest

from packages.curation.tokens import create_token, revoke_token
from tests.client_env import BIN, client_env
from tests.factories import create_user, publish

CLIENT_ENV = client_env()



def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


@pytest.fixture(autouse=True)
def _private(settings):
    settings.INDEX_READ_AUTH = "authenticated"


@pytest.fixture
def reader(db):
    return create_user("reader", password="reader-password")


@pytest.fixture
def read_token(reader) -> str:
    return create_token(reader, read_only=True)[1]


@pytest.fixture
def wheel_url(db):
    release = publish("secret-pkg", "1.0", sdist=False)
    return "/" + release.files.get().path


@pytest.mark.parametrize("path", ["/simple/", "/simple/secret-pkg/", "/simple/Secret.Pkg/"])
def test_reads_without_credentials_get_401_with_basic_challenge(client, wheel_url, path):
    response = client.get(path)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Basic ")
    assert b"secret" not in response.content


def test_files_and_metadata_need_credentials_too(client, wheel_url, read_token):
    for url in (wheel_url, wheel_url + ".metadata"):
        assert client.get(url).status_code == 401
        assert client.head(url).status_code == 401
        ok = client.get(url, HTTP_AUTHORIZATION=basic("__token__", read_token))
        assert ok.status_code == 200


def test_read_only_token_reads_and_pages_are_private(client, wheel_url, read_token):
    response = client.get("/simple/secret-pkg/", HTTP_AUTHORIZATION=basic("__token__", read_token))
    assert response.status_code == 200
    assert b"secret_pkg-1.0-py3-none-any.whl" in response.content
    assert response["Cache-Control"] == "max-age=600, private"


def test_json_documents_need_credentials_and_are_private(client, wheel_url, read_token):
    assert client.get("/pypi/secret-pkg/json").status_code == 401
    for _ in range(2):  # built, then answered from the cache
        response = client.get(
            "/pypi/secret-pkg/json", HTTP_AUTHORIZATION=basic("__token__", read_token)
        )
        assert response.status_code == 200
        assert response["Cache-Control"] == "max-age=900, private"
    assert client.get("/pypi/secret-pkg/json").status_code == 401
    redirect = client.get("/pypi/Secret.Pkg/json", HTTP_AUTHORIZATION=basic("__token__", read_token))
    assert redirect.status_code == 301
    assert redirect["Cache-Control"] == "max-age=900, private"


def test_user_password_reads(client, wheel_url, reader):
    response = client.get("/simple/", HTTP_AUTHORIZATION=basic("reader", "reader-password"))
    assert response.status_code == 200


@pytest.mark.parametrize(
    "authorization",
    [basic("__token__", "isk_nope_nope"), basic("reader", "wrong"), "Basic !!!", "Bearer x"],
)
def test_wrong_credentials_are_refused(client, wheel_url, reader, authorization):
    response = client.get("/simple/secret-pkg/", HTTP_AUTHORIZATION=authorization)
    assert response.status_code == 401
    assert "WWW-Authenticate" in response


def test_revoked_token_is_refused(client, wheel_url, reader):
    token, plaintext = create_token(reader, read_only=True)
    revoke_token(token)
    response = client.get("/simple/", HTTP_AUTHORIZATION=basic("__token__", plaintext))
    assert response.status_code == 401


def test_public_index_needs_nothing(client, wheel_url, settings):
    settings.INDEX_READ_AUTH = "public"
    assert client.get("/simple/secret-pkg/").status_code == 200
    assert client.get(wheel_url).status_code == 200


@pytest.mark.clients
@pytest.mark.django_db(transaction=True)
def test_pip_with_credentials_in_the_index_url_installs(live_server, tmp_path, read_token):
    from packages.http.shared_cache import local_bodies

    local_bodies.clear()
    publish("secret-pkg", "1.0")
    host = live_server.url.removeprefix("http://")

    def download(index_url, dest):
        return subprocess.run(
            [str(BIN / "python"), "-m", "pip", "download", "-vv", "--no-deps", "--index-url", index_url,
             "-d", str(tmp_path / dest), "secret-pkg==1.0"],
            env=CLIENT_ENV, capture_output=True, text=True, timeout=120,
        )

    anonymous = download(f"http://{host}/simple/", "anon")
    assert anonymous.returncode != 0
    assert "401" in anonymous.stdout + anonymous.stderr
    authenticated = download(f"http://__token__:{read_token}@{host}/simple/", "auth")
    assert authenticated.returncode == 0, authenticated.stdout + authenticated.stderr
    assert sorted(p.name for p in (tmp_path / "auth").iterdir()) == [
        "secret_pkg-1.0-py3-none-any.whl"
    ]
