"""The result cache PyPI keeps for the heavy XML-RPC methods (spec xmlrpc-api.md §7).

Results live in the shared cache (packages.http.shared_cache), grouped under
the purge keys of packages.cache.purge (``project/<normalized name>``,
``all-projects``): an entry's key holds its tag's generation, which a purge of
the tag bumps, so all its entries become unreachable at once and expire on
their own. A result computed before a purge is written under the old
generation and is never read, so a slow reader cannot put stale data back
after the purge.

Cache errors never fail a call: with the cache unreachable, answers are
computed uncached."""

import hashlib
import json

from packages.http import shared_cache

# Warehouse's default expiry when a method names none (25 hours).
DEFAULT_TTL = 25 * 3600


def _entry_key(tag: str, generation: int, function: str, args) -> str:
    fields = json.dumps(list(args), separators=(",", ":"), sort_keys=True, default=str)
    digest = hashlib.sha256(fields.encode()).hexdigest()
    return f"xmlrpc:{tag}:{generation}:{function}:{digest}"


def cached_call(tag: str, function: str, args, compute, *, ttl: int = DEFAULT_TTL):
    """``compute()``'s result, from the cache when present (an empty list is a hit)."""
    generation = shared_cache.generation(tag)
    if generation is None:
        return compute()
    return shared_cache.get_or_build(_entry_key(tag, generation, function, args), compute, ttl)
