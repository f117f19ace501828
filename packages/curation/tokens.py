"""API tokens: creation (the plaintext is returned once), lookup and scope checks.

Created or revoked by a person (``by``), a token leaves an entry in Django's
admin history, on the token and on its user's page, naming the token by its
identifier and description: a curator sees who did what and when."""

import hmac
from datetime import timedelta

from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
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
    by=None,
) -> tuple[ApiToken, str]:
    """Create a token and return it with its plaintext, which is never stored.
    With ``by`` (who created it) the creation goes into the admin history (the
    admin's own add form logs its additions itself)."""
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
        if by is not None:
            scope = ", ".join(p.name for p in projects) if projects else "all projects"
            access = "read only" if read_only else "upload"
            _log_token_change(token, by=by, flag=ADDITION,
                              message=f"Created API token {_label(token)} ({access}, {scope}).")
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


def revoke_token(token: ApiToken, *, by=None) -> bool:
    """Revoke at once: every request checks the token's row (find_active_token), so
    nothing cached needs purging. Returns False when it was already revoked. With
    ``by`` (who revoked it) the revocation goes into the admin history (the admin's
    revoke action logs its own)."""
    with transaction.atomic():
        revoked = bool(
            ApiToken.objects.filter(pk=token.pk, revoked__isnull=True)
            .update(revoked=timezone.now())
        )
        if revoked and by is not None:
            _log_token_change(token, by=by, flag=CHANGE,
                              message=f"Revoked API token {_label(token)}.")
    return revoked


def _label(token: ApiToken) -> str:
    """The token as people know it: the identifier (never the secret) and description."""
    name = f"{ApiToken.PREFIX}_{token.identifier}"
    return f'{name} "{token.description}"' if token.description else name


def _log_token_change(token: ApiToken, *, by, flag: int, message: str) -> None:
    # On the token's history and on its user's, where a curator looks first.
    LogEntry.objects.log_actions(by.pk, [token], flag, change_message=message)
    LogEntry.objects.log_actions(by.pk, [token.user], CHANGE, change_message=message)


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
