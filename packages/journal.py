"""The journal: an append-only log whose ids are the index's serials."""

import threading
from contextlib import contextmanager
from itertools import pairwise

from django.db import connection, transaction
from django.db.models import Max

from packages.models import JournalEntry, Project
from packages.project_updates import update_per_project

# Any constant: the advisory lock that makes serials commit-ordered on PostgreSQL.
_JOURNAL_LOCK_ID = 0x1D3C5E7


def _lock_journal() -> None:
    """Serialize journal writers until commit, so that a serial is never seen by
    a mirror before a lower one commits (PyPI takes the same advisory lock).
    SQLite needs nothing: its writers are already serialized."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_JOURNAL_LOCK_ID])


def record_journal_entry(
    project: Project | None,
    action: str,
    *,
    name: str | None = None,
    version: str | None = None,
    by=None,
) -> JournalEntry:
    """Append an entry and move the project's last_serial to it.

    Must run inside the caller's transaction (the domain operation's atomic block),
    so that the entry and the change it describes commit together."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("record_journal_entry() must run inside transaction.atomic()")
    entry = JournalEntry(
        name=name if name is not None else project.name,
        version=version,
        action=action,
        submitted_by=by.get_username() if by is not None else "",
    )
    collected = getattr(_collecting, "batch", None)
    if collected is not None:
        # Inside journal_batch(): written, in this order, when the batch ends.
        collected.entries.append((entry, project))
        return entry
    _lock_journal()
    entry.save(force_insert=True)
    if project is not None and project.pk is not None:
        Project.objects.filter(pk=project.pk).update(last_serial=entry.id)
        project.last_serial = entry.id
    return entry


class JournalBatch:
    """The entries recorded inside ``journal_batch()``, not yet written."""

    def __init__(self):
        self.entries: list[tuple[JournalEntry, Project | None]] = []

    def mark(self) -> int:
        return len(self.entries)

    def discard_from(self, mark: int) -> None:
        """Forget the entries recorded since ``mark``: the change they describe
        was rolled back (a refused upload's savepoint)."""
        del self.entries[mark:]

    def write(self) -> None:
        """One insert for all the entries, in the order they were recorded, then
        each project's last_serial moved once, to its highest entry (one
        statement per 200 projects)."""
        if not self.entries:
            return
        _lock_journal()
        rows = [entry for entry, _ in self.entries]
        JournalEntry.objects.bulk_create(rows)
        if any(row.id is None for row in rows) or any(
                later.id <= earlier.id for earlier, later in pairwise(rows)):
            # Serials must follow the recording order; a backend that returned no
            # ids, or returned them out of order, rolls the batch back rather than
            # moving last_serial wrongly.
            raise RuntimeError("journal_batch(): the inserted serials are not in order")
        last: dict[int, tuple[int, list[Project]]] = {}
        for entry, project in self.entries:
            if project is None or project.pk is None:
                continue
            serial, objects = last.get(project.pk, (0, []))
            objects.append(project)
            last[project.pk] = (max(serial, entry.id), objects)
        update_per_project("last_serial", {pk: serial for pk, (serial, _) in last.items()})
        for serial, objects in last.values():
            for project in objects:
                project.last_serial = serial
        self.entries = []


_collecting = threading.local()


def collecting_journal() -> JournalBatch | None:
    """The ``journal_batch()`` this thread is in, if any."""
    return getattr(_collecting, "batch", None)


@contextmanager
def journal_batch():
    """Collect the ``record_journal_entry()`` calls made inside, and write them
    with one bulk insert when the block ends without error: the same entries, in
    the same order, with the same serials relative to each other as if each had
    been written at once (the journal lock, taken at the write, is held until
    commit, so serials stay commit-ordered). Nothing inside may read the serials
    meanwhile. Use it inside the transaction whose changes the entries describe;
    on an error the entries are dropped with the rolled-back transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("journal_batch() must run inside transaction.atomic()")
    if getattr(_collecting, "batch", None) is not None:
        raise RuntimeError("journal_batch() does not nest")
    batch = _collecting.batch = JournalBatch()
    try:
        yield batch
        batch.write()
    finally:
        _collecting.batch = None


def last_serial() -> int:
    """The index's serial: the highest journal id (0 for an empty index)."""
    return JournalEntry.objects.aggregate(serial=Max("id"))["serial"] or 0
