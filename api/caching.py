"""Where rendered JSON documents live in the Django cache.

A document is stored under a key holding the project's ``last_serial``, so a
journaled change needs no deletion: the next request misses and rebuilds. A
purge of ``project/<n>`` (a change that was not journaled, such as an admin's
metadata edit) drops the documents of the project's current serial as well:
the project route and each release under its stored version spelling."""

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache

from packages.headers import if_none_match_names
from packages.models import Project, Release

# Bump when the body format changes, so cached bodies of the old format are ignored.
FORMAT = "1"
PROJECT_ROUTE = "project"
_PROJECT_KEY_PREFIX = "project/"


def release_route(version: str) -> str:
    return f"release\n{version}"


def document_key(project_pk: int, last_serial: int, route: str) -> str:
    """Key of the body; the ETag alone is kept under the same key + ``:etag``."""
    route_hash = hashlib.sha256(f"{settings.INDEX_BASE_URL}\n{route}".encode()).hexdigest()
    return f"api-json:{FORMAT}:{project_pk}:{last_serial}:{route_hash}"


class _LocalBodies:
    """This process's copies of large bodies (a 3,000-release project is ~8 MB,
    ~40 ms to fetch from Redis and unpickle). A copy is used only while the
    shared cache still holds the same ETag under ``<key>:etag``, so purges and
    new serials apply to every process at once."""

    MIN_SIZE = 256 * 1024
    MAX_TOTAL = 64 * 1024 * 1024

    def __init__(self):
        self._bodies: OrderedDict[str, tuple[bytes, str]] = OrderedDict()
        self._total = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> tuple[bytes, str] | None:
        with self._lock:
            found = self._bodies.get(key)
            if found is not None:
                self._bodies.move_to_end(key)
            return found

    def put(self, key: str, body: bytes, etag: str) -> None:
        if len(body) < self.MIN_SIZE or len(body) > self.MAX_TOTAL // 4:
            return
        with self._lock:
            old = self._bodies.pop(key, None)
            if old is not None:
                self._total -= len(old[0])
            self._bodies[key] = (body, etag)
            self._total += len(body)
            while self._total > self.MAX_TOTAL:
                _, (dropped, _) = self._bodies.popitem(last=False)
                self._total -= len(dropped)

    def clear(self) -> None:
        with self._lock:
            self._bodies.clear()
            self._total = 0


local_bodies = _LocalBodies()


def cached_document(
    key: str, *, if_none_match: str, build: Callable[[], tuple[bytes, str] | None], timeout
) -> tuple[bytes | None, str] | None:
    """``(body, etag)`` of the document under ``key``, built and stored on a miss;
    ``body`` is None when ``if_none_match`` names the current ETag (answer 304,
    the body is not even fetched); None when ``build`` finds nothing."""
    etag_key = f"{key}:etag"
    local = local_bodies.get(key)
    # The small ETag entry answers conditional requests and validates local copies.
    etag = cache.get(etag_key) if (local is not None or if_none_match) else None
    if etag is not None:
        if if_none_match_names(if_none_match, etag):
            return None, etag
        if local is not None and local[1] == etag:
            return local
    cached = cache.get(key)
    if cached is None:
        cached = build()
        if cached is None:
            return None
        cache.set_many({key: cached, etag_key: cached[1]}, timeout)
    elif etag is None:
        cache.set(etag_key, cached[1], timeout)
    local_bodies.put(key, *cached)
    body, etag = cached
    return (None, etag) if if_none_match_names(if_none_match, etag) else (body, etag)


def drop_project_documents(keys: list[str]) -> None:
    """Purger (see packages.caching.register_purger) for ``project/<n>`` keys."""
    names = [key[len(_PROJECT_KEY_PREFIX):] for key in keys if key.startswith(_PROJECT_KEY_PREFIX)]
    if not names:
        return
    doomed = []
    for pk, serial in Project.objects.filter(normalized_name__in=names).values_list(
        "pk", "last_serial"
    ):
        routes = [PROJECT_ROUTE] + [
            release_route(version)
            for version in Release.objects.filter(project_id=pk).values_list("version", flat=True)
        ]
        for route in routes:
            key = document_key(pk, serial, route)
            doomed += [key, f"{key}:etag"]
    if doomed:
        cache.delete_many(doomed)
