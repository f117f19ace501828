"""Accounts: log in with Django's auth views, then create, list and revoke API
tokens at /account/tokens/; the secret appears once, in the creating answer only."""

import base64
import datetime as dt
import logging

import pytest
from django.utils import timezone

from packages.curation.tokens import find_active_token, token_scope_error
from packages.models import ApiToken
from tests.factories import create_project, create_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(db):
    return create_user("alice", password="s3cret-password")


@pytest.fixture
def signed_in(client, alice):
    response = client.post("/accounts/login/",
                           {"username": "alice", "password": "s3cret-password"})
    assert response.status_code == 302 and response["Location"] == "/account/tokens/"
    return client


def test_token_pages_need_a_login(client, alice):
    response = client.get("/account/tokens/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/account/tokens/"
    assert client.post("/account/tokens/", {"scope": "all", "permission": "upload"}).status_code == 302
    assert not ApiToken.objects.exists()
    page = client.get("/accounts/login/").content.decode()
    assert 'name="username"' in page and 'name="password"' in page
    bad = client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
    assert bad.status_code == 200 and b'id="login-error"' in bad.content


def test_create_all_projects_upload_token_shows_the_secret_once(signed_in, alice, caplog, settings):
    settings.INDEX_BASE_URL = "https://pkgs.example.test"
    caplog.set_level(logging.DEBUG)
    response = signed_in.post("/account/tokens/", {
        "description": "laptop", "scope": "all", "permission": "upload", "expires_in_days": "",
    })
    assert response.status_code == 200
    token = ApiToken.objects.get(user=alice)
    page = response.content.decode()
    secret = page.split('<pre id="token-secret">')[1].split("</pre>")[0]
    assert find_active_token(secret) == token
    assert not token.read_only and token.expires is None and not token.projects.exists()
    assert token.description == "laptop"
    # the snippets carry it, ready to paste
    assert f"password = {secret}" in page  # .pypirc
    assert "repository = https://pkgs.example.test/legacy/" in page
    assert f"UV_INDEX_INDEXSITE_PASSWORD={secret}" in page
    assert f"poetry config http-basic.indexsite __token__ {secret}" in page
    assert f"index-url = https://__token__:{secret}@pkgs.example.test/simple/" in page
    assert "no-store" in response["Cache-Control"]
    # nowhere else: not in a cookie, the session, the log, or the next page
    assert all(secret not in morsel.value for morsel in response.cookies.values())
    assert all(secret not in morsel.value for morsel in signed_in.cookies.values())
    assert secret not in str(dict(signed_in.session))
    assert secret not in caplog.text
    listing = signed_in.get("/account/tokens/").content.decode()
    assert secret not in listing and token.identifier in listing and "laptop" in listing


def test_create_selected_read_only_expiring_token(signed_in, alice):
    mine = create_project("mine", owner=alice)
    other = create_project("other", owner=create_user("bob"))
    response = signed_in.post("/account/tokens/", {
        "scope": "selected", "projects": [mine.pk], "permission": "read", "expires_in_days": "30",
    })
    assert response.status_code == 200
    token = ApiToken.objects.get(user=alice)
    assert list(token.projects.all()) == [mine] and token.read_only
    expected = timezone.now() + dt.timedelta(days=30)
    assert abs(token.expires - expected) < dt.timedelta(minutes=1)
    assert token_scope_error(token, mine, write=False) is None
    assert token_scope_error(token, mine, write=True) is not None
    assert token_scope_error(token, other, write=False) is not None
    # someone else's project cannot be chosen
    refused = signed_in.post("/account/tokens/", {
        "scope": "selected", "projects": [other.pk], "permission": "upload",
    })
    assert refused.status_code == 400 and ApiToken.objects.count() == 1
    assert refused.reason_phrase == "The token form has errors"


@pytest.mark.parametrize("data", [
    {"scope": "selected", "permission": "upload"},  # no project chosen
    {"scope": "everything", "permission": "upload"},
    {"scope": "all", "permission": "admin"},
    {"scope": "all", "permission": "upload", "expires_in_days": "0"},
    {"scope": "all", "permission": "upload", "expires_in_days": "soon"},
    {"scope": "all", "permission": "upload", "description": "x" * 256},
])
def test_bad_forms_are_400_and_create_nothing(signed_in, data):
    response = signed_in.post("/account/tokens/", data)
    assert response.status_code == 400
    assert b'class="errorlist' in response.content
    assert not ApiToken.objects.exists()


def test_revoke(signed_in, alice, client):
    signed_in.post("/account/tokens/", {"scope": "all", "permission": "upload"})
    token = ApiToken.objects.get()
    response = signed_in.post(f"/account/tokens/{token.pk}/revoke/")
    assert response.status_code == 303 and response["Location"] == "/account/tokens/"
    token.refresh_from_db()
    assert token.revoked is not None
    assert "revoked" in signed_in.get("/account/tokens/").content.decode()
    assert signed_in.get(f"/account/tokens/{token.pk}/revoke/").status_code == 405


def test_cannot_see_or_revoke_someone_elses_token(signed_in):
    from packages.curation.tokens import create_token

    bobs, _ = create_token(create_user("bob"), description="bob's laptop")
    assert "bob&#x27;s laptop" not in signed_in.get("/account/tokens/").content.decode()
    assert signed_in.post(f"/account/tokens/{bobs.pk}/revoke/").status_code == 404
    bobs.refresh_from_db()
    assert bobs.revoked is None


def test_a_created_token_reads(signed_in, alice, settings):
    """The secret really works as a credential (read auth here)."""
    page = signed_in.post("/account/tokens/", {"scope": "all", "permission": "read"}).content.decode()
    settings.INDEX_READ_AUTH = "authenticated"
    secret = page.split('<pre id="token-secret">')[1].split("</pre>")[0]
    auth = "Basic " + base64.b64encode(f"__token__:{secret}".encode()).decode()
    from django.test import Client

    assert Client().get("/simple/").status_code == 401
    assert Client().get("/simple/", HTTP_AUTHORIZATION=auth).status_code == 200


def test_with_private_reads_a_person_can_still_log_in_to_make_a_token(client, settings, db):
    settings.INDEX_READ_AUTH = "authenticated"
    assert client.get("/simple/").status_code == 401
    assert client.get("/accounts/login/").status_code == 200
    response = client.get("/account/tokens/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
