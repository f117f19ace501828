"""The shared cache (Django's; Redis in production) as the read APIs use it.

It only saves work: every call here tolerates the cache being unreachable (the
error is logged, a read misses, a write is skipped), so pip keeps installing
and every API keeps answering from the database.

Cached answers are keyed by what determines them (a project's ``last_serial``,
the index serial), so a journaled change needs no deletion. A change that is
not journaled (a curation change, a user renamed) reaches them through a purge
of its keys (``project/<n>``, ``all-projects``, see packages.cache.purge): each key
has a *generation*, a small counter that the purge bumps and that cached entries
carry or are keyed by, so every entry of the key becomes stale at once, in every
process, without scanning for it.

``local_bodies`` keeps this process's copies of rendered bodies (a pickle round
trip per request is the largest cost of a cached page or document); entries are
either keyed by what determines them or validated against the shared cache
before use, so they never need invalidating."""

import logging
import threading
from collections import OrderedDict
from collections.abc import Iterable

from django.core.cache import cache
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.signals import setting_changed

logger = logging.getLogger(__name__)
_MISSING = object()


def get(key: str, default=None):
    try:
        return cache.get(key, default)
    except Exception:
        logger.warning("shared cache unavailable, answering without it", exc_info=True)
        return default


def get_many(keys: list[str]) -> dict | None:
    """The entries found (one round trip); None when the cache is unreachable."""
    try:
        return cache.get_many(keys)
    except Exception:
        logger.warning("shared cache unavailable, answering without it", exc_info=True)
        return None


def set(key: str, value, timeout=DEFAULT_TIMEOUT) -> None:  # noqa: A001 - the cache's verb
    try:
        cache.set(key, value, timeout)
    except Exception:
        logger.warning("shared cache unavailable, answer not stored", exc_info=True)


def set_many(entries: dict, timeout=DEFAULT_TIMEOUT) -> None:
    try:
        cache.set_many(entries, timeout)
    except Exception:
        logger.warning("shared cache unavailable, answer not stored", exc_info=True)


def get_or_build(key: str, build, timeout=DEFAULT_TIMEOUT):
    """The shared cache's value under ``key`` (None and ``[]`` are values too),
    else ``build()``'s, stored. For keys that carry what the value depends on."""
    value = get(key, _MISSING)
    if value is _MISSING:
        value = build()
        set(key, value, timeout)
    return value


# --- generations ------------------------------------------------------------------


def generation_key(purge_key: str) -> str:
    return f"generation:{purge_key}"


def generation(purge_key: str) -> int | None:
    """The purge key's generation (0 before its first purge); None when the
    cache is unreachable (then nothing may be cached under it)."""
    found = get_many([generation_key(purge_key)])
    return None if found is None else found.get(generation_key(purge_key), 0)


def bump_generations(purge_keys: Iterable[str]) -> None:
    """The purger (see packages.cache.purgers.register_purger): every entry cached
    under these keys' current generations is stale from now on. Never raises:
    the other purgers (the CDN) still run, and entries expire on their own."""
    for purge_key in purge_keys:
        key = generation_key(purge_key)
        try:
            try:
                cache.incr(key)
            except ValueError:  # never purged: entries carry generation 0
                if not cache.add(key, 1, timeout=None):
                    cache.incr(key)
        except Exception:
            logger.warning("could not purge cached answers of %s", purge_key, exc_info=True)


# --- this process's copies ----------------------------------------------------------


class LocalLRU:
    """A thread-safe LRU of rendered bodies, bounded by their total size. A value
    is the body (bytes) or a tuple whose first item is the body."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, tuple[object, int]] = OrderedDict()
        self._total = 0
        self._lock = threading.Lock()

    def get(self, key: str):
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            self._entries.move_to_end(key)
            return found[0]

    def put(self, key: str, value) -> None:
        size = len(value[0] if isinstance(value, tuple) else value)
        if size > self.max_bytes // 4:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._total -= old[1]
            self._entries[key] = (value, size)
            self._total += size
            while self._total > self.max_bytes:
                _, (_, dropped) = self._entries.popitem(last=False)
                self._total -= dropped

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._total = 0


# Simple pages (~1-20 kB) and JSON documents (a 3,000-release project is ~8 MB).
local_bodies = LocalLRU(max_bytes=128 * 1024 * 1024)


def find_body(key: str):
    """This process's copy of the value under ``key``, else the shared cache's
    (then kept here); None. For keys that carry everything the value depends on."""
    value = local_bodies.get(key)
    if value is None:
        value = get(key)
        if value is not None:
            local_bodies.put(key, value)
    return value


def keep_body(key: str, value, timeout=DEFAULT_TIMEOUT) -> None:
    set(key, value, timeout)
    local_bodies.put(key, value)


def cached_body(key: str, build, *, timeout=DEFAULT_TIMEOUT):
    """This process's copy, else ``get_or_build``'s value, then kept here."""
    value = local_bodies.get(key)
    if value is None:
        value = get_or_build(key, build, timeout)
        local_bodies.put(key, value)
    return value


def _settings_changed(**kwargs):
    # Settings shape the bodies (storage, base URLs); tests change them per test.
    local_bodies.clear()


setting_changed.connect(_settings_changed)
