"""Single flight: one fetch at a time per page or file, across threads and processes.

Threads of one process queue on a lock per key; processes meet in the database
on an UpstreamFetchLease row whose insert only one of them wins (a unique key,
so it behaves the same on SQLite and PostgreSQL and holds no transaction open
while the upstream is slow). The others poll until the row is gone, then find
the work done (``ready()``) and use it instead of fetching again. A lease
expires, so a holder that died frees its key; a long download renews it.
"""

import threading
import time
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from packages.upstream.models import UpstreamFetchLease

POLL_SECONDS = 0.1

_guard = threading.Lock()
_local: dict[str, list] = {}  # key -> [lock, users]


class FlightTimeout(Exception):
    """Someone else is still fetching this, past our deadline."""


class Flight:
    """A claimed key; ``release()`` lets the waiters in."""

    def __init__(self, key: str, lock: threading.Lock, ttl: float):
        self.key = key
        self._lock = lock
        self._ttl = ttl
        self._renewed = time.monotonic()
        self.released = False

    def renew(self) -> None:
        # At most every few seconds: a streamed download calls it per chunk.
        if time.monotonic() - self._renewed < min(5.0, self._ttl / 3):
            return
        self._renewed = time.monotonic()
        UpstreamFetchLease.objects.filter(key=self.key).update(
            expires_at=timezone.now() + timedelta(seconds=self._ttl))

    def release(self) -> None:
        if self.released:
            return
        self.released = True
        try:
            UpstreamFetchLease.objects.filter(key=self.key).delete()
        finally:
            self._lock.release()
            _drop_local(self.key)


def claim_or_wait(key: str, *, deadline: float, ttl: float, ready) -> Flight | None:
    """Claim the fetch of ``key`` (a Flight to release), or None once ``ready()``
    says another holder did the work. FlightTimeout when the deadline passes."""
    lock = _local_lock(key)
    if not lock.acquire(timeout=max(deadline - time.monotonic(), 0)):
        _drop_local(key)
        raise FlightTimeout(key)
    try:
        while True:
            if ready():
                break
            if _claim_row(key, ttl):
                # The holder before us may have finished between ready() and our
                # claim: its work committed before its row went, so look again.
                if not ready():
                    return Flight(key, lock, ttl)
                UpstreamFetchLease.objects.filter(key=key).delete()
                break
            if time.monotonic() + POLL_SECONDS > deadline:
                raise FlightTimeout(key)
            time.sleep(POLL_SECONDS)
    except BaseException:
        lock.release()
        _drop_local(key)
        raise
    lock.release()
    _drop_local(key)
    return None


def _claim_row(key: str, ttl: float) -> bool:
    now = timezone.now()
    UpstreamFetchLease.objects.filter(key=key, expires_at__lt=now).delete()
    try:
        with transaction.atomic():
            UpstreamFetchLease.objects.create(key=key, expires_at=now + timedelta(seconds=ttl))
    except IntegrityError:
        return False
    return True


def _local_lock(key: str) -> threading.Lock:
    with _guard:
        entry = _local.setdefault(key, [threading.Lock(), 0])
        entry[1] += 1
        return entry[0]


def _drop_local(key: str) -> None:
    with _guard:
        entry = _local.get(key)
        if entry is not None:
            entry[1] -= 1
            if entry[1] <= 0:
                del _local[key]


def flight_key(*parts) -> str:
    """A lease key within the column's 255 characters (long names are hashed)."""
    key = ":".join(str(part) for part in parts)
    if len(key) <= 255:
        return key
    import hashlib

    return f"{parts[0]}:sha256:{hashlib.sha256(key.encode()).hexdigest()}"
