"""python manage.py importdists PATH... --owner USERNAME

Imports every wheel and sdist found under the given folders (a pypiserver
package folder, a ``pip download`` folder, a bandersnatch mirror's
``packages/``) through the very upload path: the same checks, the same storage,
the same rows and journal entries; new projects are owned by USERNAME. The
metadata comes from the distribution itself (METADATA / PKG-INFO), sent through
the upload's own form (legacy.forms) as twine would send it.

For speed, files are imported in batches sharing one transaction
(packages.uploads.batch: what does not depend on the file is looked up once per
batch), each file is read from disk once (hashed as it is read), and caches are
purged once per batch; every file is still validated on its own. The duplicate
check's rows are looked up once per batch and its journal entries written with
one insert at its end (packages.journal.journal_batch), in upload order.

With ``--jobs N`` (default: 2 on PostgreSQL, 1 on SQLite, whose one writer
at a time would leave a second process waiting) the files are split by project
between N forked processes, each running the same batches on its own
connection (legacy.import_workers); the parent reports progress, refusals and
totals as one process does.

Interrupted (Ctrl-C, SIGTERM) it rolls back the batch in progress and stops;
killed outright, the database rolls the batch back and the next run deletes
what that batch had stored (legacy.import_pending). Either way, running it
again continues: the files already imported are recognised by a look-up per
batch and skipped."""

import hashlib
import io
import os
import signal
import sys
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils.datastructures import MultiValueDict

from legacy.forms import UploadForm, fields_from_metadata
from legacy.import_pending import PendingRecord, clean_abandoned_records
from legacy.import_progress import Progress
from legacy.import_workers import WorkerFailed, partition, run_workers
from packages.cache.keys import keys_for_project
from packages.cache.purge import purge_after_commit
from packages.errors import DomainError
from packages.journal import journal_batch
from packages.models import File, PackageType
from packages.storage import Digests, HashingReader, distribution_path, hash_fileobj
from packages.uploads.batch import UploadBatch, inspect_archive_once
from packages.uploads.metadata import raw_from_core_metadata
from packages.uploads.operation import UploadedContent, accept_upload

# Names that look like distributions (anything else in a mirror folder, such as
# .metadata, .asc or index.html, is not a candidate at all).
DISTRIBUTION_SUFFIXES = (
    ".whl", ".tar.gz", ".zip", ".egg", ".tar.bz2", ".tgz", ".tar.xz", ".tar", ".exe", ".msi",
)
# Files up to this size are read into memory in one go (and hashed from there);
# larger ones are hashed in chunks and re-read from disk by the checks.
IN_MEMORY_LIMIT = 16 * 1024 * 1024


class Interrupted(Exception):
    """SIGINT or SIGTERM arrived: raised between two files, inside the batch's
    transaction, so that the half-done batch rolls back whole."""


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


def read_distribution(path: Path) -> tuple[io.BufferedIOBase, Digests]:
    """The file, open and seekable, with its digests, from one read of the disk."""
    if path.stat().st_size <= IN_MEMORY_LIMIT:
        data = path.read_bytes()
        hasher = HashingReader(None)
        hasher.update(data)
        return io.BytesIO(data), hasher.digests()
    fileobj = path.open("rb")
    try:
        return fileobj, hash_fileobj(fileobj)
    except BaseException:
        fileobj.close()
        raise


def sha256_of(path: Path) -> str | None:
    """The file's SHA-256, or None if it cannot be read (the import says why)."""
    try:
        with path.open("rb") as fileobj:
            return hashlib.file_digest(fileobj, "sha256").hexdigest()
    except OSError:
        return None


def file_kind(filename: str) -> tuple[str, str]:
    """(filetype, pyversion) as twine would send them for this filename."""
    if filename.endswith(".whl"):
        return PackageType.WHEEL, (filename.split("-")[-3:-2] or [""])[0]
    if filename.endswith(".egg"):
        return "bdist_egg", ""
    return PackageType.SDIST, "source"


