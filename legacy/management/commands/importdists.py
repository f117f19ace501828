"""python manage.py importdists PATH... --owner USERNAME

Imports every wheel and sdist found under the given folders (a pypiserver
package folder, a ``pip download`` folder, a bandersnatch mirror's
``packages/``) through the very upload path: the same checks, the same storage,
the same rows and journal entries; new projects are owned by USERNAME. The
metadata comes from the distribution itself (METADATA / PKG-INFO), sent through
the upload's own form (legacy.forms) as twine would send it.

For speed, files are imported in batches sharing one transaction, and caches
are purged once per batch; every file is still validated on its own."""

import os
import sys
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.datastructures import MultiValueDict

from legacy.forms import UploadForm, fields_from_metadata
from packages.cache.keys import keys_for_project
from packages.cache.purge import purge_after_commit
from packages.errors import DomainError
from packages.models import File, PackageType
from packages.storage import delete_stored, hash_fileobj
from packages.uploads.archives import inspect_archive
from packages.uploads.metadata import raw_from_core_metadata
from packages.uploads.operation import UploadedContent, accept_upload

# Names that look like distributions (anything else in a mirror folder, such as
# .metadata, .asc or index.html, is not a candidate at all).
DISTRIBUTION_SUFFIXES = (
    ".whl", ".tar.gz", ".zip", ".egg", ".tar.bz2", ".tgz", ".tar.xz", ".tar", ".exe", ".msi",
)


def find_distributions(paths: list[str]) -> list[Path]:
    found = []
    for raw in paths:
        path = Path(raw)
        if path.is_file():
            found.append(path)
            continue
        if not path.is_dir():
            raise CommandError(f"No such file or folder: {raw}")
        for folder, _dirs, files in os.walk(path):
            found.extend(
                Path(folder, name) for name in files
                if name.lower().endswith(DISTRIBUTION_SUFFIXES)
            )
    return sorted(set(found))


def upload_fields(path: Path, fileobj, digests) -> dict[str, list[str]]:
    """The form twine would send for this file, built from its own metadata."""
    filename = path.name
    if filename.endswith(".whl"):
        filetype, pyversion = PackageType.WHEEL, (filename.split("-")[-3:-2] or [""])[0]
    elif filename.endswith(".egg"):
        filetype, pyversion = "bdist_egg", ""
    else:
        filetype, pyversion = PackageType.SDIST, "source"
    fields = {
        ":action": ["file_upload"],
        "protocol_version": ["1"],
        "filetype": [filetype],
        "pyversion": [pyversion],
        "sha256_digest": [digests.sha256],
    }
    if filetype in PackageType.values:
        contents = inspect_archive(fileobj, filename, filetype=filetype, max_ratio=_max_ratio())
        fields.update(fields_from_metadata(raw_from_core_metadata(contents.metadata)))
    return fields


def _max_ratio() -> int:
    return settings.INDEX_MAX_COMPRESSION_RATIO


class Progress:
    """A one-line progress bar, drawn only when the stream is a terminal."""

    def __init__(self, stream, total: int):
        self.stream = stream
        self.total = total
        self.enabled = total > 0 and hasattr(stream, "isatty") and stream.isatty()

    def update(self, done: int) -> None:
        if not self.enabled:
            return
        width = 30
        filled = width * done // self.total
        self.stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{self.total}")
        self.stream.flush()

    def clear(self) -> None:
        """Erase the bar so that a message can be printed on a clean line."""
        if self.enabled:
            self.stream.write("\r\033[K")

    def finish(self) -> None:
        if self.enabled:
            self.stream.write("\n")


class Command(BaseCommand):
    help = "Import wheels and sdists from folders through the upload checks and storage."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH")
        parser.add_argument("--owner", required=True, help="Username owning new projects.")
        parser.add_argument("--batch-size", type=int, default=200,
                            help="Files per database transaction (default 200).")

    def handle(self, *args, paths, owner, batch_size, **options):
        try:
            user = get_user_model().objects.get_by_natural_key(owner)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user named {owner!r}.") from None
        files = find_distributions(list(paths))
        progress = Progress(getattr(self.stderr, "_out", sys.stderr), len(files))
        counts = {"imported": 0, "skipped": 0, "refused": 0}
        done = 0
        for start in range(0, len(files), max(batch_size, 1)):
            batch = files[start:start + batch_size]
            for path, outcome, reason in self._import_batch(batch, user):
                counts[outcome] += 1
                if reason:
                    progress.clear()
                    self.stdout.write(f"refused {path}: {reason}")
                done += 1
                progress.update(done)
        progress.finish()
        self.stdout.write(
            f"imported {counts['imported']}, skipped {counts['skipped']}, "
            f"refused {counts['refused']}"
        )

    def _import_batch(self, batch: list[Path], user):
        """Import a batch in one transaction; yields (path, outcome, reason)."""
        outcomes = []
        written: list[str] = []
        present = set(
            File.objects.filter(filename__in=[p.name for p in batch])
            .values_list("filename", flat=True)
        )
        try:
            with transaction.atomic():
                keys: set[str] = set()
                for path in batch:
                    outcome, reason, result = self._import_one(path, user, present)
                    outcomes.append((path, outcome, reason))
                    if result is not None and result.created:
                        written.append(result.file.path)
                        if result.file.has_metadata:
                            written.append(result.file.metadata_path)
                        keys.update(keys_for_project(result.project))
                purge_after_commit(keys)
        except BaseException:
            # The batch's rows are gone: so must be the files they pointed to.
            for stored in written:
                delete_stored(stored)
            raise
        return outcomes

    def _import_one(self, path: Path, user, present: set[str]):
        try:
            with path.open("rb") as fileobj:
                digests = hash_fileobj(fileobj)
                if path.name in present:
                    existing = File.objects.filter(filename=path.name).first()
                    if existing is not None and existing.sha256_digest == digests.sha256:
                        return "skipped", None, None
                form = UploadForm(MultiValueDict(upload_fields(path, fileobj, digests)))
                if not form.is_valid():
                    return "refused", form.refusal()[1], None
                result = accept_upload(
                    upload=form.upload_request(),
                    content=UploadedContent(filename=path.name, file=fileobj, digests=digests),
                    uploader=user,
                    purge=False,
                )
        except DomainError as refusal:
            return "refused", refusal.message, None
        except OSError as exc:
            return "refused", f"cannot read the file: {exc}", None
        return ("imported" if result.created else "skipped"), None, result
