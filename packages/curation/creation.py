"""Who may create a project by uploading its first file: the setting
INDEX_PROJECT_CREATION chooses

- ``any`` (the default): any authenticated uploader;
- ``prefix-team``: only a member of the team that owns a reserved name or
  namespace prefix (packages.upstream's ReservedName with a team) covering the name;
- ``moderated``: anyone, but the project starts ``pending``: hidden from every
  API and not installable until a curator approves it (packages.curation.projects).

Curators creating a project in the admin are not subject to it."""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from packages.errors import Forbidden
from packages.models import ProjectStatus
from packages.names import normalize_name

POLICIES = ("any", "prefix-team", "moderated")


def creation_policy() -> str:
    policy = getattr(settings, "INDEX_PROJECT_CREATION", "any")
    if policy not in POLICIES:
        raise ImproperlyConfigured(f"INDEX_PROJECT_CREATION must be one of {', '.join(POLICIES)}")
    return policy


def _covering_reservations(name: str):
    """Reserved names covering ``name``: itself, or a prefix of it (PEP 752: the
    prefix and every name starting with ``prefix-``)."""
    from packages.upstream.models import ReservedName

    normalized = normalize_name(name)
    parts = normalized.split("-")
    prefixes = ["-".join(parts[:n]) for n in range(1, len(parts) + 1)]
    return ReservedName.objects.filter(normalized_name__in=prefixes).exclude(
        is_prefix=False, normalized_name__in=prefixes[:-1]
    )


def check_may_create(name: str, *, uploader) -> None:
    """Raise Forbidden when ``uploader`` may not create a project called ``name``."""
    if creation_policy() != "prefix-team":
        return
    teams = _covering_reservations(name).filter(team__isnull=False).values("team")
    if uploader.groups.filter(pk__in=teams).exists():
        return
    raise Forbidden(
        f"The user '{uploader.get_username()}' may not create project '{name}': new "
        "projects must be named under a prefix reserved by one of your teams. Ask an "
        "admin to reserve the name or a prefix for your team."
    )


def initial_status() -> str:
    """The status a project created by an upload starts in."""
    return ProjectStatus.PENDING if creation_policy() == "moderated" else ProjectStatus.ACTIVE
