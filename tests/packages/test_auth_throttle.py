"""Password logins cost one slow hash, so failures are throttled before any hash
(HTTP Basic: packages/access/throttle.py; the admin: django-axes) and a verified
password is not hashed again for a short while."""

import base64
import pickle
import time

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.core.cache import cache

from packages.curation.tokens import create_token
from tests.factories import create_user

LIMIT = 3
WINDOW = 300
PASSWORD = "reader-password-1"


class CountingHasher(PBKDF2PasswordHasher):
    """Django's production hasher (same algorithm), counting the hashes it computes."""

    runs = 0

    def encode(self, password, salt, iterations=None):
        CountingHasher.runs += 1
        return super().encode(password, salt, iterations)


@pytest.fixture(autouse=True)
def _throttled_private_index(settings):
    settings.INDEX_READ_AUTH = "authenticated"
    settings.INDEX_AUTH_FAILURE_LIMIT = LIMIT
    settings.INDEX_AUTH_FAILURE_WINDOW = WINDOW
    settings.INDEX_AUTH_VERIFIED_SECONDS = 60
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingHasher"]


@pytest.fixture
def cheap_hashes(monkeypatch):
    """Where only the number of hashes matters, not their cost (requested before
    the user is made, or its first login would re-hash to upgrade it)."""
    monkeypatch.setattr(CountingHasher, "iterations", 1000)


def hashes_during(action) -> int:
    return counted(action)[1]


def counted(action):
    """What ``action()`` returns and how many hashes it cost."""
    before = CountingHasher.runs
    result = action()
    return result, CountingHasher.runs - before


def basic(username: str, password: str) -> dict:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


def read(client, username="reader", password=PASSWORD, address="192.0.2.10"):
    return client.get("/simple/", REMOTE_ADDR=address, **basic(username, password))


@pytest.fixture
def reader(db):
    return create_user("reader", password=PASSWORD)


def test_locked_out_password_is_refused_with_429_before_any_hash(client, reader):
    """With the production hasher's full cost: the right password, sent after
    LIMIT wrong ones, is answered 429 without being hashed."""
    for _ in range(LIMIT):
        response, hashes = counted(lambda: read(client, password="wrong"))
        assert (response.status_code, hashes) == (401, 1)
    response, hashes = counted(lambda: read(client))
    assert (response.status_code, hashes) == (429, 0)
    assert 0 < int(response["Retry-After"]) <= WINDOW
    assert "Too many failed password attempts" in response.reason_phrase
    assert response.content.decode().startswith("Too many failed password attempts")
    assert "private" in response["Cache-Control"]


def test_lockout_by_username_holds_from_any_address(client, cheap_hashes, reader):
    for i in range(LIMIT):
        assert read(client, password="wrong", address=f"198.51.100.{i}").status_code == 401
    assert read(client, address="203.0.113.7").status_code == 429
    create_user("other", password="other-password")
    assert read(client, "other", "other-password", address="203.0.113.7").status_code == 200


def test_lockout_by_address_holds_for_any_username_but_not_for_tokens(client, cheap_hashes, reader):
    for i in range(LIMIT):
        assert read(client, f"guess{i}", "wrong", address="2001:db8::1").status_code == 401
    # The whole /64 is one client.
    assert read(client, address="2001:db8::2").status_code == 429
    assert read(client, address="2001:db8:0:1::2").status_code == 200
    token = create_token(reader, read_only=True)[1]
    response = client.get("/simple/", REMOTE_ADDR="2001:db8::1", **basic("__token__", token))
    assert response.status_code == 200


def test_success_clears_the_failure_counters(client, cheap_hashes, reader):
    for _ in range(2):
        for _ in range(LIMIT - 1):
            assert read(client, password="wrong").status_code == 401
        assert read(client).status_code == 200
    for _ in range(LIMIT):
        assert read(client, password="wrong").status_code == 401
    assert read(client).status_code == 429


