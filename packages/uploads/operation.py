"""Accepting a distribution upload: the checks, the storage, the rows.
(Over 400 lines: the checklist reads best in one place; each check is a short function.)

``accept_upload()`` reads top to bottom as PyPI's checklist (see
the team spec shared/spec/upload-api.md §4): metadata, project and permission,
filename, size, digests, duplicates, policies, archive; then the file is stored
and, in one transaction, the rows and journal entries are written. It takes typed
values (``UploadRequest``): twine's form is read by legacy.forms.UploadForm. Every
refusal is an UploadRejected (or Forbidden) carrying the one-line reason twine
prints; nothing is left behind by a refused or failed upload."""

import hashlib
import hmac
import io
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import timedelta
from typing import BinaryIO

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from packages.cache.purge import purge_project_after_commit
from packages.curation.creation import check_may_create, initial_status
from packages.curation.roles import add_role, can_upload
from packages.curation.tokens import token_scope_error
from packages.errors import Forbidden, UploadRejected
from packages.journal import collecting_journal, record_journal_entry
from packages.models import File, Filename, PackageType, Project, ProjectStatus, Release, RoleName
from packages.names import (
    check_new_project_name,
    check_not_too_similar,
    normalize_name,
    ultranormalize_name,
)
from packages.storage import (
    Digests,
    distribution_path,
    distributions_storage,
    hash_fileobj,
    removed_on_failure,
    save_stored,
)
from packages.tasks import render_description
from packages.uploads.archives import check_archive
from packages.uploads.batch import UploadBatch
from packages.uploads.descriptions import check_description_renders, source_key
from packages.uploads.filenames import check_filename
from packages.uploads.metadata import UploadMetadata, check_metadata
from packages.upstream.protection import check_first_upload
from packages.versions import find_release, match_release

ONE_MIB = 1024 * 1024
ONE_GIB = 1024 * ONE_MIB


@dataclass
class UploadedContent:
    """The distribution's bytes in a local, seekable file."""

    filename: str
    file: BinaryIO
    content_type: str = "application/octet-stream"
    # Computed while the bytes arrived (legacy.upload_handlers); else computed here.
    digests: Digests | None = None


@dataclass(frozen=True)
class UploadRequest:
    """What the client says about its file, typed (legacy.forms.UploadForm reads
    it from twine's form). ``metadata`` is packaging's RawMetadata as sent, with
    ``project_urls`` as (label, url) pairs; ``check_metadata`` judges it."""

    filetype: str
    pyversion: str
    metadata: dict
    md5_digest: str = ""
    sha256_digest: str = ""
    blake2_256_digest: str = ""
    comment: str = ""
    attestations: list | None = None


@dataclass
class UploadResult:
    project: Project
    file: File
    # False for a byte-identical re-upload, answered 200 with no change (as PyPI).
    created: bool


def max_upload_size_ceiling() -> int:
    """The largest file any project may receive: what the request stream is cut at
    before the project is even known."""
    override = Project.objects.aggregate(largest=Max("max_file_size"))["largest"] or 0
    return max(settings.INDEX_MAX_FILE_SIZE, override)


def _human_size(size: int) -> str:
    if size >= ONE_GIB and size % ONE_GIB == 0:
        return f"{size // ONE_GIB} GB"
    if size >= ONE_MIB:
        return f"{size // ONE_MIB} MB"
    return f"{size} bytes"


# Project and permission


def _lock_new_name(name: str) -> None:
    """Serialize the creation of look-alike names until this transaction ends.

    The unique constraint on normalized_name settles two uploads of the same name,
    but ``foo-bar`` and ``foobar`` differ there, so a look-alike checked before the
    other's commit would pass. A transaction-scoped PostgreSQL advisory lock keyed
    on the folded name makes the second creator wait for the first to commit, and
    its re-check then sees the project. (PyPI keeps look-alikes apart the same way,
    by a check at creation; its folded-name index is not unique, since old projects
    predate the rule.) SQLite, for development, runs one writing transaction at a
    time."""
    if connection.vendor != "postgresql":
        return
    digest = hashlib.blake2b(
        f"new-project:{ultranormalize_name(name)}".encode(), digest_size=8
    ).digest()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s)", [int.from_bytes(digest, "big", signed=True)]
        )


