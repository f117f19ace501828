"""Purging a CDN in front of the index (Varnish with deploy/varnish.vcl).

Responses name what they depend on in ``Surrogate-Key`` (``project/<n>``,
``all-projects``); after a change commits, each dirtied key is sent as a
``PURGE`` request with ``X-Purge-Key`` to INDEX_CDN_PURGE_URL, and the CDN bans
every cached object carrying that key. Registered as a purger in apps.py."""

import logging
import urllib.error
import urllib.request

from django.conf import settings

log = logging.getLogger(__name__)


class CdnPurgeFailed(Exception):
    pass


def purge_cdn(keys: list[str]) -> None:
    url = settings.INDEX_CDN_PURGE_URL
    if not url:
        return
    failed = []
    for key in keys:
        request = urllib.request.Request(url, method="PURGE", headers={"X-Purge-Key": key})
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                response.read()
        except (urllib.error.URLError, OSError) as exc:
            log.warning("CDN purge of %s failed: %s", key, exc)
            failed.append(key)
    if failed:
        # The task retries; a purge is idempotent, so purging the others again is harmless.
        raise CdnPurgeFailed(f"CDN purge failed for {', '.join(failed)}")
