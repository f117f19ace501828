"""Distribution files in storage (django-storages: local filesystem or S3).

Paths follow PyPI's content-addressed layout, ``packages/<b2[:2]>/<b2[2:4]>/<b2[4:]>/<filename>``
where b2 is the file's BLAKE2b-256; the PEP 658 metadata file sits beside it
as ``<path>.metadata``. Files are read in chunks, never whole into memory."""

import contextlib
import hashlib
from dataclasses import dataclass
from typing import BinaryIO

from django.core.files.base import File as DjangoFile
from django.core.files.storage import storages
from django.db import transaction

CHUNK_SIZE = 1024 * 1024


@dataclass(frozen=True)
class Digests:
    size: int
    md5: str
    sha256: str
    blake2_256: str


class HashingReader:
    """Hashes (md5, sha256, blake2b-256) whatever is read through it, and counts bytes."""

    def __init__(self, fileobj: BinaryIO):
        self._file = fileobj
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._sha256 = hashlib.sha256()
        self._blake2 = hashlib.blake2b(digest_size=32)
        self.size = 0

    def update(self, chunk: bytes) -> None:
        self._md5.update(chunk)
        self._sha256.update(chunk)
        self._blake2.update(chunk)
        self.size += len(chunk)

    def read(self, n: int = -1) -> bytes:
        chunk = self._file.read(n)
        self.update(chunk)
        return chunk

    def digests(self) -> Digests:
        return Digests(
            self.size, self._md5.hexdigest(), self._sha256.hexdigest(), self._blake2.hexdigest()
        )


def distributions_storage():
    return storages["default"]


def hash_fileobj(fileobj: BinaryIO) -> Digests:
    """Digests of a file read in chunks from its current position."""
    reader = HashingReader(fileobj)
    while reader.read(CHUNK_SIZE):
        pass
    return reader.digests()


def distribution_path(blake2_256: str, filename: str) -> str:
    return f"packages/{blake2_256[:2]}/{blake2_256[2:4]}/{blake2_256[4:]}/{filename}"


def save_stored(path: str, fileobj: BinaryIO) -> str:
    """Write a file to storage at exactly ``path`` (never renamed: paths are
    content-addressed, so an existing object at the path already has these bytes)."""
    storage = distributions_storage()
    if storage.exists(path):
        return path
    fileobj.seek(0)
    saved = storage.save(path, DjangoFile(fileobj, name=path.rsplit("/", 1)[-1]))
    if saved != path:  # pragma: no cover - storage renamed despite exists() check (race)
        storage.delete(saved)
    return path


def open_stored(path: str, mode: str = "rb"):
    return distributions_storage().open(path, mode)


def stored_url(path: str) -> str:
    return distributions_storage().url(path)


def delete_stored(path: str) -> None:
    distributions_storage().delete(path)


def delete_stored_after_commit(paths: list[str]) -> None:
    """Queue the removal of stored objects for when the deleting transaction
    commits: a rolled-back delete loses nothing, and a worker (not the request)
    does the storage round trips. If the broker is down the objects stay behind
    as orphans, never as rows pointing to nothing."""
    paths = sorted(set(paths))
    if not paths:
        return
    from packages.tasks import remove_stored_files

    transaction.on_commit(lambda: remove_stored_files.delay(paths), robust=True)


def remove_unreferenced(paths: list[str]) -> list[str]:
    """Delete each stored object no committed File row points at; return the
    paths deleted. Safe to run twice: a missing object is not an error."""
    removed = []
    for path in paths:
        if _referenced(path):
            continue
        delete_stored(path)
        removed.append(path)
    return removed


@contextlib.contextmanager
def removed_on_failure():
    """Yield a list; paths appended to it are deleted from storage if the block
    raises. Wrap the store-then-insert sequence with it so that a failed
    transaction leaves no orphan file behind."""
    stored: list[str] = []
    try:
        yield stored
    except BaseException:
        for path in stored:
            with contextlib.suppress(Exception):
                if not _referenced(path):
                    delete_stored(path)
        raise


def _referenced(path: str) -> bool:
    """Whether a committed File row points at ``path`` (or at the distribution a
    ``.metadata`` path belongs to). Paths are content-addressed, so an identical
    upload that committed meanwhile shares the object: it must not be deleted."""
    from packages.models import File

    return File.objects.filter(path=path.removesuffix(".metadata")).exists()