def check_may_upload(project: Project | None, *, name: str, uploader, token) -> None:
    """Token scope, then the uploader's role (Owner or Maintainer, direct or by team).

    ``project`` None means the upload would create the project."""
    if token is not None:
        problem = token_scope_error(token, project, write=True)
        if problem is not None:
            shown = project.name if project is not None else name
            raise Forbidden(f"The given token isn't allowed to upload to project '{shown}'. {problem}")
    if project is None:
        return
    if project.status == ProjectStatus.QUARANTINED:
        raise Forbidden(f"Project '{project.name}' is quarantined and accepts no uploads.")
    if project.status == ProjectStatus.ARCHIVED:
        raise UploadRejected(f"Project '{project.name}' is archived and accepts no new uploads.")
    if not can_upload(uploader, project):
        raise Forbidden(
            f"The user '{uploader.get_username()}' isn't allowed to upload to project "
            f"'{project.name}': an Owner must give it the Owner or Maintainer role."
        )


def ensure_project(name: str, *, by, looked_up: bool = False) -> tuple[Project, bool]:
    """The project called ``name`` (PEP 503), created with ``by`` as Owner if missing.

    Run inside the upload's transaction. Two concurrent first uploads meet at the
    unique constraint on normalized_name: the loser's insert fails (on PostgreSQL it
    waits for the winner's commit) and it takes the winner's project instead, so
    there is exactly one project with one owner. ``looked_up``: the caller has just
    found no such project, so the look-up before the lock is skipped (the one
    after it is what decides)."""
    normalized = normalize_name(name)
    if not looked_up:
        existing = Project.objects.filter(normalized_name=normalized).first()
        if existing is not None:
            return existing, False
    _lock_new_name(name)
    existing = Project.objects.filter(normalized_name=normalized).first()
    if existing is not None:
        return existing, False
    check_not_too_similar(name)
    try:
        with transaction.atomic():
            project = Project.objects.create(name=name, status=initial_status())
    except IntegrityError:
        return Project.objects.get(normalized_name=normalized), False
    record_journal_entry(project, "create", by=by)
    add_role(project, role_name=RoleName.OWNER, user=by, by=by)
    return project, True


# File checks


def check_size(project: Project | None, *, name: str, size: int, total_size: int) -> None:
    max_file = project.effective_max_file_size if project else settings.INDEX_MAX_FILE_SIZE
    max_total = project.effective_max_project_size if project else settings.INDEX_MAX_PROJECT_SIZE
    shown = project.name if project else name
    if size > max_file:
        raise UploadRejected(
            f"File too large. Limit for project '{shown}' is {_human_size(max_file)}."
        )
    if total_size + size > max_total:
        raise UploadRejected(
            f"Project size too large. Limit for project '{shown}' total size is "
            f"{_human_size(max_total)}."
        )


def check_digests(upload: UploadRequest, digests: Digests) -> None:
    for supplied, actual in (
        (upload.md5_digest, digests.md5),
        (upload.sha256_digest, digests.sha256),
        (upload.blake2_256_digest, digests.blake2_256),
    ):
        if supplied and not hmac.compare_digest(supplied, actual):
            raise UploadRejected(
                "The digest supplied does not match a digest calculated from the uploaded file."
            )


def same_name_or_content(filename: str, digests: Digests):
    """Files with this name or these bytes. The bytes are matched by SHA-256, the
    indexed digest (PyPI matches BLAKE2b-256; equal bytes have equal both), so
    that this look-up stays an index scan however many files the index holds."""
    return File.objects.filter(Q(filename=filename) | Q(sha256_digest=digests.sha256))


