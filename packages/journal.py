"""The journal: an append-only log whose ids are the index's serials."""

from django.db import connection, transaction
from django.db.models import Max

from packages.models import JournalEntry, Project

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
    _lock_journal()
    entry = JournalEntry.objects.create(
        name=name if name is not None else project.name,
        version=version,
        action=action,
        submitted_by=by.get_username() if by is not None else "",
    )
    if project is not None and project.pk is not None:
        Project.objects.filter(pk=project.pk).update(last_serial=entry.id)
        project.last_serial = entry.id
    return entry


def last_serial() -> int:
    """The index's serial: the highest journal id (0 for an empty index)."""
    return JournalEntry.objects.aggregate(serial=Max("id"))["serial"] or 0
