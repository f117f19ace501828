"""The result cache PyPI keeps for the heavy XML-RPC methods (spec xmlrpc-api.md §7).

Results live in Django's cache (Redis in production), grouped under the purge
tags of packages.caching (``project/<normalized name>``, ``all-projects``).
Instead of scanning for a tag's entries, every tag has a generation token that
is part of its entries' keys; purging a tag deletes the token, so all its
entries become unreachable at once and expire on their own. A result computed
before a purge is written under the old token and is never read, so a slow
reader cannot put stale data back after the purge.

Cache errors never fail a call: a miss on error computes the answer uncached."""

import hashlib
import json
import logging
import secrets

from django.core.cache import cache

logger = logging.getLogger(__name__)

_MISSING = object()
# Warehouse's default expiry when a method names none (25 hours).
DEFAULT_TTL = 25 * 3600


def _generation_key(tag: str) -> str:
    return f"xmlrpc:gen:{tag}"


def _generation(tag: str) -> str:
    key = _generation_key(tag)
    token = cache.get(key)
    if token is None:
        cache.add(key, secrets.token_hex(8), timeout=None)
        token = cache.get(key)
    if token is None:  # evicted between add and get: do not cache this call
        raise LookupError(tag)
    return token


def _entry_key(tag: str, generation: str, function: str, args) -> str:
    fields = json.dumps(list(args), separators=(",", ":"), sort_keys=True, default=str)
    digest = hashlib.sha256(fields.encode()).hexdigest()
    return f"xmlrpc:{tag}:{generation}:{function}:{digest}"


def cached_call(tag: str, function: str, args, compute, *, ttl: int = DEFAULT_TTL):
    """``compute()``'s result, from the cache when present (an empty list is a hit)."""
    try:
        key = _entry_key(tag, _generation(tag), function, args)
        value = cache.get(key, _MISSING)
    except Exception:
        logger.warning("XML-RPC result cache unavailable", exc_info=True)
        return compute()
    if value is not _MISSING:
        return value
    value = compute()
    try:
        cache.set(key, value, timeout=ttl)
    except Exception:
        logger.warning("Could not store an XML-RPC result", exc_info=True)
    return value


def purge_tags(tags: list[str]) -> None:
    """The purger registered with packages.caching: drop every entry of ``tags``."""
    try:
        cache.delete_many([_generation_key(tag) for tag in tags])
    except Exception:
        # Never raise: other purgers (the CDN) still have to run, and an eager purge
        # must not fail the request whose change already committed. Entries still
        # expire with their TTL.
        logger.warning("Could not purge XML-RPC results for %s", tags, exc_info=True)
