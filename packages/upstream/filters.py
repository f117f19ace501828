"""The curation applied to a kept upstream page, in the spec's order: blocks,
the approval queue, the cooldown, then status passthrough (quarantined hidden)
and versions only with files. No network here: files.py runs the same filters
to decide whether a kept file may still be served."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from packages.upstream.config import limits_for
from packages.upstream.errors import UpstreamNotFound
from packages.upstream.models import (
    ApprovalState,
    Upstream,
    UpstreamApproval,
    UpstreamBlock,
    UpstreamCooldown,
    UpstreamFile,
    UpstreamMode,
    UpstreamProject,
)
from packages.versions import sort_key

logger = logging.getLogger(__name__)

UPSTREAM_FILES_PREFIX = "packages/upstream/"
QUARANTINED = "quarantined"


def upstream_file_path(sha256: str, filename: str) -> str:
    """Where this index keeps (and serves, at "/" + the path) an upstream file:
    content-addressed by the sha256 the upstream declared, apart from local files."""
    return f"{UPSTREAM_FILES_PREFIX}{sha256[:2]}/{sha256[2:4]}/{sha256[4:]}/{filename}"


@dataclass(frozen=True)
class PageFile:
    """One file of an upstream page as this index serves it."""

    filename: str
    path: str  # storage path of the kept copy; the URL is "/" + quote(path)
    sha256: str
    requires_python: str
    yanked: bool
    yanked_reason: str
    size: int | None  # None: an HTML upstream said nothing and no copy is kept yet
    upload_time: datetime | None  # the upstream's; None when it sent none
    metadata_sha256: str  # PEP 658 core-metadata hash, "" when not offered
    version: str
    kept: bool  # a checked copy is stored here

    @property
    def url_path(self) -> str:
        return "/" + quote(self.path, safe="/+!~@:")


@dataclass(frozen=True)
class UpstreamPage:
    """A filtered upstream page: everything PEP 503/691/700/792 pages carry."""

    upstream: str
    name: str  # normalized
    status: str  # PEP 792, "active" when the upstream said nothing
    status_reason: str
    last_serial: int | None  # the upstream's X-PyPI-Last-Serial, if it sent one
    files: list[PageFile]  # in version order, then filename
    versions: list[str]  # PEP 700: ascending, only versions that have a file
    fetched_at: datetime
    stale: bool  # served while its upstream fails
    # What a cached rendering of this page depends on besides the purged curation
    # (legacy/simple_pages.py): the kept copy it was filtered from, when that copy
    # is revalidated, and the next moment the clock alone changes the files (the
    # earliest cooldown end of a file left out; None when no file waits).
    kept_token: str = ""
    fresh_until: datetime | None = None
    changes_at: datetime | None = None

    @property
    def shown_until(self) -> datetime | None:
        """Until when what this page shows can only change through a purge: its
        revalidation or the next cooldown's end, whichever comes first. None for
        a page served stale (its upstream is failing: no such moment is known)."""
        if self.stale or self.fresh_until is None:
            return None
        if self.changes_at is None:
            return self.fresh_until
        return min(self.fresh_until, self.changes_at)


def filter_page(upstream: Upstream, kept: UpstreamProject, *, stale: bool = False,
                queue: bool = True) -> UpstreamPage | None:
    """The page as served, or None when hidden (quarantined upstream).
    UpstreamNotFound (404 with a reason) when blocked or not approved; ``queue``
    puts an unapproved name in the curators' queue (a page request does, a file
    lookup does not)."""
    name = kept.normalized_name
    blocks = list(UpstreamBlock.objects.filter(normalized_name=name)
                  .filter(Q(upstream__isnull=True) | Q(upstream=upstream)))
    for block in blocks:
        if not block.specifier.strip():
            raise UpstreamNotFound(f"The project '{name}' is blocked on this index: "
                                   f"{block.reason}")
    if upstream.mode == UpstreamMode.APPROVAL:
        check_approved(upstream, name, queue=queue)
    if kept.project_status == QUARANTINED:
        return None
    limits = limits_for(upstream)
    min_age = cooldown_seconds(upstream, name, limits=limits)
    now = timezone.now()
    changes_at = None
    rows = {row.filename: row for row in UpstreamFile.objects.filter(project=kept)}
    specifiers = [_specifier(block) for block in blocks]
    files = []
    for link in kept.files:
        version = filename_version(link["filename"], name)
        if specifiers and _blocked(version, specifiers):
            continue
        row = rows.get(link["filename"])
        upload_time = datetime.fromisoformat(link["upload_time"]) if link["upload_time"] else None
        # No upload-time (HTML-only upstreams): the first sighting stands in, so
        # nothing is served before it has aged here. Local uploads never pass here.
        age_from = upload_time or (row.first_seen if row else now)
        if min_age and now - age_from < timedelta(seconds=min_age):
            ends = age_from + timedelta(seconds=min_age)
            changes_at = ends if changes_at is None else min(changes_at, ends)
            continue
        if version is None:
            continue  # no version to list it under (PEP 700) nor to block it by
        kept_copy = bool(row and row.path and row.sha256 == link["sha256"])
        files.append(PageFile(
            filename=link["filename"],
            path=upstream_file_path(link["sha256"], link["filename"]),
            sha256=link["sha256"], requires_python=link["requires_python"],
            yanked=link["yanked"], yanked_reason=link["yanked_reason"],
            size=link["size"] if link["size"] is not None else (row.size if kept_copy else None),
            upload_time=upload_time, metadata_sha256=link["metadata_sha256"],
            version=version, kept=kept_copy,
        ))
    keys = {v: (sort_key(v), v) for v in {f.version for f in files}}
    files.sort(key=lambda f: (keys[f.version], f.filename))
    return UpstreamPage(
        upstream=upstream.name, name=name, status=kept.project_status or "active",
        status_reason=kept.status_reason, last_serial=kept.last_serial,
        files=files, versions=list(dict.fromkeys(f.version for f in files)),
        fetched_at=kept.fetched_at, stale=stale,
        kept_token=f"{kept.pk}.{kept.fetched_at.timestamp():.6f}",
        fresh_until=kept.checked_at + timedelta(seconds=limits.revalidate_seconds),
        changes_at=changes_at,
    )


def check_approved(upstream: Upstream, name: str, *, queue: bool = True) -> None:
    approval = UpstreamApproval.objects.filter(upstream=upstream, normalized_name=name).first()
    if approval is not None and approval.state == ApprovalState.APPROVED:
        return
    if approval is not None and approval.state == ApprovalState.REFUSED:
        reason = f": {approval.reason}" if approval.reason else ""
        raise UpstreamNotFound(f"The project '{name}' from upstream '{upstream.name}' was "
                               f"refused by this index's curators{reason}")
    if approval is None and queue:
        try:
            with transaction.atomic():
                UpstreamApproval.objects.create(upstream=upstream, normalized_name=name)
            logger.info("upstream %s: %s queued for approval", upstream.name, name)
        except IntegrityError:
            pass  # queued by a concurrent request: once per name
    raise UpstreamNotFound(f"The project '{name}' from upstream '{upstream.name}' awaits "
                           "approval by this index's curators.")


def cooldown_seconds(upstream: Upstream, name: str, *, limits=None) -> int:
    """Per-project (this upstream's before every upstream's), else the upstream's,
    else INDEX_UPSTREAM_COOLDOWN; an exemption is 0."""
    overrides = sorted(
        UpstreamCooldown.objects.filter(normalized_name=name)
        .filter(Q(upstream__isnull=True) | Q(upstream=upstream)),
        key=lambda row: row.upstream_id is None,
    )
    if overrides:
        return 0 if overrides[0].exempt else overrides[0].min_age_seconds
    return (limits or limits_for(upstream)).cooldown_seconds


def _specifier(block: UpstreamBlock) -> SpecifierSet | None:
    try:
        return SpecifierSet(block.specifier)
    except InvalidSpecifier:
        logger.error("upstream block %s has an invalid specifier %r; it blocks every version",
                     block.pk, block.specifier)
        return None


def _blocked(version: str | None, specifiers: list[SpecifierSet | None]) -> bool:
    if version is None or any(s is None for s in specifiers):
        return True  # unsure is blocked: a block must not be slipped past
    try:
        parsed = Version(version)
    except InvalidVersion:
        return True
    return any(s.contains(parsed, prereleases=True) for s in specifiers)


_SDIST_SUFFIXES = (".tar.gz", ".zip", ".tar.bz2", ".tgz", ".tar.xz", ".tar")


def filename_version(filename: str, name: str) -> str | None:
    """The version a distribution's filename carries (wheels and sdists by
    packaging's rules; older archives by stripping '<name>-'); None when the
    file is not one of project ``name``'s."""
    try:
        if filename.endswith(".whl"):
            project, version, *_ = parse_wheel_filename(filename)
        elif filename.endswith((".tar.gz", ".zip")):
            project, version = parse_sdist_filename(filename)
        else:
            raise InvalidSdistFilename(filename)
        # Another project's file on this page is no file of this project.
        return str(version) if project == name else None
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        pass
    stem = filename
    for suffix in (*_SDIST_SUFFIXES, ".egg", ".exe", ".msi", ".rpm", ".whl"):
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    else:
        return None
    head, _, version = stem.rpartition("-")
    if canonicalize_name(head or "-") != name:  # eggs, installers: name-version-pyX.Y
        head, _, version = head.rpartition("-")
    if not head or canonicalize_name(head) != name:
        return None
    return version or None
