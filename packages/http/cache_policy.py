"""How long each kind of read may be kept, by browsers and pip (Cache-Control)
and by a CDN in front (Surrogate-Control, purged by Surrogate-Key): one table,
PyPI's values (Warehouse's ``origin_cache`` and view decorators).

Every value here is public; with INDEX_READ_AUTH=authenticated,
``packages.access.read_auth.ReadAuthMiddleware`` makes every answer private, in one
place."""

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings


@dataclass(frozen=True)
class CachePolicy:
    cache_control: str = ""
    surrogate_control: str = ""
    # Feeds send Surrogate-* only when a CDN is configured (spec feeds.md §4).
    surrogate_only_with_cdn: bool = False


_DAY_AT_THE_EDGE = "max-age=86400, stale-while-revalidate=300, stale-if-error=86400"

SIMPLE_PAGE = CachePolicy("max-age=600, public", _DAY_AT_THE_EDGE)
SIMPLE_INDEX_HTML = SIMPLE_PAGE
SIMPLE_INDEX_JSON = CachePolicy(
    "max-age=600, public", "max-age=1800, stale-while-revalidate=300, stale-if-error=86400"
)
SIMPLE_REDIRECT = CachePolicy()
# A page kept from an upstream changes without a journal entry (the upstream's
# uploads, a cooldown ending), so no cache in front may keep it longer than the
# proxy's revalidation interval (INDEX_UPSTREAM_REVALIDATE, 600 s by default),
# nor past the moment the page itself says it may change (upstream_page_policy);
# a CDN may still serve it while the origin fails.
UPSTREAM_MAX_AGE = 600


def _upstream_policy(max_age: int) -> CachePolicy:
    return CachePolicy(f"max-age={max_age}, public", f"max-age={max_age}, stale-if-error=86400")


UPSTREAM_PAGE = _upstream_policy(UPSTREAM_MAX_AGE)
JSON_DOCUMENT = CachePolicy("max-age=900, public", _DAY_AT_THE_EDGE)  # redirects too
FEED_INDEX = CachePolicy(
    surrogate_control="max-age=86400, stale-while-revalidate=86400, stale-if-error=432000",
    surrogate_only_with_cdn=True,
)
FEED_PROJECT = CachePolicy(  # redirects too
    surrogate_control="max-age=86400, stale-if-error=432000", surrogate_only_with_cdn=True
)
# The pages for people as anonymous visitors see them: browsers ask again every
# time, a CDN keeps them until a change to what they show purges their keys.
PEOPLE_PAGE = CachePolicy("no-cache", "max-age=86400, stale-if-error=86400")
FILE = CachePolicy("max-age=365000000, immutable, public")
# A storage URL may be signed and expire: clients keep the redirect briefly.
FILE_STORAGE_REDIRECT = CachePolicy("max-age=300, private")
FILE_PREDICTABLE_REDIRECT = CachePolicy("max-age=604800, public")


def upstream_page_policy(shown_until: datetime | float | None) -> CachePolicy:
    """UPSTREAM_PAGE, kept no longer than the page's ``shown_until`` (a datetime or
    a timestamp): a cooldown ending or a due revalidation changes the page with
    no purge, so no cache in front may serve the old one past that moment."""
    if shown_until is None:
        return UPSTREAM_PAGE
    if isinstance(shown_until, datetime):
        shown_until = shown_until.timestamp()
    seconds = max(0, int(shown_until - time.time()))
    return UPSTREAM_PAGE if seconds >= UPSTREAM_MAX_AGE else _upstream_policy(seconds)


def apply_cache_policy(response, policy: CachePolicy, surrogate_keys: Iterable[str] = ()):
    """Set ``policy``'s headers, and the purge keys (sorted) beside Surrogate-Control."""
    if policy.cache_control:
        response["Cache-Control"] = policy.cache_control
    if policy.surrogate_control and (
        not policy.surrogate_only_with_cdn or settings.INDEX_CDN_PURGE_URL
    ):
        response["Surrogate-Control"] = policy.surrogate_control
        response["Surrogate-Key"] = " ".join(sorted(set(surrogate_keys)))
    return response
