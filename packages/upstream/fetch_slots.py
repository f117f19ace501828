"""The bound on concurrent fetches per upstream (shared/spec/upstream.md,
"Freshness and failure": bounded concurrent fetches per upstream).

Each process holds at most INDEX_UPSTREAM_MAX_CONCURRENT_FETCHES fetches from
one upstream at a time: a page fetch, or the first download of a file (held
until its stream ends, the client gone midway included). The bound is per
process, like the worker threads it protects: a slow upstream then ties up at
most that many of this process's threads, and the upstream sees a bounded
number of connections from each process. Single flight (flights.py) already
makes concurrent requests for the *same* page or file one fetch; this bounds
fetches of *different* ones.

A request that finds every slot taken waits up to the upstream's timeout for
one, then gets UpstreamBusy (503 naming the upstream); a page request serves
its kept copy stale instead when it has one (pages.py).
"""

import threading

from django.conf import settings

from packages.upstream.errors import UpstreamBusy
from packages.upstream.models import Upstream

_guard = threading.Lock()
# (upstream pk, bound) -> semaphore. A changed bound (tests change settings) gets
# a fresh semaphore; slots taken from the old one are still given back to it.
_semaphores: dict[tuple[int, int], threading.BoundedSemaphore] = {}


def max_concurrent_fetches() -> int:
    return max(1, int(settings.INDEX_UPSTREAM_MAX_CONCURRENT_FETCHES))


def _semaphore(upstream: Upstream, bound: int) -> threading.BoundedSemaphore:
    with _guard:
        key = (upstream.pk, bound)
        semaphore = _semaphores.get(key)
        if semaphore is None:
            semaphore = _semaphores[key] = threading.BoundedSemaphore(bound)
        return semaphore


class FetchSlot:
    """One of the upstream's slots, held until ``release()`` (idempotent, so
    every path that may end a fetch can call it)."""

    def __init__(self, semaphore: threading.BoundedSemaphore):
        self._semaphore = semaphore
        self._lock = threading.Lock()
        self.released = False

    def release(self) -> None:
        with self._lock:
            if self.released:
                return
            self.released = True
        self._semaphore.release()

    def __enter__(self) -> "FetchSlot":
        return self

    def __exit__(self, *exc_info) -> None:
        self.release()


def take_slot(upstream: Upstream, *, wait: float) -> FetchSlot:
    """A slot for one fetch from ``upstream``, waiting at most ``wait`` seconds
    for one to free up; UpstreamBusy when none did."""
    bound = max_concurrent_fetches()
    semaphore = _semaphore(upstream, bound)
    if not semaphore.acquire(timeout=max(wait, 0)):
        raise UpstreamBusy(upstream.name, "is busy: this index's limit of "
                           f"{bound} concurrent fetches from it is reached; try again shortly")
    return FetchSlot(semaphore)


def slots_in_use(upstream: Upstream) -> int:
    """How many of the upstream's slots are taken in this process (tests, and
    anyone checking that every fetch gave its slot back)."""
    bound = max_concurrent_fetches()
    semaphore = _semaphore(upstream, bound)
    return bound - semaphore._value  # noqa: SLF001 - threading has no public counter
