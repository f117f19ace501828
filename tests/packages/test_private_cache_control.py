"""INDEX_READ_AUTH=authenticated: no shared cache may keep any answer, so every
read (pages for people, feeds, the OpenAPI document, errors) is Cache-Control
private, never public."""

import base64

import pytest

from packages.curation.tokens import create_token
from tests.factories import create_user, publish

READS = [
    "/simple/",
    "/simple/private-pkg/",
    "/pypi/private-pkg/json",
    "/pypi/private-pkg/1.0/json",
    "/rss/updates.xml",
    "/rss/packages.xml",
    "/rss/project/private-pkg/releases.xml",
    "/project/private-pkg/",
    "/",
    "/api/openapi.json",
    "/simple/no-such-project/",
    "/pypi/no-such-project/json",
]


@pytest.fixture
def auth_header(db, settings):
    settings.INDEX_READ_AUTH = "authenticated"
    publish("private-pkg", "1.0")
    secret = create_token(create_user("reader"), read_only=True)[1]
    return "Basic " + base64.b64encode(f"__token__:{secret}".encode()).decode()


@pytest.mark.parametrize("path", READS)
def test_every_read_is_private_with_credentials(client, auth_header, path):
    response = client.get(path, HTTP_AUTHORIZATION=auth_header)
    assert response.status_code in (200, 404)
    directives = {d.strip().split("=")[0] for d in response["Cache-Control"].split(",")}
    assert "private" in directives
    assert "public" not in directives
    # A CDN follows Surrogate-Control over Cache-Control: none may reach it.
    assert "Surrogate-Control" not in response and "Surrogate-Key" not in response


@pytest.mark.parametrize("path", READS[:3])
def test_the_challenge_is_private_too(client, auth_header, path):
    response = client.get(path)
    assert response.status_code == 401
    assert "private" in response["Cache-Control"]


@pytest.mark.parametrize("path", ["/rss/updates.xml", "/project/private-pkg/", "/"])
def test_public_index_keeps_its_public_pages_cacheable(client, db, path):
    publish("private-pkg", "1.0")
    response = client.get(path)
    assert "private" not in response.get("Cache-Control", "")
