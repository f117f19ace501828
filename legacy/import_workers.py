"""importdists in several processes (``--jobs N``).

The files are split by project: every file whose name parses to the same
project, or to a look-alike of it (``packages.names.ultranormalize_name``:
``foo-bar``, ``foobar``, ``Foo.Bar``, ``f00bar``), goes to the same worker, so
no two workers ever lock, create or size the same project, nor race each other
through the look-alike check of new names. The upload checks accept a file
only if its name is its metadata's project name (canonicalized), and identical
bytes carry identical metadata: two files with the same bytes that could both
be accepted are always of the same project, so the duplicate check never has to
see another worker's uncommitted files either. A file whose name does not parse
is refused by those checks; it is grouped by its own name.

Each worker is a fork of the command that runs the same batch loop on its
share (one transaction per batch, its own connection, its own record of what
its batch in flight has stored: ``legacy.import_pending``). It reports every
file and every committed batch to the parent through a pipe of its own (one
writer, no shared lock: a worker killed mid-message spoils nothing of the
others'); the parent owns the progress bar and prints the refusals and the
totals. SIGINT or SIGTERM to
the parent is forwarded to the workers, which roll their batch back and stop;
a worker whose parent is gone (``kill -9``) does the same at its next file, so
nothing keeps importing unattended, and the next run deletes what a worker
killed outright had stored. A worker that fails stops the others.

Journal entries of different projects interleave by commit order; each
project's entries keep their order, and serials follow commit order (the
journal's lock is taken when a batch writes its entries)."""

import gc
import multiprocessing
import os
import signal
import time
import traceback
from multiprocessing.connection import wait
from pathlib import Path

from django.db import connections
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    parse_sdist_filename,
    parse_wheel_filename,
)

from packages.names import ultranormalize_name

# How long the parent waits for a message before looking at the signals.
POLL_SECONDS = 0.1
# After a stop, how long the parent waits for its workers to roll back and exit
# before it kills them (what a killed worker stored, the next run deletes).
STOP_GRACE_SECONDS = 60.0
# On SQLite the workers take turns at the one write lock, a whole batch each:
# a worker waits for the other's batch this long before giving up.
SQLITE_LOCK_WAIT_SECONDS = 3600


def project_key(filename: str) -> str:
    """The name under which a file's project, and its look-alikes, are grouped."""
    try:
        if filename.endswith(".whl"):
            name = parse_wheel_filename(filename)[0]
        else:
            name = parse_sdist_filename(filename)[0]
    except (InvalidWheelFilename, InvalidSdistFilename):
        return f"file:{filename}"  # refused by the upload checks anyway
    return ultranormalize_name(name)


def partition(files: list[Path], jobs: int) -> list[list[Path]]:
    """The files in ``jobs`` shares (some may be empty): whole groups of
    ``project_key``, biggest group first to the share with the fewest files
    (ties: the group's key, then the lowest share), each share in the order of
    ``files``."""
    groups: dict[str, list[int]] = {}
    for index, path in enumerate(files):
        groups.setdefault(project_key(path.name), []).append(index)
    shares: list[list[int]] = [[] for _ in range(max(jobs, 1))]
    for _key, indexes in sorted(groups.items(), key=lambda item: (-len(item[1]), item[0])):
        min(shares, key=len).extend(indexes)  # min() takes the first of equals
    return [[files[index] for index in sorted(share)] for share in shares]


class WorkerLink:
    """What a worker process knows of its parent: its own pipe to report to
    (one writer per pipe: a worker killed in the middle of a message spoils
    only its own pipe, and holds no lock another worker needs)."""

    def __init__(self, connection, worker: int, parent_pid: int):
        self.connection = connection
        self.worker = worker
        self.parent_pid = parent_pid

    def parent_gone(self) -> bool:
        return os.getppid() != self.parent_pid

    def send(self, kind: str, *payload) -> None:
        """Raises OSError (BrokenPipeError) once the parent is gone."""
        self.connection.send((kind, self.worker, *payload))


def _worker_main(command, link: WorkerLink, files: list[Path], run_share,
                 inherited: list) -> None:
    """In the forked worker: ``run_share(files)`` with the command reporting
    through ``link``; ends with one "finished", "stopped" or "failed" message."""
    from legacy.management.commands.importdists import Interrupted

    # The parent's ends of the pipes: only the parent may hold them, so that a
    # send fails (instead of filling a pipe nobody reads) once it is gone.
    for connection in inherited:
        connection.close()

    def stop(signum, frame):
        # The first signal stops at the next file; later ones (Ctrl-C reaches
        # the whole process group, then the parent forwards SIGTERM) change
        # nothing: the batch in progress rolls back in good order.
        if command.stop_signal is None:
            command.stop_signal = signum

    # stop_signal stays as forked: set if a signal reached the parent already.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, stop)
    command.link = link
    for connection in connections.all():
        if connection.vendor == "sqlite":
            options = connection.settings_dict.setdefault("OPTIONS", {})
            options["timeout"] = max(options.get("timeout", 5), SQLITE_LOCK_WAIT_SECONDS)
    try:
        try:
            run_share(files)
        except Interrupted:
            link.send("stopped", command.stop_signal)
        except BaseException as exc:  # noqa: BLE001 - reported to the parent, which stops
            link.send("failed", f"{type(exc).__name__}: {exc}", traceback.format_exc())
        else:
            link.send("finished")
    except OSError:
        pass  # the parent is gone: nobody to tell
    finally:
        connections.close_all()
        link.connection.close()


