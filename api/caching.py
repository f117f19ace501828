"""Where rendered JSON documents live in the shared cache.

A document is stored under a key holding the project's ``last_serial``, so a
journaled change needs no deletion: the next request misses and rebuilds. A
change that was not journaled (a user or team renamed, an admin's edit) reaches
the documents through a purge of ``project/<n>``: it bumps that key's
*generation* (packages.http.shared_cache), which every cached document is
checked against, so every route and every spelling of a version URL rebuilds
on its next request, in every process.

Each process keeps its own copies of the bodies (a 3,000-release project is
~8 MB, ~40 ms to fetch from Redis and unpickle); a copy is served only after
one small read of the shared cache (the document's ETag entry and the
project's generation, in one round trip) says it is still current. When the
shared cache is unreachable, documents are built from the database."""

import hashlib
from collections.abc import Callable

from django.conf import settings

from packages.cache.keys import project_key
from packages.http import shared_cache
from packages.http.conditional import if_none_match_names
from packages.http.shared_cache import local_bodies

# Bump when the body format changes, so cached bodies of the old format are ignored.
FORMAT = "2"
PROJECT_ROUTE = "project"


def release_route(version: str) -> str:
    return f"release\n{version}"


def document_key(project_pk: int, last_serial: int, route: str) -> str:
    """Key of the body; the ETag alone is kept under the same key + ``:etag``."""
    route_hash = hashlib.sha256(f"{settings.INDEX_BASE_URL}\n{route}".encode()).hexdigest()
    return f"api-json:{FORMAT}:{project_pk}:{last_serial}:{route_hash}"


class Miss:
    """No current document in the cache; ``generation`` (None when the cache is
    unreachable) is what a document built now must be stored with."""

    __slots__ = ("generation",)

    def __init__(self, generation):
        self.generation = generation


def find_cached(key: str, normalized_name: str, *, if_none_match: str):
    """``(body, etag)`` of the current document under ``key`` (``body`` None when
    ``if_none_match`` names its ETag: answer 304, the body is not even
    fetched), or a ``Miss``."""
    etag_key = f"{key}:etag"
    gen_key = shared_cache.generation_key(project_key(normalized_name))
    found = shared_cache.get_many([etag_key, gen_key])
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
    cached = shared_cache.get(key)
    if cached is None or cached[1] != etag:
        return Miss(generation)
    local_bodies.put(key, cached)
    return cached


def cached_document(
    key: str, *, normalized_name: str, if_none_match: str,
    build: Callable[[], tuple[bytes, str] | None], timeout,
) -> tuple[bytes | None, str] | None:
    """As ``find_cached``, but a miss builds the document and stores it; None
    when ``build`` finds nothing."""
    found = find_cached(key, normalized_name, if_none_match=if_none_match)
    if not isinstance(found, Miss):
        return found
    built = build()
    if built is None:
        return None
    if found.generation is not None:
        shared_cache.set_many({key: built, f"{key}:etag": (built[1], found.generation)}, timeout)
        local_bodies.put(key, built)
    return built
