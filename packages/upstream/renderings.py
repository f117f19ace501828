"""Cached renderings of upstream projects: the simple pages (legacy/simple_pages.py)
and the JSON API's documents (api/views.py) of a name the proxy serves.

An upstream page has no serial of this index, and rendering it runs the proxy's
curation queries (reservations, blocks, approval, cooldown, the kept files).
What the bytes depend on:
  * the kept copy (``UpstreamPage.kept_token``: which row, when fetched);
  * curation rows, the kept copy's files, the upstreams: every change is purged
    (packages.upstream.purges), which bumps the generation of ``project/<name>``
    or of ``UPSTREAM_PAGES``;
  * the clock: the page's ``shown_until`` (a file in cooldown appears, or the
    kept copy is due for revalidation: the request then goes to the proxy,
    which asks the upstream);
  * for a merged page, the local project (the caller's ``local`` token);
  * the INDEX_UPSTREAM_* settings (the environment's upstream row follows them
    without a signal);
  * what the caller renders (``kind``: the representation, its render version,
    the document's version).

A small entry per name and kind (the "pointer") holds the generations it was
rendered under, the local token, the deadline, the ETag and the key of the body;
the body's key carries all of it. One round trip of the shared cache checks the
pointer against the current generations; the body then comes from this
process's LRU, as a local page's does. A stale page (its upstream failing) is
never cached: each request must try the upstream again."""

import hashlib
import math
import time
import zlib
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache

from packages.cache.keys import project_key
from packages.http import shared_cache
from packages.http.conditional import client_has
from packages.upstream.purges import UPSTREAM_PAGES

PROCESS_LOCAL_SECONDS = 2


@dataclass(frozen=True)
class RenderingHit:
    etag: str
    serial: int | None
    body_key: str
    generations: tuple[int, int]
    shown_until: float  # the page's shown_until, as a timestamp

    def reply(self, request) -> tuple[bool, bytes | None]:
        """What to answer from the cache: (True, None) when the client's copy is
        current (a 304), (True, body), or (False, None) when the body was evicted
        (render again)."""
        if client_has(request, self.etag):
            return True, None
        body = shared_cache.find_body(self.body_key)
        return body is not None, body


@dataclass(frozen=True)
class RenderingMiss:
    """What a rendering made now is stored under: the generations read before
    rendering (None when the shared cache is unreachable: nothing is stored)."""

    generations: tuple[int, int] | None


def _settings_token() -> str:
    values = (settings.INDEX_UPSTREAM_URL, settings.INDEX_UPSTREAM_MODE,
              settings.INDEX_UPSTREAM_COOLDOWN, settings.INDEX_UPSTREAM_REVALIDATE,
              settings.INDEX_UPSTREAM_MAX_STALE)
    return f"{zlib.crc32(repr(values).encode()):08x}"


def _kind_token(kind: str) -> str:
    # A kind may carry a version string from the URL: hashed, any text makes a
    # valid cache key, and two kinds never share one.
    return hashlib.sha256(kind.encode()).hexdigest()[:32]


def _pointer_key(normalized_name: str, kind: str) -> str:
    return f"upstream:r:{_kind_token(kind)}:{_settings_token()}:{normalized_name}"


def find_rendering(normalized_name: str, kind: str, local: str = "-") -> RenderingHit | RenderingMiss:
    """The cached rendering of this name's upstream (or merged) page, if it is
    still current: one round trip of the shared cache, no query."""
    generation_keys = [shared_cache.generation_key(project_key(normalized_name)),
                       shared_cache.generation_key(UPSTREAM_PAGES)]
    pointer_key = _pointer_key(normalized_name, kind)
    found = shared_cache.get_many([*generation_keys, pointer_key])
    if found is None:
        return RenderingMiss(None)
    generations = tuple(found.get(key, 0) for key in generation_keys)
    pointer = found.get(pointer_key)
    if pointer is None:
        return RenderingMiss(generations)
    pointer_generations, pointer_local, valid_until, etag, serial, body_key, shown_until = pointer
    if pointer_generations != generations or pointer_local != local or time.time() >= valid_until:
        return RenderingMiss(generations)
    return RenderingHit(etag, serial, body_key, generations, shown_until)


def keep_rendering(miss: RenderingMiss, page, kind: str, local: str = "-", *, body: bytes,
                   etag: str, serial: int | None) -> None:
    """Store a rendering made after ``miss``; ``page`` is its UpstreamPage."""
    shown_until = page.shown_until
    if miss.generations is None or shown_until is None:
        return
    shown_until = valid_until = shown_until.timestamp()
    if isinstance(caches["default"], LocMemCache):
        # The embedded default's cache is this process's: a purge run by another
        # worker (a curator's block) never bumps the generations seen here, so
        # a rendering is kept only briefly. Redis (CACHE_URL) shares them.
        valid_until = min(valid_until, time.time() + PROCESS_LOCAL_SECONDS)
    timeout = math.ceil(valid_until - time.time())
    if timeout <= 0:
        return  # due for revalidation (or a file's cooldown ends) right now
    body_key = (f"upstream:b:{_kind_token(kind)}:{page.name}:{page.kept_token}:"
                f"{miss.generations[0]}.{miss.generations[1]}:{valid_until:.6f}:{local}")
    shared_cache.keep_body(body_key, body, timeout)
    pointer = (miss.generations, local, valid_until, etag, serial, body_key, shown_until)
    shared_cache.set(_pointer_key(page.name, kind), pointer, timeout)
