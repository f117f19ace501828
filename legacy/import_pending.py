"""What importdists has stored for the batch it has not committed yet.

A batch's files reach storage before its transaction commits (as an upload's
do). If the batch rolls back in-process, its stored files are deleted at once;
but a process killed outright (kill -9, a crash, the machine going down) leaves
them behind with no row pointing at them. So before storing a file, the storage
paths it will take are appended to a small record file (one per running
importdists, locked while it runs); the record is emptied when the batch
commits. The next importdists finds the records whose owner is gone (the lock
is free) and deletes what they list that no committed row references."""

import contextlib
import fcntl
import os
from pathlib import Path

from packages.models import File
from packages.storage import delete_stored, distributions_storage


def _unreferenced(paths: list[str]) -> list[str]:
    """Paths no committed File points at (a ``.metadata`` belongs to its
    distribution's path: content-addressed, an identical upload shares them)."""
    wanted = {path.removesuffix(".metadata") for path in paths}
    referenced = set(File.objects.filter(path__in=wanted).values_list("path", flat=True))
    return [path for path in paths if path.removesuffix(".metadata") not in referenced]


def delete_unreferenced(paths: list[str]) -> int:
    storage = distributions_storage()
    deleted = 0
    for path in _unreferenced(list(dict.fromkeys(paths))):
        with contextlib.suppress(OSError):
            if storage.exists(path):
                delete_stored(path)
                deleted += 1
    return deleted


class PendingRecord:
    """This process's record file in ``folder``; use as a context manager."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.path = self.folder / f"pending-{os.getpid()}.txt"
        self._file = None
        self.paths: list[str] = []

    def __enter__(self) -> "PendingRecord":
        for _attempt in range(3):  # another run may remove the empty folder meanwhile
            self.folder.mkdir(parents=True, exist_ok=True)
            try:
                self._file = self.path.open("a+")
                break
            except FileNotFoundError:
                continue
        else:
            self._file = self.path.open("a+")
        fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._file.truncate(0)
        return self

    def __exit__(self, *exc) -> None:
        if not self.paths:
            self.path.unlink(missing_ok=True)
            with contextlib.suppress(OSError):  # not empty: another run's record
                self.folder.rmdir()
        self._file.close()  # releases the lock; a non-empty record is cleaned up next run

    def add(self, paths: list[str]) -> None:
        """Before the paths are stored. Written through at once (a killed
        process loses nothing it wrote to the file)."""
        self.paths.extend(paths)
        self._file.write("".join(f"{path}\n" for path in paths))
        self._file.flush()

    def committed(self) -> None:
        """The batch committed: its files are referenced now."""
        self.paths.clear()
        self._file.truncate(0)

    def rolled_back(self) -> None:
        """The batch rolled back: what it stored goes (unless a committed row
        shares the path), then the record is emptied."""
        delete_unreferenced(self.paths)
        self.committed()


def clean_abandoned_records(folder: Path) -> int:
    """Delete the stored files of records left by importdists processes that
    died mid-batch; returns how many files were deleted."""
    folder = Path(folder)
    if not folder.is_dir():
        return 0
    deleted = 0
    for record in sorted(folder.glob("pending-*.txt")):
        with record.open("r+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # its importdists is still running
            paths = [line.strip() for line in handle if line.strip()]
            deleted += delete_unreferenced(paths)
            record.unlink(missing_ok=True)
    return deleted
