"""How long each kind of read may be kept, by browsers and pip (Cache-Control)
and by a CDN in front (Surrogate-Control, purged by Surrogate-Key): one table,
PyPI's values (Warehouse's ``origin_cache`` and view decorators).

Every value here is public; with INDEX_READ_AUTH=authenticated,
``packages.access.read_auth.ReadAuthMiddleware`` makes every answer private, in one
place."""

from collections.abc import Iterable
from dataclasses import dataclass

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
# proxy's revalidation interval (INDEX_UPSTREAM_REVALIDATE, 600 s by default);
# a CDN may still serve it while the origin fails.
UPSTREAM_PAGE = CachePolicy("max-age=600, public", "max-age=600, stale-if-error=86400")
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