class WorkerFailed(Exception):
    def __init__(self, message: str, details: str = ""):
        super().__init__(message)
        self.details = details


def run_workers(command, shares: list[list[Path]], run_share) -> bool:
    """Import the shares in one forked process each; returns when all ended,
    whether one of them was stopped by a signal before the end of its share.

    ``command`` reports through ``file_done(worker, in_batch)`` and
    ``batch_committed(worker, results)`` (called here, in the parent, for each
    message) and its ``stop_signal`` (set by its signal handler) is forwarded
    to the workers. Raises ``WorkerFailed`` if a worker failed or died (unless
    a signal stopped the import meanwhile: the caller reports the signal)."""
    context = multiprocessing.get_context("fork")
    parent_pid = os.getpid()
    # The children must not share the parent's connections (nor their sockets).
    connections.close_all()
    # What is loaded by now (Django, the modules, the list of files) is left
    # out of the workers' garbage collections: less to walk, fewer pages copied.
    gc.freeze()
    workers: dict[int, multiprocessing.Process] = {}
    readers: dict = {}  # the parent's end of each worker's pipe -> the worker
    ended: set[int] = set()
    stopped = False
    failure: WorkerFailed | None = None
    forwarded = False

    def handle(message) -> None:
        nonlocal failure, stopped
        kind, worker, *payload = message
        if kind == "file":
            command.file_done(worker, payload[0])
        elif kind == "batch":
            command.batch_committed(worker, payload[0])
        elif kind == "finished":
            ended.add(worker)
        elif kind == "stopped":
            ended.add(worker)
            stopped = True
            if command.stop_signal is None and failure is None:
                # Stopped by a signal of its own (sent to it alone): all stop.
                command.stop_signal = payload[0] or signal.SIGTERM
        elif kind == "failed":
            ended.add(worker)
            if failure is None:
                failure = WorkerFailed(payload[0], payload[1])

    def stop_all() -> None:
        for worker, process in workers.items():
            if worker not in ended and process.exitcode is None:
                try:
                    os.kill(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass

    try:
        for worker, files in enumerate(shares):
            reader, writer = context.Pipe(duplex=False)
            process = context.Process(
                target=_worker_main,
                args=(command, WorkerLink(writer, worker, parent_pid), files, run_share,
                      [*readers, reader]),
                name=f"importdists-{worker}", daemon=False)
            process.start()
            writer.close()  # the worker's alone: its end of file is the worker's exit
            workers[worker] = process
            readers[reader] = worker
        while readers:
            if (command.stop_signal is not None or failure is not None) and not forwarded:
                forwarded = True
                stop_all()
            for reader in wait(list(readers), timeout=POLL_SECONDS):
                try:
                    message = reader.recv()
                except (EOFError, OSError):
                    # The worker has exited (or was killed in mid-message).
                    worker = readers.pop(reader)
                    reader.close()
                    if worker not in ended:
                        ended.add(worker)
                        process = workers[worker]
                        process.join(STOP_GRACE_SECONDS)
                        if failure is None:
                            failure = WorkerFailed(
                                f"worker {worker} (pid {process.pid}) died with exit "
                                f"code {process.exitcode}")
                    continue
                handle(message)
    except BaseException:
        stop_all()
        raise
    finally:
        _reap(workers, readers)
        gc.unfreeze()
    if failure is not None and command.stop_signal is None:
        raise failure
    return stopped or failure is not None


def _reap(workers: dict[int, multiprocessing.Process], readers: dict) -> None:
    """Wait for the workers to exit, reading what they still send (a worker
    cannot exit while its message waits for room in the pipe), and kill those
    that have not exited after STOP_GRACE_SECONDS."""
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    while readers and time.monotonic() < deadline:
        for reader in wait(list(readers), timeout=POLL_SECONDS):
            try:
                reader.recv()
            except Exception:  # noqa: BLE001 - its end (or a message cut short)
                readers.pop(reader)
                reader.close()
    for reader in readers:
        reader.close()
    for process in workers.values():
        process.join(max(deadline - time.monotonic(), 0))
        if process.exitcode is None:
            process.kill()
        process.join()
