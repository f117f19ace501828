"""API tokens: creation (the plaintext is returned once), lookup and scope checks."""

import hmac
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from packages.models import ApiToken, Project

TOKEN_USERNAME = "__token__"


def create_token(
    user,
    *,
    projects: list[Project] | None = None,
    read_only: bool = False,
    description: str = "",
    expires_in_days: int | None = None,
) -> tuple[ApiToken, str]:
    """Create a token and return it with its plaintext, which is never stored."""
    secret = ApiToken.new_secret()
    identifier = ApiToken.new_secret()[:16].replace("-", "x").replace("_", "y")
    expires = timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            identifier=identifier,
            secret_hash=ApiToken.hash_secret(secret),
            description=description,
            read_only=read_only,
            expires=expires,
        )
        if projects:
            token.projects.set(projects)
    return token, f"{ApiToken.PREFIX}_{identifier}_{secret}"


def find_active_token(plaintext: str) -> ApiToken | None:
    """The active token matching ``plaintext``, or None (unknown, wrong secret,
    revoked, expired, or the user is inactive)."""
    parts = plaintext.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != ApiToken.PREFIX:
        return None
    _, identifier, secret = parts
    token = ApiToken.objects.select_related("user").filter(identifier=identifier).first()
    if token is None:
        return None
    if not hmac.compare_digest(token.secret_hash, ApiToken.hash_secret(secret)):
        return None
    if not token.is_active or not token.user.is_active:
        return None
    return token


def mark_used(token: ApiToken) -> None:
    now = timezone.now()
    # Writing on every request would make reads write; once a minute is enough.
    if token.last_used is None or now - token.last_used > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used=now)
        token.last_used = now


def revoke_token(token: ApiToken) -> bool:
    """Revoke at once: every request checks the token's row (find_active_token), so
    nothing cached needs purging. Returns False when it was already revoked."""
    return bool(
        ApiToken.objects.filter(pk=token.pk, revoked__isnull=True).update(revoked=timezone.now())
    )


def token_scope_error(token: ApiToken, project: Project | None, *, write: bool) -> str | None:
    """Why ``token`` may not act on ``project`` (None when it may).

    ``project`` is None for a project that does not exist yet: only a token not
    bound to named projects may create one."""
    if write and token.read_only:
        return "This API token is read-only and cannot upload."
    scoped = list(token.projects.all())
    if scoped:
        if project is None or project.pk not in {p.pk for p in scoped}:
            names = ", ".join(sorted(p.name for p in scoped))
            return f"This API token is scoped to {names} and cannot act on this project."
    return None
