"""Where rendered JSON documents live in the Django cache.

A document is stored under a key holding the project's ``last_serial``, so a
journaled change needs no deletion: the next request misses and rebuilds. A
change that was not journaled (a user or team renamed, an admin's edit) reaches
the documents through a purge of ``project/<n>``: it bumps the project's
*generation*, a small shared counter every cached document is checked against,
so every route and every spelling of a version URL rebuilds on its next request,
in every process.

Each process keeps its own copies of the bodies; a copy is served only after
one small read of the shared cache (the document's ETag entry and the
project's generation, in one round trip) says it is still current. When the
shared cache is unreachable, documents are built from the database."""

import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache

from packages.headers import if_none_match_names
from packages.models import Project

logger = logging.getLogger(__name__)

# Bump when the body format changes, so cached bodies of the old format are ignored.
FORMAT = "2"
PROJECT_ROUTE = "project"
_PROJECT_KEY_PREFIX = "project/"


def release_route(version: str) -> str:
    return f"release\n{version}"


def document_key(project_pk: int, last_serial: int, route: str) -> str:
    """Key of the body; the ETag alone is kept under the same key + ``:etag``."""
    route_hash = hashlib.sha256(f"{settings.INDEX_BASE_URL}\n{route}".encode()).hexdigest()
    return f"api-json:{FORMAT}:{project_pk}:{last_serial}:{route_hash}"


def generation_key(project_pk: int) -> str:
    return f"api-json:generation:{project_pk}"


class _LocalBodies:
    """This process's copies of the bodies (a 3,000-release project is ~8 MB,
    ~40 ms to fetch from Redis and unpickle; a typical one is ~20 kB, still a
    pickle round trip per request). A copy is used only while the shared cache
    still holds the same ETag for the project's current generation, so purges
    and new serials apply to every process at once."""

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
        if len(body) > self.MAX_TOTAL // 4:
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


# The shared cache only saves work: when it is unreachable, documents are built
# from the database (the JSON API keeps answering) and the error is logged.


def _cache_call(method: str, *args):
    try:
        return getattr(cache, method)(*args)
    except Exception:
        logger.warning("cache unavailable, JSON documents built without it", exc_info=True)
        return None


class Miss:
    """No current document in the cache; ``generation`` (None when the cache is
    unreachable) is what a document built now must be stored with."""

    __slots__ = ("generation",)

    def __init__(self, generation):
        self.generation = generation


def find_cached(key: str, project_pk: int, *, if_none_match: str):
    """``(body, etag)`` of the current document under ``key`` (``body`` None when
    ``if_none_match`` names its ETag: answer 304, the body is not even
    fetched), or a ``Miss``."""
    etag_key, gen_key = f"{key}:etag", generation_key(project_pk)
    found = _cache_call("get_many", [etag_key, gen_key])
    if found is None:
        return Miss(None)
    generation = found.get(gen_key, 0)
    entry = found.get(etag_key)
    if entry is None or entry[1] != generation:
        return Miss(generation)
    etag = entry[0]
    if if_none_match and if_none_match_names(if_none_match, etag):
        return None, etag
    local = local_bodies.get(key)
    if local is not None and local[1] == etag:
        return local
    cached = _cache_call("get", key)
    if cached is None or cached[1] != etag:
        return Miss(generation)
    local_bodies.put(key, *cached)
    return cached


def cached_document(
    key: str, *, project_pk: int, if_none_match: str,
    build: Callable[[], tuple[bytes, str] | None], timeout,
) -> tuple[bytes | None, str] | None:
    """As ``find_cached``, but a miss builds the document and stores it; None
    when ``build`` finds nothing."""
    found = find_cached(key, project_pk, if_none_match=if_none_match)
    if not isinstance(found, Miss):
        return found
    built = build()
    if built is None:
        return None
    if found.generation is not None:
        _cache_call(
            "set_many", {key: built, f"{key}:etag": (built[1], found.generation)}, timeout
        )
        local_bodies.put(key, *built)
    body, etag = built
    return (None, etag) if if_none_match_names(if_none_match, etag) else (body, etag)


def drop_project_documents(keys: list[str]) -> None:
    """Purger (see packages.caching.register_purger) for ``project/<n>`` keys:
    every cached document of these projects, whatever its route, is rebuilt."""
    names = [key[len(_PROJECT_KEY_PREFIX):] for key in keys if key.startswith(_PROJECT_KEY_PREFIX)]
    if not names:
        return
    for pk in Project.objects.filter(normalized_name__in=names).values_list("pk", flat=True):
        key = generation_key(pk)
        try:
            cache.incr(key)
        except ValueError:  # no purge yet: documents were stored with generation 0
            if not cache.add(key, 1, timeout=None):
                cache.incr(key)
