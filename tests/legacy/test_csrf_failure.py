"""legacy.csrf.csrf_failure: a POST to a URL other than /legacy/ (an upload
client given the index root or /simple/) is told where uploads go, rather than
getting Django's bare "403 Forbidden"; the admin's forms keep Django's page."""

import pytest
from django.test import Client

from packages.curation.tokens import create_token
from tests.dists import make_wheel
from tests.factories import create_user
from tests.legacy.upload_forms import assert_nothing_stored, basic, encode_multipart, twine_fields

pytestmark = pytest.mark.django_db


@pytest.fixture
def csrf_client():
    # The test client skips CSRF checks unless asked; twine sends no token or cookie.
    return Client(enforce_csrf_checks=True)


def twine_post(client, path: str):
    token = create_token(create_user("alice"))[1]
    filename, content, metadata = make_wheel("hello", "1.0")
    body, ctype = encode_multipart(twine_fields(filename, content, metadata),
                                   [("content", filename, content, "application/octet-stream")])
    return client.generic("POST", path, body, content_type=ctype,
                          HTTP_AUTHORIZATION=basic("__token__", token))


@pytest.mark.parametrize("path", ["/", "/simple/", "/simple/hello/"])
def test_upload_to_another_url_names_the_upload_url(csrf_client, settings, path):
    settings.INDEX_BASE_URL = "https://index.example.org"

    response = twine_post(csrf_client, path)

    message = ("This URL does not accept uploads or other POST requests. Upload with twine "
               "(--repository-url) or uv publish (--publish-url) to "
               "https://index.example.org/legacy/")
    assert response.status_code == 403
    assert response.reason_phrase == message
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode() == message + "\n"
    assert_nothing_stored()


@pytest.mark.parametrize("form", ["/admin/login/", "/accounts/login/", "/account/tokens/",
                                  "/account/projects/demo/maintainers/"])
def test_browser_forms_keep_djangos_page_while_other_urls_name_the_upload_url(csrf_client, form):
    admin = csrf_client.post(form, {"username": "a", "password": "b"})
    simple = csrf_client.post("/simple/", {"username": "a", "password": "b"})

    assert admin.status_code == 403
    assert admin.reason_phrase == "Forbidden"
    assert b"CSRF verification failed" in admin.content
    assert simple.status_code == 403
    assert "/legacy/" in simple.reason_phrase
    assert b"CSRF verification failed" not in simple.content