def test_lockout_ends_after_the_window(client, cheap_hashes, reader, settings):
    settings.INDEX_AUTH_FAILURE_WINDOW = 2
    for _ in range(LIMIT):
        read(client, password="wrong")
    assert read(client).status_code == 429
    time.sleep(2.5)
    assert read(client).status_code == 200


def test_a_verified_password_is_hashed_once_for_100_reads(client, reader):
    def hundred_reads():
        for _ in range(100):
            assert read(client).status_code == 200

    assert hashes_during(hundred_reads) == 1


def test_password_change_or_deactivation_takes_effect_at_once(client, cheap_hashes, reader):
    assert hashes_during(lambda: read(client)) == 1
    assert hashes_during(lambda: read(client)) == 0  # remembered
    reader.set_password("a-new-password-2")
    reader.save()
    assert read(client).status_code == 401
    assert read(client, password="a-new-password-2").status_code == 200
    reader.is_active = False
    reader.save()
    assert read(client, password="a-new-password-2").status_code == 401


def test_the_cache_never_holds_a_password_or_its_hash(client, cheap_hashes, reader, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "auth-throttle-scan",
        }
    }
    from django.core.cache.backends.locmem import _caches

    read(client, password="wrong-guess-xyz")
    assert read(client).status_code == 200
    stored = _caches["auth-throttle-scan"]
    assert any(key.startswith(":1:auth-") for key in stored)
    reader.refresh_from_db()
    for key, value in stored.items():
        blob = key.encode() + value + repr(pickle.loads(value)).encode()
        for secret in (PASSWORD, "wrong-guess-xyz", reader.password, "reader"):
            assert secret.encode() not in blob
    cache.clear()


def test_password_uploads_are_throttled_too(client, cheap_hashes, reader, settings):
    settings.INDEX_ALLOW_PASSWORD_UPLOAD = True
    for _ in range(LIMIT):
        response = client.post("/legacy/", REMOTE_ADDR="192.0.2.10", **basic("reader", "wrong"))
        assert response.status_code == 403
    response = client.post("/legacy/", REMOTE_ADDR="192.0.2.10", **basic("reader", PASSWORD))
    assert response.status_code == 429
    assert response.reason_phrase.startswith("Too many failed password attempts")
    assert int(response["Retry-After"]) > 0


def admin_login(client, password, address="192.0.2.20"):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": "root", "password": password},
        REMOTE_ADDR=address,
    )


@pytest.fixture
def root(db, django_user_model):
    return django_user_model.objects.create_superuser("root", "", "root-password-1")


def test_admin_login_is_locked_out_with_429_even_with_the_right_password(client, cheap_hashes, root):
    assert admin_login(client, "root-password-1").status_code == 302  # works, and resets
    client.logout()
    for _ in range(LIMIT - 1):
        assert admin_login(client, "wrong").status_code == 200  # the form again, with an error
    assert admin_login(client, "wrong").status_code == 429
    response, hashes = counted(lambda: admin_login(client, "root-password-1"))
    assert (response.status_code, hashes) == (429, 0)
    assert 0 < int(response["Retry-After"]) <= WINDOW
    assert "Too many failed login attempts" in response.reason_phrase
    assert b"Too many failed login attempts" in response.content
    assert "_auth_user_id" not in client.session
    assert "root-password-1" not in repr(list(AccessAttempt.objects.values()))


def test_admin_lockout_counts_the_address_behind_trusted_proxies(client, cheap_hashes, root, settings):
    settings.INDEX_TRUSTED_PROXY_HOPS = 1
    for i in range(LIMIT):
        # Each attempt claims another address on the left; the proxy's entry counts.
        client.post(
            "/admin/login/",
            {"username": f"nobody{i}", "password": "wrong"},
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{i}, 192.0.2.30",
        )
    locked = client.post(
        "/admin/login/", {"username": "root", "password": "root-password-1"},
        REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.30",
    )
    assert locked.status_code == 429
    other = client.post(
        "/admin/login/", {"username": "root", "password": "root-password-1"},
        REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.31",
    )
    assert other.status_code == 302
