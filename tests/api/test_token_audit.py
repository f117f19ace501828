"""Tokens made or revoked at /account/tokens/ leave an entry in Django's admin
history (on the token and on its user's page), naming the token by identifier
and description, never its secret."""

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from packages.models import ApiToken
from tests.factories import create_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(db):
    return create_user("alice")


@pytest.fixture
def signed_in(client, alice):
    client.force_login(alice)
    return client


def entries(obj):
    return list(LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk),
    ).order_by("pk"))


def create(client) -> tuple[ApiToken, str]:
    page = client.post("/account/tokens/", {
        "description": "laptop", "scope": "all", "permission": "upload",
    }).content.decode()
    secret = page.split('<pre id="token-secret">')[1].split("</pre>")[0]
    return ApiToken.objects.get(), secret


def random_part(plaintext: str) -> str:
    # isk_<identifier>_<secret>: the secret itself may hold "_" (urlsafe base64).
    return plaintext.split("_", 2)[2]


def assert_no_secret(secret: str):
    hidden = random_part(secret)
    for entry in LogEntry.objects.all():
        assert hidden not in repr(vars(entry))


def test_creation_is_in_the_admin_history(signed_in, alice):
    token, secret = create(signed_in)
    label = f'isk_{token.identifier} "laptop"'
    [on_token] = entries(token)
    [on_user] = entries(alice)
    assert (on_token.user, on_token.action_flag) == (alice, ADDITION)
    assert (on_user.user, on_user.action_flag) == (alice, CHANGE)
    message = f"Created API token {label} (upload, all projects)."
    assert on_token.change_message == on_user.change_message == message
    assert_no_secret(secret)


def test_revocation_is_in_the_admin_history_and_the_user_page_shows_it(signed_in, alice,
                                                                       admin_client):
    token, secret = create(signed_in)
    response = signed_in.post(f"/account/tokens/{token.pk}/revoke/")
    assert response.status_code == 303
    assert 'Token laptop revoked.' in signed_in.get("/account/tokens/").content.decode()

    message = f'Revoked API token isk_{token.identifier} "laptop".'
    revoked_on_token = entries(token)[-1]
    revoked_on_user = entries(alice)[-1]
    for entry in (revoked_on_token, revoked_on_user):
        assert (entry.user, entry.action_flag, entry.change_message) == (alice, CHANGE, message)
    assert_no_secret(secret)
    # What a curator opens: the user's history, who did what and when.
    history = admin_client.get(reverse("admin:auth_user_history", args=[alice.pk]))
    page = history.content.decode()
    assert history.status_code == 200
    assert f"Revoked API token isk_{token.identifier} &quot;laptop&quot;." in page
    assert random_part(secret) not in page


def test_revoking_twice_logs_once(signed_in, alice):
    token, _ = create(signed_in)
    signed_in.post(f"/account/tokens/{token.pk}/revoke/")
    signed_in.post(f"/account/tokens/{token.pk}/revoke/")
    assert [e.change_message.split(" ")[0] for e in entries(alice)] == ["Created", "Revoked"]
