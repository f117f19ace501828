"""PyPI's XML-RPC rate limit (spec xmlrpc-api.md §6, caching.md §7).

A ``limits`` moving window keyed on the client address, in Redis when
CACHE_URL names one (every worker shares it) and in process memory otherwise.
As Warehouse, a call is recorded first and then refused when another one would
not fit, so "N per hour" lets N-1 calls through per rolling hour. Any storage
failure lets the call through (fail open): the limiter protects the index, it
must never take XML-RPC down with it."""

import logging
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from limits import parse_many, storage, strategies

logger = logging.getLogger(__name__)

NAME = "xmlrpc.client"
_NAMESPACE = "xmlrpc.client"

_limiters: dict[str, strategies.MovingWindowRateLimiter] = {}
_items: dict[str, list] = {}


@dataclass
class Outcome:
    allowed: bool
    headers: dict[str, str]
    resets_in: int | None = None


def _storage_uri() -> str:
    url = getattr(settings, "CACHE_URL", "") or ""
    return url if url.startswith(("redis://", "rediss://", "unix://")) else "memory://"


def _limiter() -> strategies.MovingWindowRateLimiter:
    uri = _storage_uri()
    limiter = _limiters.get(uri)
    if limiter is None:
        if uri == "memory://":
            store = storage.MemoryStorage()
        else:
            cache_prefix = settings.CACHES.get("default", {}).get("KEY_PREFIX") or "indexsite"
            prefix = f"{cache_prefix}:LIMITS"
            store = storage.RedisStorage(
                uri, key_prefix=prefix, socket_connect_timeout=0.5, socket_timeout=0.5
            )
        limiter = _limiters[uri] = strategies.MovingWindowRateLimiter(store)
    return limiter


def _limit_items() -> list:
    spec = settings.XMLRPC_RATELIMIT_STRING
    items = _items.get(spec)
    if items is None:
        items = _items[spec] = parse_many(spec)
    return items


def check_setting() -> None:
    """Refuse to start with a limit that cannot be parsed: the limiter would fail
    open on every call, i.e. XML-RPC would run with no limit at all."""
    try:
        _limit_items()
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"XMLRPC_RATELIMIT_STRING: {exc} (e.g. '3600 per hour')"
        ) from None


def _policy_name(index: int, count: int) -> str:
    return NAME if count == 1 else f"{NAME}-{index}"


def check(address: str, *, cost: int = 1) -> Outcome:
    """Record ``cost`` calls from ``address`` and say whether they are allowed,
    with the RateLimit/RateLimit-Policy headers describing the window."""
    try:
        limiter = _limiter()
        items = _limit_items()
        # A hit that does not fit is not recorded; with cost 1 the test below
        # refuses it too, with a larger cost (multicall) its failure must count.
        recorded = [limiter.hit(item, _NAMESPACE, address, cost=cost) for item in items]
        allowed = all(recorded) and all(limiter.test(item, _NAMESPACE, address) for item in items)
        now = time.time()
        policies, states, resets = [], [], []
        for index, item in enumerate(items):
            stats = limiter.get_window_stats(item, _NAMESPACE, address)
            name = _policy_name(index, len(items))
            reset = max(0, math.ceil(stats.reset_time - now))
            resets.append(reset)
            policies.append(f'"{name}";q={item.amount};w={item.get_expiry()};pk=:ip:')
            states.append(f'"{name}";r={stats.remaining};t={reset}')
    except Exception:  # storage down or misconfigured: fail open
        logger.warning("XML-RPC rate limiter unavailable; allowing the call", exc_info=True)
        return Outcome(allowed=True, headers={})
    headers = {"RateLimit-Policy": ", ".join(policies), "RateLimit": ", ".join(states)}
    resets_in = max(1, max(resets)) if not allowed else None
    return Outcome(allowed=allowed, headers=headers, resets_in=resets_in)


def too_many_requests_message(resets_in: int | None) -> str:
    message = (
        "The action could not be performed because there were too many requests "
        "by the client."
    )
    if resets_in is not None:
        message += f" Limit may reset in {resets_in} seconds."
    return message


def clear(address: str) -> None:
    """Forget the calls recorded for ``address`` under the current limit."""
    try:
        limiter = _limiter()
        for item in _limit_items():
            limiter.clear(item, _NAMESPACE, address)
    except Exception:
        logger.warning("Could not clear the XML-RPC rate limit", exc_info=True)