def upload_fields(path: Path, fileobj, digests, *, batch: UploadBatch | None = None
                  ) -> dict[str, list[str]]:
    """The form twine would send for this file, built from its own metadata."""
    filetype, pyversion = file_kind(path.name)
    fields = {
        ":action": ["file_upload"],
        "protocol_version": ["1"],
        "filetype": [filetype],
        "pyversion": [pyversion],
        "sha256_digest": [digests.sha256],
    }
    if filetype in PackageType.values:
        contents = inspect_archive_once(
            batch, fileobj, path.name, filetype=filetype, sha256=digests.sha256,
            max_ratio=settings.INDEX_MAX_COMPRESSION_RATIO,
        )
        fields.update(fields_from_metadata(raw_from_core_metadata(contents.metadata)))
    return fields


def stored_paths_of(filename: str, digests: Digests) -> list[str]:
    """Where accept_upload() will store this file (and a wheel's metadata)."""
    path = distribution_path(digests.blake2_256, filename)
    return [path, f"{path}.metadata"] if filename.endswith(".whl") else [path]


class Command(BaseCommand):
    help = "Import wheels and sdists from folders through the upload checks and storage."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH")
        parser.add_argument("--owner", required=True, help="Username owning new projects.")
        parser.add_argument("--batch-size", type=int, default=200,
                            help="Files per database transaction (default 200).")
        parser.add_argument("--no-progress", action="store_true",
                            help="No progress on stderr.")
        parser.add_argument("--progress-every", type=float, default=10.0, metavar="SECONDS",
                            help="When stderr is not a terminal, a progress line every "
                                 "SECONDS (default 10).")
        parser.add_argument("--state-dir", default=None,
                            help="Where the record of the uncommitted batch is kept "
                                 "(default: INDEX_DATA_DIR/importdists).")
        parser.add_argument("--jobs", type=int, default=None, metavar="N",
                            help="Processes importing at once, the files split by project "
                                 "(default: 2 on PostgreSQL, at most one per CPU; 1 on "
                                 "SQLite).")

    def handle(self, *args, paths, owner, batch_size, no_progress, progress_every, state_dir,
               jobs=None, **options):
        jobs = self._jobs(jobs)
        try:
            user = get_user_model().objects.get_by_natural_key(owner)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user named {owner!r}.") from None
        state = Path(state_dir) if state_dir else Path(settings.DATA_DIR) / "importdists"
        cleaned = clean_abandoned_records(state)
        if cleaned:
            self.stdout.write(f"deleted {cleaned} stored files of an interrupted run")
        files = find_distributions(list(paths))
        self.progress = Progress(getattr(self.stderr, "_out", sys.stderr), len(files),
                                 enabled=not no_progress, every=progress_every)
        self.counts = {"imported": 0, "skipped": 0, "refused": 0}
        self.done = 0
        self.in_flight: dict[int, int] = {}  # worker -> files of its uncommitted batch
        self.stop_signal = None
        self.link = None  # in a worker process: its legacy.import_workers.WorkerLink

        def run_share(share: list[Path]) -> None:
            with PendingRecord(state) as pending:
                for start in range(0, len(share), max(batch_size, 1)):
                    self._import_batch(share[start:start + max(batch_size, 1)], user, pending)

        previous = self._catch_signals()
        try:
            shares = [share for share in partition(files, jobs) if share] if jobs > 1 else []
            if len(shares) > 1:
                # A signal after every worker's last file changes nothing, as
                # in one process.
                if run_workers(self, shares, run_share) and self.stop_signal is not None:
                    raise Interrupted
            else:
                run_share(files)
        except WorkerFailed as failure:
            self.progress.clear()
            if failure.details:
                self.stderr.write(failure.details)
            raise CommandError(
                f"an import process failed: {failure} (after {self.counts['imported']} "
                f"imported, {self.counts['skipped']} skipped, {self.counts['refused']} "
                "refused; the batches in progress were rolled back): run the same command "
                "again to continue") from None
        except Interrupted:
            self.progress.clear()
            raise CommandError(
                f"interrupted by signal {self.stop_signal} after {self.counts['imported']} "
                f"imported, {self.counts['skipped']} skipped, {self.counts['refused']} "
                "refused (the batch in progress was rolled back): run the same command "
                "again to continue", returncode=128 + self.stop_signal) from None
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        self.progress.finish()
        self.stdout.write(
            f"imported {self.counts['imported']}, skipped {self.counts['skipped']}, "
            f"refused {self.counts['refused']}"
        )

    def _jobs(self, jobs: int | None) -> int:
        if jobs is not None and jobs < 1:
            raise CommandError("--jobs must be 1 or more.")
        if connection.in_atomic_block:
            # Other processes would not see this transaction's rows (the owner).
            if jobs is not None and jobs > 1:
                raise CommandError("--jobs above 1 cannot run inside a transaction.")
            return 1
        if jobs is None:
            return min(2, os.cpu_count() or 1) if connection.vendor == "postgresql" else 1
        return jobs

    def _catch_signals(self) -> dict:
        """SIGINT and SIGTERM stop the import at the next file; a second one at once."""
        def stop(signum, frame):
            if self.stop_signal is not None:
                raise KeyboardInterrupt
            self.stop_signal = signum

        previous = {}
        try:
            for signum in (signal.SIGINT, signal.SIGTERM):
                previous[signum] = signal.signal(signum, stop)
        except ValueError:  # not the main thread: signals stay as they are
            pass
        return previous

    def _import_batch(self, batch: list[Path], user, pending: PendingRecord) -> None:
        """Import a batch in one transaction: all of it, or (interrupted) none."""
        present = dict(
            File.objects.filter(filename__in=[p.name for p in batch])
            .values_list("filename", "sha256_digest")
        )
        results = []
        try:
            with transaction.atomic(), journal_batch(), UploadBatch(uploader=user) as shared:
                # The duplicate check's rows for the whole batch in one look-up.
                shared.prefetch_duplicates(
                    [p.name for p in batch],
                    [sha256 for p in batch if (sha256 := sha256_of(p)) is not None])
                keys: set[str] = set()
                for path in batch:
                    if self.stop_signal is not None or (
                            self.link is not None and self.link.parent_gone()):
                        raise Interrupted
                    outcome, reason, result = self._import_one(path, user, present, shared,
                                                               pending)
                    results.append((path, outcome, reason))
                    if self.link is None:
                        self.progress.update(self.done + len(results))
                    elif self.progress.tty or self.progress.every > 0:
                        self.link.send("file", len(results))
                    if result is not None and result.created:
                        keys.update(keys_for_project(result.project))
                purge_after_commit(keys)
        except BaseException:
            # The batch's rows are gone: so must be the files they pointed to.
            pending.rolled_back()
            raise
        pending.committed()
        if self.link is not None:
            self.link.send("batch", results)
        else:
            self.batch_committed(None, results)

    def file_done(self, worker: int, in_batch: int) -> None:
        """A worker is ``in_batch`` files into its uncommitted batch."""
        self.in_flight[worker] = in_batch
        self.progress.update(self.done + sum(self.in_flight.values()))

    def batch_committed(self, worker: int | None, results: list) -> None:
        """A batch committed (in this process, or in a worker): count and report it."""
        self.in_flight.pop(worker, None)
        self.done += len(results)
        for path, outcome, reason in results:
            self.counts[outcome] += 1
            if reason:
                self.progress.clear()
                self.stdout.write(f"refused {path}: {reason}")
        self.progress.update(self.done + sum(self.in_flight.values()))

    def _import_one(self, path: Path, user, present: dict[str, str], shared: UploadBatch,
                    pending: PendingRecord):
        try:
            fileobj, digests = read_distribution(path)
            with fileobj:
                if present.get(path.name) == digests.sha256:
                    return "skipped", None, None
                form = UploadForm(MultiValueDict(
                    upload_fields(path, fileobj, digests, batch=shared)))
                if not form.is_valid():
                    return "refused", form.refusal()[1], None
                pending.add(stored_paths_of(path.name, digests))
                result = accept_upload(
                    upload=form.upload_request(),
                    content=UploadedContent(filename=path.name, file=fileobj, digests=digests),
                    uploader=user,
                    purge=False,
                    batch=shared,
                )
        except DomainError as refusal:
            return "refused", refusal.message, None
        except OSError as exc:
            return "refused", f"cannot read the file: {exc}", None
        return ("imported" if result.created else "skipped"), None, result