def check_not_duplicate(filename: str, digests: Digests) -> File | None:
    """The existing File when this exact file was uploaded before (answered 200 so
    that ``twine upload --skip-existing`` and plain re-runs pass); refuses a name
    or content already taken otherwise, and any name ever used (PyPI's rule)."""
    existing = same_name_or_content(filename, digests).first()
    return _judge_duplicate(
        existing, filename, digests,
        name_used=lambda: Filename.objects.filter(filename=filename).exists())


def check_not_duplicate_in_batch(batch: UploadBatch, filename: str, digests: Digests
                                 ) -> File | None:
    """``check_not_duplicate`` answered from the rows the batch looked up once
    (see packages.uploads.batch); the same rule, the same answers."""
    known = batch.duplicate_candidates(filename, digests.sha256)
    if known is None or len(known[0]) > 1:
        # Not prefetched, or several candidates: which one the rule names
        # depends on the database's ordering of filenames.
        return check_not_duplicate(filename, digests)
    candidates, name_used = known
    return _judge_duplicate(candidates[0] if candidates else None, filename, digests,
                            name_used=lambda: name_used)


def _judge_duplicate(existing: File | None, filename: str, digests: Digests, *, name_used
                     ) -> File | None:
    if existing is not None:
        if (
            existing.filename == filename
            and existing.sha256_digest == digests.sha256
            and existing.blake2_256_digest == digests.blake2_256
        ):
            return existing
        # twine's --skip-existing looks for "File already exists" in this message.
        raise UploadRejected(
            f"File already exists ('{existing.filename}', with blake2_256 hash "
            f"'{existing.blake2_256_digest}'). Filenames are never reused: upload a new version."
        )
    if name_used():
        raise UploadRejected(
            "This filename was previously used by a file that has since been deleted. Use a "
            "different version."
        )
    return None


def check_release_policies(release: Release | None, *, filetype: str) -> None:
    """PyPI's policies, off by default on a private index (see settings)."""
    if release is None:
        return
    days = settings.INDEX_OLD_RELEASE_UPLOAD_DAYS
    if days and release.created < timezone.now() - timedelta(days=days):
        raise UploadRejected(
            f"Uploading new files to releases older than {days} days is not allowed."
        )
    if (
        settings.INDEX_ONE_SDIST_PER_RELEASE
        and filetype == PackageType.SDIST
        and release.files.filter(packagetype=PackageType.SDIST).exists()
    ):
        raise UploadRejected("Only one sdist may be uploaded per release.")


# The operation


