"""Upstream files and their PEP 658 ``.metadata``: fetched on the first download,
streamed to the client while they are written and hashed, kept only when the
sha256 the upstream's page declared matches; served locally ever after.

A streamed download holds back its last chunk until the hash is checked: on a
mismatch the client never receives a complete file (the transfer is cut, a
Content-Length short), nothing is kept, and the error is logged. Where a clean
502 matters more than streaming (``.metadata``, prefetching, small files), the
whole file is fetched and checked before anything is sent (``stream=False``).
"""

import contextlib
import hashlib
import logging
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q
from django.utils import timezone

from packages.storage import delete_stored, save_stored
from packages.upstream.client import iter_body, open_file
from packages.upstream.config import limits_for, max_file_bytes
from packages.upstream.errors import (
    HostileUpstream,
    UpstreamNotFound,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from packages.upstream.fetch_slots import take_slot
from packages.upstream.filters import (
    UPSTREAM_FILES_PREFIX,
    PageFile,
    filter_page,
    upstream_file_path,
)
from packages.upstream.flights import FlightTimeout, claim_or_wait, flight_key
from packages.upstream.models import Upstream, UpstreamFile, UpstreamProject
from packages.upstream.protection import has_local_files, is_reserved, may_merge
from packages.upstream.purges import purge_names_after_commit

logger = logging.getLogger(__name__)

METADATA_SUFFIX = ".metadata"
MAX_METADATA_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class KeptFile:
    """A checked copy in storage, served like a local file (open_stored,
    stored_url or X-Accel-Redirect on ``path``)."""

    path: str  # storage path; the URL is "/" + path
    filename: str  # of the distribution (also for its .metadata)
    is_metadata: bool
    size: int
    sha256: str  # of these bytes: the ETag
    upload_time: datetime  # the upstream's, else when this index first saw it
    project: str  # normalized name
    version: str
    upstream: str


@dataclass(frozen=True)
class _Found:
    row: UpstreamFile
    file: PageFile
    url: str
    upstream: Upstream
    is_metadata: bool

    def kept(self) -> KeptFile:
        row = UpstreamFile.objects.get(pk=self.row.pk)
        path = self.file.path + (METADATA_SUFFIX if self.is_metadata else "")
        return KeptFile(
            path=path, filename=self.file.filename, is_metadata=self.is_metadata,
            size=(_metadata_size(path) if self.is_metadata else row.size),
            sha256=self.file.metadata_sha256 if self.is_metadata else self.file.sha256,
            upload_time=self.file.upload_time or row.first_seen,
            project=row.project.normalized_name, version=self.file.version,
            upstream=self.upstream.name,
        )


def is_upstream_path(path: str) -> bool:
    """Whether a storage path (the URL without its leading "/") is an upstream file's."""
    return path.startswith(UPSTREAM_FILES_PREFIX)


def find_kept_file(path: str) -> KeptFile | None:
    """The stored copy at ``path`` if it is kept and still offered (the page's
    filters pass), without any network."""
    found = _find(path)
    if found is None or not _is_stored(found):
        return None
    return found.kept()


def fetch_file(path: str, *, stream: bool = True) -> "KeptFile | FileStream":
    """What to answer for ``/<path>`` (an upstream file or its .metadata):

    * KeptFile: a checked copy is stored, serve it like a local file;
    * FileStream: the first download; iterate it into a StreamingHttpResponse
      (it stores the copy as it goes and closes itself).

    UpstreamNotFound (404) when no offered file has this path; UpstreamUnavailable
    (502) or UpstreamTimeout (504) when it cannot be fetched; HostileUpstream
    (502) for a hash or size mismatch found before anything was sent. Two
    requests for the same uncached file fetch it once: the second waits for the
    first (up to the upstream's timeout) and gets the KeptFile."""
    found = _find(path)
    if found is None:
        raise UpstreamNotFound("Not Found")
    if _is_stored(found):
        return found.kept()
    limits = limits_for(found.upstream)
    deadline = time.monotonic() + limits.timeout
    key = flight_key("file", found.file.sha256, path)
    try:
        flight = claim_or_wait(key, deadline=deadline, ttl=limits.timeout * 3 + 10,
                               ready=lambda: _is_stored(found))
    except FlightTimeout:
        raise UpstreamTimeout(found.upstream.name,
                              "is still sending this file to another request") from None
    if flight is None:
        return found.kept()
    try:
        slot = take_slot(found.upstream, wait=limits.timeout)
    except BaseException:
        flight.release()
        raise
    if found.is_metadata:
        try:
            _download_metadata(found)
        finally:
            slot.release()
            flight.release()
        return found.kept()
    try:
        response = open_file(found.upstream, found.url)
        declared = found.file.size
        length = response.headers.get("Content-Length", "")
        if length.isdigit() and declared is not None and int(length) != declared:
            response.close()
            raise HostileUpstream(found.upstream.name,
                                  f"its file {found.file.filename} is not the declared size")
    except BaseException:
        slot.release()
        flight.release()
        raise
    file_stream = FileStream(found, response, flight, slot,
                             size=declared if declared is not None
                             else (int(length) if length.isdigit() else None))
    if stream:
        return file_stream
    for _ in file_stream:
        pass
    return found.kept()


class FileStream:
    """The bytes of a first download, as the upstream sends them; stored and
    checked on the way. ``size`` (None if unknown) suits Content-Length."""

    def __init__(self, found: _Found, response, flight, slot, *, size: int | None):
        self.filename = found.file.filename
        self.path = found.file.path
        self.sha256 = found.file.sha256
        self.size = size
        self.upload_time = found.file.upload_time or found.row.first_seen
        self.project = found.row.project.normalized_name
        self.version = found.file.version
        self._found = found
        self._response = response
        self._flight = flight
        self._slot = slot  # the upstream's fetch slot, held until the stream ends
        self._iterator = self._stream()

    def __iter__(self) -> Iterator[bytes]:
        return self._iterator

    def close(self) -> None:
        # Django closes a StreamingHttpResponse's content: a client gone midway
        # leaves nothing stored, lets the waiters in and frees the upstream's slot.
        try:
            self._iterator.close()
            self._response.close()
        finally:
            self._slot.release()
            self._flight.release()

    def __del__(self):
        # A stream dropped unread must not keep its file locked in this process.
        with contextlib.suppress(Exception):
            self.close()

    def _stream(self) -> Iterator[bytes]:
        upstream = self._found.upstream
        limit = self.size if self.size is not None else max_file_bytes()
        held = None
        with tempfile.TemporaryFile() as spool:
            try:
                digest, size = hashlib.sha256(), 0
                for chunk in iter_body(upstream, self._response,
                                       idle_timeout=limits_for(upstream).timeout):
                    size += len(chunk)
                    if size > limit:
                        raise HostileUpstream(upstream.name, f"its file {self.filename} is "
                                              "larger than declared")
                    digest.update(chunk)
                    spool.write(chunk)
                    self._flight.renew()
                    if held is not None:
                        yield held
                    held = chunk
                _check(upstream, self.filename, digest.hexdigest(), self.sha256, size, self.size)
                save_stored(self.path, spool)
                _mark_stored(self.sha256, self.filename, self.path, size,
                             size_was_shown=self._found.file.size is not None)
            except UpstreamUnavailable as exc:
                logger.error("upstream file %s not kept: %s", self.filename, exc.message)
                raise
            finally:
                self._response.close()
                self._slot.release()
                self._flight.release()
        if held is not None:
            yield held


def _check(upstream, filename, actual, declared, size, declared_size) -> None:
    if actual != declared:
        raise HostileUpstream(upstream.name, f"its file {filename} does not match the "
                              "sha256 its page declared")
    if declared_size is not None and size != declared_size:
        raise HostileUpstream(upstream.name, f"its file {filename} is not the declared size")


def _download_metadata(found: _Found) -> None:
    """PEP 658: <file URL>.metadata, small, fetched whole and checked before use."""
    upstream = found.upstream
    response = open_file(upstream, found.url + METADATA_SUFFIX)
    with response, tempfile.TemporaryFile() as spool:
        digest, size = hashlib.sha256(), 0
        for chunk in iter_body(upstream, response, idle_timeout=limits_for(upstream).timeout):
            size += len(chunk)
            if size > MAX_METADATA_BYTES:
                raise HostileUpstream(upstream.name, "its metadata file is too large")
            digest.update(chunk)
            spool.write(chunk)
        _check(upstream, found.file.filename + METADATA_SUFFIX, digest.hexdigest(),
               found.file.metadata_sha256, size, None)
        save_stored(found.file.path + METADATA_SUFFIX, spool)
    UpstreamFile.objects.filter(sha256=found.file.sha256, filename=found.file.filename).update(
        metadata_stored=True)


def _mark_stored(sha256: str, filename: str, path: str, size: int, *,
                 size_was_shown: bool) -> None:
    # Every upstream listing these very bytes shares the copy.
    rows = UpstreamFile.objects.filter(sha256=sha256, filename=filename)
    rows.update(path=path, size=size, stored_at=timezone.now())
    if not size_was_shown:
        # A page whose upstream gave no size (HTML) shows the kept copy's from now on.
        purge_names_after_commit(set(rows.values_list("project__normalized_name", flat=True)))


def _is_stored(found: _Found) -> bool:
    row = UpstreamFile.objects.filter(pk=found.row.pk).values("path", "metadata_stored").first()
    if row is None:
        return False
    return row["metadata_stored"] if found.is_metadata else bool(row["path"])


def _metadata_size(path: str) -> int:
    from packages.storage import distributions_storage

    return distributions_storage().size(path)


def _find(path: str) -> _Found | None:
    """The offered file at ``path``: listed on a kept page of an enabled upstream,
    through the same filters as the page (blocks, approval, cooldown), and the
    name not local-only meanwhile (reserved, or local files without merging)."""
    if not is_upstream_path(path):
        return None
    is_metadata = path.endswith(METADATA_SUFFIX)
    file_path = path[: -len(METADATA_SUFFIX)] if is_metadata else path
    parts = file_path[len(UPSTREAM_FILES_PREFIX):].split("/")
    if len(parts) != 4 or len(parts[0] + parts[1] + parts[2]) != 64:
        return None
    sha256, filename = "".join(parts[:3]), parts[3]
    rows = (UpstreamFile.objects.filter(sha256=sha256, filename=filename)
            .filter(project__gone=False, project__upstream__enabled=True)
            .select_related("project__upstream")
            .order_by("project__upstream__priority", "pk"))
    for row in rows:
        name = row.project.normalized_name
        if is_reserved(name) or (has_local_files(name) and not may_merge(name)):
            return None
        try:
            page = filter_page(row.project.upstream, row.project, queue=False)
        except UpstreamNotFound:
            continue
        for offered in page.files if page else []:
            if offered.filename == filename and offered.sha256 == sha256:
                if is_metadata and not offered.metadata_sha256:
                    return None
                url = next(link["url"] for link in row.project.files
                           if link["filename"] == filename)
                return _Found(row, offered, url, row.project.upstream, is_metadata)
    return None


def drop_kept(projects) -> int:
    """Forget kept pages and delete their stored copies (those no other kept page
    shares). The admin's "drop what is kept"; the next request fetches anew."""
    ids = [project.pk for project in projects]
    stored = Q(path__gt="") | Q(metadata_stored=True)
    mine = UpstreamFile.objects.filter(stored, project_id__in=ids)
    shared = set(UpstreamFile.objects.filter(stored).exclude(project_id__in=ids)
                 .values_list("sha256", "filename"))
    paths = []
    for sha256, filename, path, metadata in mine.values_list(
            "sha256", "filename", "path", "metadata_stored"):
        if (sha256, filename) in shared:
            continue
        base = upstream_file_path(sha256, filename)
        paths += ([base] if path else []) + ([base + METADATA_SUFFIX] if metadata else [])
    names = set(UpstreamProject.objects.filter(pk__in=ids)
                .values_list("normalized_name", flat=True))
    count, _ = UpstreamProject.objects.filter(pk__in=ids).delete()
    purge_names_after_commit(names, listing=True)
    for path in paths:
        with contextlib.suppress(Exception):  # a copy already gone is fine
            delete_stored(path)
    return count
