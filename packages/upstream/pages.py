"""Which source answers ``/simple/<name>/`` (the team spec's rules), and the
kept copy of upstream pages: fetched once, kept in the database, revalidated
after an interval, served stale while the upstream fails."""

import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from packages.cache.keys import ALL_PROJECTS
from packages.cache.purge import purge_unjournaled_after_commit
from packages.names import is_valid_name, normalize_name
from packages.upstream.client import fetch_page
from packages.upstream.config import enabled_upstreams, limits_for
from packages.upstream.errors import UpstreamNotFound, UpstreamTimeout, UpstreamUnavailable
from packages.upstream.filters import UpstreamPage, filter_page
from packages.upstream.flights import FlightTimeout, claim_or_wait, flight_key
from packages.upstream.models import Upstream, UpstreamFile, UpstreamProject
from packages.upstream.parsing import ParsedPage
from packages.upstream.protection import has_local_files, is_reserved, may_merge
from packages.upstream.purges import purge_names_after_commit

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Resolution:
    """``source`` says what the page is made of:

    * "local": local files only (reserved name, or a local project with files);
      the local page answers as it does today (404 when there is none).
    * "upstream": ``page`` alone.
    * "merged": local files and ``page`` (an admin allowed merging for this name);
      a filename both have is served from the local file.
    * "none": no source has the project: 404.
    """

    source: str
    page: UpstreamPage | None = None
    reason: str = ""


def resolve_project(name: str) -> Resolution:
    """The spec's "which source answers". Raises UpstreamNotFound (404 with a
    reason: blocked, awaiting approval, refused) and UpstreamUnavailable /
    UpstreamTimeout (502/504 naming the upstream, nothing kept to serve)."""
    normalized = normalize_name(name)
    if not is_valid_name(normalized):
        # Never joined into an upstream URL: "/x" or "../x" would leave its simple API.
        return Resolution("none", reason="invalid name")
    if is_reserved(normalized):
        return Resolution("local", reason="reserved")
    local = has_local_files(normalized)
    if local and not may_merge(normalized):
        return Resolution("local", reason="local")
    try:
        page = _first_upstream_page(normalized)
    except (UpstreamNotFound, UpstreamUnavailable) as exc:
        if not local:
            raise
        # Merging never costs the local files their page.
        logger.warning("upstream part of merged %s left out: %s", normalized, exc.message)
        page = None
    if local:
        return Resolution("merged" if page else "local", page, reason="merged")
    if page is None:
        return Resolution("none", reason="not found upstream")
    return Resolution("upstream", page, reason=page.upstream)


def _first_upstream_page(normalized: str) -> UpstreamPage | None:
    for upstream in enabled_upstreams():
        kept, stale = keep_page(upstream, normalized)
        if kept is None:
            continue  # 404 there: the next upstream may have it
        return filter_page(upstream, kept, stale=stale)
    return None


def kept_upstream_page(upstream: Upstream, normalized: str) -> UpstreamProject | None:
    return UpstreamProject.objects.filter(upstream=upstream, normalized_name=normalized).first()


def keep_page(upstream: Upstream, normalized: str, *,
              force: bool = False) -> tuple[UpstreamProject | None, bool]:
    """The kept page of ``normalized`` from ``upstream``, fetched or revalidated
    when older than the interval (or ``force``): (row, stale), or (None, False)
    when the upstream has no such project. One fetch at a time per page."""
    limits = limits_for(upstream)
    started = timezone.now()
    kept = kept_upstream_page(upstream, normalized)
    if kept is not None and not force and _fresh(kept, limits.revalidate_seconds):
        return (None if kept.gone else kept), False

    def ready() -> bool:
        row = kept_upstream_page(upstream, normalized)
        if row is None:
            return False
        return row.checked_at >= started if force else _fresh(row, limits.revalidate_seconds)

    deadline = time.monotonic() + limits.timeout
    try:
        # The lease outlives a wait for a fetch slot (fetch_slots.py) and the fetch.
        flight = claim_or_wait(flight_key("page", upstream.pk, normalized), deadline=deadline,
                               ttl=2 * limits.timeout + 10, ready=ready)
    except FlightTimeout:
        return _stale_or_raise(upstream, kept_upstream_page(upstream, normalized), limits,
                               UpstreamTimeout(upstream.name, "did not answer in time"))
    if flight is None:  # another request fetched it meanwhile
        kept = kept_upstream_page(upstream, normalized)
        return (None if kept.gone else kept), False
    try:
        kept = kept_upstream_page(upstream, normalized)
        try:
            answer = fetch_page(upstream, normalized,
                                etag=kept.etag if kept and not kept.gone else "",
                                last_modified=kept.last_modified if kept and not kept.gone
                                else "")
        except UpstreamUnavailable as exc:
            return _stale_or_raise(upstream, kept, limits, exc)
        now = timezone.now()
        if answer.not_modified:
            # Nothing shown changed: no purge. A cached rendering ends at the old
            # revalidation deadline anyway and is rebuilt with the new one.
            UpstreamProject.objects.filter(pk=kept.pk).update(checked_at=now)
            kept.refresh_from_db()
            return kept, False
        if answer.page is None:
            _keep_not_found(upstream, normalized, now, kept)
            return None, False
        return _keep(upstream, normalized, answer, now, kept), False
    finally:
        flight.release()


