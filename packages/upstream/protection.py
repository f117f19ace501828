"""Dependency-confusion protection: which names never go upstream, and whether
a first upload may take a name an upstream already has."""

import logging

from django.db.models import Q

from packages.errors import UploadRejected
from packages.names import is_valid_name, normalize_name
from packages.upstream.models import ReservedName, UpstreamAllowance, UpstreamProject

logger = logging.getLogger(__name__)


def is_reserved(name: str) -> bool:
    """Reserved as internal: the exact name, or under a namespace prefix (PEP 752:
    the prefix itself and every name starting with ``prefix-``)."""
    normalized = normalize_name(name)
    prefixes = _prefixes_of(normalized)
    return ReservedName.objects.filter(
        Q(normalized_name=normalized, is_prefix=False)
        | Q(normalized_name__in=prefixes, is_prefix=True)
    ).exists()


def _prefixes_of(normalized: str) -> list[str]:
    parts = normalized.split("-")
    return ["-".join(parts[:n]) for n in range(1, len(parts) + 1)]


def has_local_files(normalized_name: str) -> bool:
    from packages.models import File

    return File.objects.filter(release__project__normalized_name=normalized_name).exists()


def may_merge(normalized_name: str) -> bool:
    return UpstreamAllowance.objects.filter(
        normalized_name=normalized_name, allow_merge=True).exists()


def check_first_upload(name: str, *, upstreams: list | None = None) -> None:
    """Called before the first upload of a new project name. Refuses a name an
    enabled upstream has (a local upload would shadow it for every client of this
    index) unless it is reserved as internal or an admin allowed it. An upstream
    that cannot be asked also refuses: the check must not pass by accident.
    ``upstreams``: ``enabled_upstreams()`` as the caller read it (importdists reads
    it once per batch)."""
    from packages.upstream.client import fetch_page
    from packages.upstream.config import enabled_upstreams
    from packages.upstream.errors import UpstreamUnavailable

    normalized = normalize_name(name)
    if not is_valid_name(normalized):
        raise UploadRejected(f"The name '{name}' is invalid.")
    if is_reserved(normalized) or UpstreamAllowance.objects.filter(
            normalized_name=normalized, allow_first_upload=True).exists():
        return
    for upstream in enabled_upstreams() if upstreams is None else upstreams:
        kept = UpstreamProject.objects.filter(upstream=upstream, normalized_name=normalized,
                                              gone=False).exists()
        if not kept:
            try:
                kept = fetch_page(upstream, normalized).page is not None
            except UpstreamUnavailable as exc:
                raise UploadRejected(
                    f"The name '{name}' could not be checked against upstream "
                    f"'{upstream.name}' ({exc.message}); try again later, or ask an "
                    "admin to reserve or allow it."
                ) from None
        if kept:
            raise UploadRejected(
                f"The name '{name}' exists on upstream '{upstream.name}': a local project "
                "would shadow it. Ask an admin to reserve the name or allow this upload."
            )