def accept_upload(
    *,
    upload: UploadRequest,
    content: UploadedContent | None,
    uploader,
    token=None,
    purge: bool = True,
    batch: UploadBatch | None = None,
) -> UploadResult:
    """Validate, store and record one distribution file; see the module docstring.

    With ``purge=False`` the caller purges caches itself (importdists batches them).
    With ``batch`` (see packages.uploads.batch) the caller runs several uploads in
    its own transaction and the look-ups that do not depend on the file are made
    once for all of them; every check still runs for every file."""
    meta = check_metadata(upload.metadata)
    if content is None:
        raise UploadRejected("Upload payload does not have a file.")
    if batch is not None:
        batch.check_use(uploader, token)

    normalized = normalize_name(meta.name)
    project = batch.project(normalized) if batch is not None else None
    if project is None:
        project = Project.objects.filter(normalized_name=normalized).first()
    if project is None:
        check_new_project_name(meta.name, checked_absent=True)
        check_may_create(meta.name, uploader=uploader)
    if batch is None or project is None or project.pk not in batch.allowed:
        check_may_upload(project, name=meta.name, uploader=uploader, token=token)
    if project is None:
        # Dependency confusion: a new local name must not shadow an upstream project.
        check_first_upload(
            meta.name, upstreams=batch.enabled_upstreams() if batch is not None else None)
    release = _find_release(project, meta.version, batch)
    description_html = None
    if release is None:
        # The rendering this check makes is stored with a new release, so that the
        # render_description task finds it done rather than rendering it again.
        description_html = check_description_renders(
            meta.description, meta.description_content_type)

    filename = content.filename
    check_filename(filename, filetype=upload.filetype, project_name=meta.name, version=meta.version)
    # An image is not a distribution (PyPI's check). A missing part type is fine:
    # uv publish sends none.
    if content.content_type.startswith("image/"):
        raise UploadRejected("Invalid distribution file.")

    content.file.seek(0)
    digests = content.digests or hash_fileobj(content.file)
    check_size(
        project, name=meta.name, size=digests.size,
        total_size=project.total_size if project else 0,
    )
    check_digests(upload, digests)
    existing = (check_not_duplicate(filename, digests) if batch is None
                else check_not_duplicate_in_batch(batch, filename, digests))
    if existing is not None:
        return UploadResult(project=project, file=existing, created=False)
    check_release_policies(release, filetype=upload.filetype)
    max_ratio = settings.INDEX_MAX_COMPRESSION_RATIO
    archive = check_archive(
        content.file, filename, filetype=upload.filetype, name=meta.name,
        version=meta.version, max_ratio=max_ratio,
        inspected=batch.archives.get((digests.sha256, filename, upload.filetype, max_ratio))
        if batch is not None else None,
    )

    path = distribution_path(digests.blake2_256, filename)
    wheel_metadata = archive.metadata if upload.filetype == PackageType.WHEEL else None
    with removed_on_failure() as stored:
        _store(path, content.file, stored)
        if wheel_metadata is not None:
            _store(f"{path}.metadata", io.BytesIO(wheel_metadata), stored)
        try:
            return _record_upload(
                meta, upload, filename=filename, path=path, digests=digests,
                wheel_metadata=wheel_metadata, uploader=uploader, token=token, purge=purge,
                description_html=description_html, batch=batch, looked_up=project is None,
            )
        except _AlreadyRecorded as identical:
            # The same bytes under the same name committed concurrently: they own the path.
            stored.clear()
            return UploadResult(project=identical.file.release.project, file=identical.file,
                                created=False)


def _find_release(project: Project | None, version: str, batch: UploadBatch | None):
    if project is None:
        return None
    if batch is not None and (releases := batch.releases_of(project)) is not None:
        # Every release of a project this transaction has locked: find_release's
        # rule applied to them (match_release), without a query.
        release = match_release(releases, version)
        if release is not None:
            release.project = project
        return release
    return find_release(project, version)


def _store(path: str, fileobj: BinaryIO, stored: list[str]) -> None:
    """Save at ``path``; remember it for removal only when this call wrote it."""
    if distributions_storage().exists(path):
        return
    save_stored(path, fileobj)
    stored.append(path)


class _AlreadyRecorded(Exception):
    def __init__(self, file: File):
        self.file = file


def _record_upload(
    meta: UploadMetadata, upload: UploadRequest, *, filename: str, path: str, digests: Digests,
    wheel_metadata: bytes | None, uploader, token, purge: bool,
    description_html: str | None = None, batch: UploadBatch | None = None,
    looked_up: bool = False,
) -> UploadResult:
    """Rows and journal entries, all or nothing; the file is already in storage.
    ``looked_up``: the caller found no project of this name a moment ago."""
    # Inside packages.journal.journal_batch() (importdists), a refused file's
    # rolled-back savepoint takes the journal entries collected for it along.
    # In a batch the file's one savepoint is the only one: a lost race rolls it
    # back whole and is answered here.
    journal = collecting_journal()
    mark = journal.mark() if journal is not None else 0
    try:
        return _write_rows(
            meta, upload, filename=filename, path=path, digests=digests,
            wheel_metadata=wheel_metadata, uploader=uploader, token=token, purge=purge,
            description_html=description_html, batch=batch, looked_up=looked_up,
        )
    except BaseException as exc:
        if journal is not None:
            journal.discard_from(mark)
        if batch is not None and isinstance(exc, IntegrityError):
            # A concurrent upload of the same filename (or bytes) committed first.
            existing = check_not_duplicate(filename, digests)
            if existing is not None:
                raise _AlreadyRecorded(existing) from None
        raise


