"""Password logins over HTTP Basic: throttled failures and remembered successes.

A password check costs a deliberately slow hash (PBKDF2, ~0.5 s). With private
reads every pip request carries the password, so:

* failures are counted per client address (IPv6 per /64, which one host holds
  whole) and per username; after ``INDEX_AUTH_FAILURE_LIMIT`` failures within
  ``INDEX_AUTH_FAILURE_WINDOW`` seconds either one is locked for that long and
  password attempts answer 429 with ``Retry-After`` *before* any hash is
  computed. A success clears both counters.
* a verified (username, password) is remembered for ``INDEX_AUTH_VERIFIED_SECONDS``
  so that the next reads cost a cache lookup and one query for the user row,
  about what a token costs. The entry is keyed by an HMAC of the username and
  password under SECRET_KEY and holds the user id and Django's session auth hash
  (an HMAC of the stored password hash): a password change or a deactivation
  takes effect at the next request.

Nothing stored contains a password or a password hash. API tokens are neither
counted nor throttled: a token carries 256 random bits, so guessing is hopeless,
and a wrong token costs what a right one does (a SHA-256 and one indexed query);
counting them would only let one stale token in a CI job lock every password
user behind the same NAT address out.

The admin login form is throttled by django-axes with the same limits; the
functions at the end plug this project's client address and 429 page into it.
Counters live in Django's cache: shared Redis in production counts once for the
site; the embedded default's local memory counts per process (N workers allow
N times the limit). The cache being down switches the throttle and the memory
of successes off (every password is hashed again), rather than refusing every
read.
"""

import ipaddress
import logging
import math
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.http import HttpResponse
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.html import escape

from packages.access.bans import client_address
from packages.errors import DomainError
from packages.http.errors import error_response

logger = logging.getLogger(__name__)


class TooManyFailures(DomainError):
    status = 429

    def __init__(self, retry_after: int):
        super().__init__(
            "Too many failed password attempts from this address or for this username: "
            f"try again in {retry_after} seconds, or use the username __token__ with an "
            "API token."
        )
        self.retry_after = retry_after


def _digest(purpose: str, value: str) -> str:
    """A keyed hash (HMAC-SHA256 under SECRET_KEY): cache keys never carry a
    username, an address or a password an attacker could read back or test."""
    return salted_hmac(f"indexsite.auth_throttle.{purpose}", value, algorithm="sha256").hexdigest()


def _address_bucket(request) -> str:
    address = client_address(request)
    if address is None:
        return "unknown"
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _subjects(request, username: str) -> list[tuple[str, str]]:
    """(failure counter key, lock key) for the client address and the username."""
    digests = [_digest("address", _address_bucket(request)), _digest("username", username)]
    return [(f"auth-failures:{d}", f"auth-locked:{d}") for d in digests]


def _verified_key(username: str, password: str) -> str:
    # The length prefix keeps ("ab", "c") and ("a", "bc") apart.
    return "auth-verified:" + _digest("verified", f"{len(username)}:{username}{password}")


def verify_password(request, username: str, password: str):
    """The active user with this username and password, or None.

    Raises TooManyFailures while the address or the username is locked, without
    looking at the password. Django's ModelBackend is called directly: the
    admin's django-axes backend is not for these requests (it would write a
    database row per failed read and query on every read)."""
    subjects = _subjects(request, username)
    verified_key = _verified_key(username, password)
    try:
        # One round trip: counters, locks and a remembered verification.
        found = cache.get_many([key for subject in subjects for key in subject] + [verified_key])
    except Exception:
        logger.warning("Cache unavailable: password attempts are not throttled")
        found = {}
    locked_until = max((found.get(lock, 0) for _, lock in subjects), default=0)
    if locked_until > time.time():
        raise TooManyFailures(max(1, math.ceil(locked_until - time.time())))

    user = _remembered_user(found.get(verified_key), username)
    if user is None:
        user = ModelBackend().authenticate(request, username=username, password=password)
        if user is None:
            _record_failure(subjects)
            return None
        _remember(verified_key, user)
    if any(failures_key in found for failures_key, _ in subjects):
        _clear_failures(subjects)
    return user


def _remembered_user(entry, username: str):
    """The user a remembered verification names, if it still holds: same
    username, still active, password unchanged since."""
    if entry is None:
        return None
    user_id, auth_hash = entry
    user = get_user_model()._default_manager.filter(pk=user_id, is_active=True).first()
    if (
        user is None
        or user.get_username() != username
        or not constant_time_compare(user.get_session_auth_hash(), auth_hash)
    ):
        return None
    return user


def _record_failure(subjects: list[tuple[str, str]]) -> None:
    limit = settings.INDEX_AUTH_FAILURE_LIMIT
    window = settings.INDEX_AUTH_FAILURE_WINDOW
    try:
        for failures_key, lock_key in subjects:
            # The count lives for one window from the first failure.
            cache.add(failures_key, 0, window)
            try:
                failures = cache.incr(failures_key)
            except ValueError:  # expired between add() and incr()
                cache.set(failures_key, 1, window)
                failures = 1
            if failures >= limit:
                cache.set(lock_key, time.time() + window, window)
    except Exception:
        logger.warning("Cache unavailable: a failed password attempt was not counted")


def _clear_failures(subjects: list[tuple[str, str]]) -> None:
    try:
        cache.delete_many([failures_key for failures_key, _ in subjects])
    except Exception:
        logger.warning("Cache unavailable: failed password attempts were not cleared")


def _remember(verified_key: str, user) -> None:
    if settings.INDEX_AUTH_VERIFIED_SECONDS <= 0:
        return
    try:
        cache.set(
            verified_key,
            (user.pk, user.get_session_auth_hash()),
            settings.INDEX_AUTH_VERIFIED_SECONDS,
        )
    except Exception:
        logger.warning("Cache unavailable: a verified password is not remembered")


# --- django-axes (admin logins) ----------------------------------------------------


def client_ip_for_axes(request) -> str | None:
    """AXES_CLIENT_IP_CALLABLE: the same client address as everywhere else
    (INDEX_TRUSTED_PROXY_HOPS), not django-ipware's guess."""
    address = client_address(request)
    return None if address is None else str(address)


def admin_lockout_response(request, original_response=None, credentials=None) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: a 429 page saying when to come back. Every attempt
    while locked restarts the cool-off (axes' default), so it is the full window."""
    seconds = settings.INDEX_AUTH_FAILURE_WINDOW
    message = (
        f"Too many failed login attempts from this address or for this username: "
        f"try again in {seconds} seconds."
    )
    body = (
        "<!doctype html>\n<html><head><title>429 Too Many Requests</title></head>\n"
        f"<body><h1>Too many failed login attempts</h1><p>{escape(message)}</p></body></html>\n"
    )
    return error_response(429, message, body=body, content_type="text/html; charset=utf-8",
                          headers={"Retry-After": str(seconds), "Cache-Control": "no-store"})