def _fresh(kept: UpstreamProject, revalidate_seconds: int) -> bool:
    return timezone.now() - kept.checked_at < timedelta(seconds=revalidate_seconds)


def _stale_or_raise(upstream, kept, limits, error: UpstreamUnavailable):
    """What a failed fetch serves: the kept page (stale, within its age limit),
    or the error (502/504) when nothing usable is kept."""
    if kept is not None and kept.gone:
        return None, False  # the last answer was 404: still nothing there
    age = timezone.now() - kept.checked_at if kept is not None else None
    if age is None or (limits.max_stale_seconds
                       and age > timedelta(seconds=limits.max_stale_seconds)):
        logger.error("upstream %s failed, no page kept to serve: %s", upstream.name,
                     error.message)
        raise error
    logger.warning("upstream %s failed (%s); serving the page of %s kept %s ago",
                   upstream.name, error.message, kept.normalized_name, age)
    return kept, True


# What a page shows of its kept copy: a new 200 that changes none of these
# (an upstream without ETags answers 200 at each revalidation) purges nothing.
_SHOWN_FIELDS = ("name", "files", "project_status", "status_reason", "last_serial")


def _keep(upstream: Upstream, normalized: str, answer, now,
          previous: UpstreamProject | None) -> UpstreamProject:
    page: ParsedPage = answer.page
    fields = {
        "name": page.name or normalized,
        "files": [link.as_dict() for link in page.links],
        "project_status": page.status, "status_reason": page.status_reason,
        "last_serial": page.last_serial, "etag": answer.etag[:255],
        "last_modified": answer.last_modified[:64], "page_bytes": answer.page_bytes,
        "fetched_at": now, "checked_at": now, "gone": False,
    }
    with transaction.atomic():
        kept, _ = UpstreamProject.objects.update_or_create(
            upstream=upstream, normalized_name=normalized, defaults=fields)
        _record_files(kept, page, now)
        if previous is None or previous.gone:
            # New in the index. Its page had no kept copy: nothing rendered from
            # one is cached anywhere, so only the index is purged (a purge of the
            # page would only make the rendering this request stores a miss).
            purge_unjournaled_after_commit([ALL_PROJECTS])
        elif any(getattr(previous, name) != fields[name] for name in _SHOWN_FIELDS):
            purge_names_after_commit([normalized])
    return kept


def _record_files(kept: UpstreamProject, page: ParsedPage, now) -> None:
    """One UpstreamFile per listed file: its first sighting dates the cooldown of
    files without upload-time. A file whose hash changed upstream loses its copy."""
    known = {row.filename: row for row in UpstreamFile.objects.filter(project=kept)}
    new = []
    for link in page.links:
        row = known.get(link.filename)
        if row is None:
            new.append(UpstreamFile(project=kept, filename=link.filename, sha256=link.sha256,
                                    size=link.size, first_seen=now,
                                    metadata_sha256=link.metadata_sha256))
        elif row.sha256 != link.sha256 or row.metadata_sha256 != link.metadata_sha256:
            logger.warning("upstream %s changed the hash of %s", kept.upstream.name,
                           link.filename)
            UpstreamFile.objects.filter(pk=row.pk).update(
                sha256=link.sha256, metadata_sha256=link.metadata_sha256, size=link.size,
                path="", stored_at=None, metadata_stored=False)
    UpstreamFile.objects.bulk_create(new, ignore_conflicts=True)


def _keep_not_found(upstream: Upstream, normalized: str, now,
                    previous: UpstreamProject | None) -> None:
    # Kept too (files emptied): the next requests within the interval do not ask again.
    try:
        with transaction.atomic():
            if previous is not None and not previous.gone:  # its page and index entry go
                purge_names_after_commit([normalized], listing=True)
            UpstreamProject.objects.update_or_create(
                upstream=upstream, normalized_name=normalized,
                defaults={"gone": True, "checked_at": now, "files": [], "etag": "",
                          "last_modified": ""},
                create_defaults={"gone": True, "checked_at": now, "fetched_at": now,
                                 "files": []},
            )
    except IntegrityError:  # pragma: no cover - the flight makes this rare
        pass


def refresh_project(upstream_project_id: int) -> UpstreamProject | None:
    """Revalidate a kept page now (the admin's "refresh", a Celery task)."""
    kept = UpstreamProject.objects.select_related("upstream").filter(
        pk=upstream_project_id).first()
    if kept is None:
        return None
    row, _ = keep_page(kept.upstream, kept.normalized_name, force=True)
    return row


def kept_project_names() -> list[str]:
    """Normalized names of the upstream projects kept (for ``/simple/``), not gone,
    of enabled upstreams; the caller adds local names and leaves out duplicates."""
    return list(
        UpstreamProject.objects.filter(gone=False, upstream__enabled=True)
        .values_list("normalized_name", flat=True).distinct().order_by("normalized_name")
    )