def _write_rows(
    meta: UploadMetadata, upload: UploadRequest, *, filename: str, path: str, digests: Digests,
    wheel_metadata: bytes | None, uploader, token, purge: bool,
    description_html: str | None, batch: UploadBatch | None, looked_up: bool,
) -> UploadResult:
    with transaction.atomic():
        # A project the batch remembers is already locked by this transaction.
        project = batch.project(normalize_name(meta.name)) if batch is not None else None
        locked_releases = None
        if project is None:
            project, created = ensure_project(meta.name, by=uploader, looked_up=looked_up)
            if not created:
                # Created by a concurrent upload since our first look: check again.
                check_may_upload(project, name=meta.name, uploader=uploader, token=token)
                # Lock the project row: total size and release creation are decided
                # once. (A row this transaction inserted is invisible to others
                # until it commits, and locked by the insert.)
                project = Project.objects.select_for_update().get(pk=project.pk)
            if batch is not None:
                # Read under the lock: no other transaction adds one until we commit.
                # (A project this very upload created has none.)
                locked_releases = [] if created else list(
                    project.releases.defer("description_html").order_by())
        check_size(project, name=meta.name, size=digests.size, total_size=project.total_size)
        if locked_releases is not None:
            # find_release's rule over every release, read just above under the lock.
            release = match_release(locked_releases, meta.version)
            if release is not None:
                release.project = project
        else:
            release = _find_release(project, meta.version, batch)
        new_release = release is None
        if new_release:
            rendered = {}
            if description_html is not None:
                rendered = {
                    "description_html": description_html,
                    "description_rendered_from": source_key(
                        meta.description, meta.description_content_type),
                }
            release = Release.objects.create(
                project=project, uploader=uploader, **meta.release_fields(), **rendered
            )
            record_journal_entry(project, "new release", version=release.version, by=uploader)
        try:
            # Without a batch, a savepoint of its own lets a lost race be answered
            # below; in a batch the file's savepoint (above) is rolled back instead.
            with transaction.atomic() if batch is None else nullcontext():
                Filename.objects.create(filename=filename)
                file = File.objects.create(
                    release=release,
                    filename=filename,
                    packagetype=upload.filetype,
                    python_version=upload.pyversion,
                    requires_python=release.requires_python,
                    size=digests.size,
                    md5_digest=digests.md5,
                    sha256_digest=digests.sha256,
                    blake2_256_digest=digests.blake2_256,
                    path=path,
                    uploader=uploader,
                    comment_text=upload.comment,
                    metadata_sha256=hashlib.sha256(wheel_metadata).hexdigest()
                    if wheel_metadata is not None else "",
                    metadata_blake2_256=hashlib.blake2b(wheel_metadata, digest_size=32).hexdigest()
                    if wheel_metadata is not None else "",
                    attestations=upload.attestations,
                )
        except IntegrityError:
            if batch is not None:
                raise  # _record_upload answers it once the savepoint is rolled back
            # A concurrent upload of the same filename (or bytes) committed first.
            existing = check_not_duplicate(filename, digests)
            if existing is not None:
                raise _AlreadyRecorded(existing) from None
            raise
        if batch is None:
            Project.objects.filter(pk=project.pk).update(
                total_size=F("total_size") + digests.size)
        # (In a batch, batch.remember() adds the size once this file's savepoint
        # has committed, and the batch writes each project's total once, at its end.)
        project.total_size += digests.size
        record_journal_entry(
            project, f"add {upload.pyversion} file {filename}", version=release.version,
            by=uploader,
        )
        if new_release and description_html is None:
            # (A description rendered by the upload's own check is stored with the
            # release above: the task would find nothing to do.)
            release_id = release.id
            # robust: the upload has committed; a broker outage is logged, not a 500
            # (which twine would retry).
            transaction.on_commit(lambda: render_description.delay(release_id), robust=True)
        if purge:
            purge_project_after_commit(project)
    if batch is not None:
        if batch.releases_of(project) is None:
            batch.lock_project(project, locked_releases)
        batch.remember(project, release, file)
    return UploadResult(project=project, file=file, created=True)
