"""HTTP Basic credentials: ``__token__`` with an API token, or a username and
password where the caller allows passwords (throttled and remembered for a
short while: packages/access/throttle.py)."""

import base64
import binascii
from dataclasses import dataclass

from packages.access.throttle import verify_password
from packages.curation.tokens import TOKEN_USERNAME, find_active_token, mark_used
from packages.errors import DomainError
from packages.models import ApiToken

REALM = "indexsite"


class AuthenticationFailed(DomainError):
    status = 403


@dataclass
class Credentials:
    user: object
    token: ApiToken | None  # None when a password was used


def basic_auth_pair(request) -> tuple[str, str] | None:
    """The (username, password) of an ``Authorization: Basic`` header, or None."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise AuthenticationFailed("Malformed HTTP Basic credentials.") from None
    username, sep, password = decoded.partition(":")
    # No username or token holds a NUL, and PostgreSQL refuses one in a query.
    if not sep or "\x00" in decoded:
        raise AuthenticationFailed("Malformed HTTP Basic credentials.")
    return username, password


def authenticate_basic(request, *, allow_password: bool) -> Credentials | None:
    """Credentials from the request, None when it sent none.

    Raises AuthenticationFailed for credentials that are present but wrong, and
    auth_throttle.TooManyFailures (429) for a password while its client address
    or username is locked out after repeated failures."""
    pair = basic_auth_pair(request)
    if pair is None:
        return None
    username, password = pair
    if username == TOKEN_USERNAME:
        token = find_active_token(password)
        if token is None:
            raise AuthenticationFailed(
                "Invalid or non-existent authentication information: the API token is "
                "unknown, revoked or expired."
            )
        mark_used(token)
        return Credentials(user=token.user, token=token)
    if not allow_password:
        raise AuthenticationFailed(
            "Username/password authentication is not allowed here: use the username "
            f"{TOKEN_USERNAME} with an API token as the password."
        )
    user = verify_password(request, username, password)
    if user is None:
        raise AuthenticationFailed("Invalid username or password.")
    return Credentials(user=user, token=None)


def www_authenticate_header() -> str:
    return f'Basic realm="{REALM}"'
