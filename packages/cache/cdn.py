"""Purging the CDN nodes in front of the index (Varnish with deploy/varnish.vcl).

Responses name what they depend on in ``Surrogate-Key`` (``project/<n>``,
``all-projects``); after a change commits, each dirtied key is sent as a
``PURGE`` request with ``X-Purge-Key`` to every URL of INDEX_CDN_PURGE_URL (a
comma-separated list, one per node), and each node drops the objects tagged
with that key (the xkey vmod). Registered as a purger in apps.py.

A node that fails does not stop the others: the error names the failing nodes,
so that the task retries only those, and packages/cache/catchup.py sends the
journal's keys again to a node that missed them."""

import http.client
import logging
from urllib.parse import urlsplit

from django.conf import settings

log = logging.getLogger(__name__)
TIMEOUT = 5


class CdnPurgeFailed(Exception):
    def __init__(self, nodes: list[str], message: str = ""):
        self.nodes = list(nodes)
        super().__init__(message or f"CDN purge failed on {', '.join(self.nodes)}")


def cdn_nodes() -> list[str]:
    """The purge URLs: settings parses the variable into a list; a plain string
    (an override in a test or a local settings file) is split the same way."""
    value = settings.INDEX_CDN_PURGE_URL or []
    if isinstance(value, str):
        value = value.split(",")
    return [url.strip() for url in value if url.strip()]


def purge_node(url: str, keys: list[str]) -> int:
    """Send every key to one node over one connection; returns how many objects
    it dropped (Varnish's count). Raises CdnPurgeFailed at the first failure:
    a node that is down would only make the next keys wait for their timeout."""
    parts = urlsplit(url)
    connection_class = (http.client.HTTPSConnection if parts.scheme == "https"
                        else http.client.HTTPConnection)
    connection = connection_class(parts.hostname, parts.port, timeout=TIMEOUT)
    path = parts.path or "/"
    purged = 0
    try:
        for key in keys:
            try:
                connection.request("PURGE", path, headers={"X-Purge-Key": key})
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException) as exc:
                raise CdnPurgeFailed([url], f"CDN purge of {key} on {url} failed: {exc}") from exc
            if response.status != 200:
                raise CdnPurgeFailed(
                    [url], f"CDN purge of {key} on {url} answered {response.status} "
                    f"{response.reason}")
            purged += int(response.headers.get("X-Purged-Objects") or 0)
    finally:
        connection.close()
    return purged


def purge_cdn(keys: list[str], *, nodes: list[str] | None = None) -> None:
    """Purge ``keys`` on every node (or on ``nodes``); raises CdnPurgeFailed naming
    the nodes that failed, after trying all of them."""
    failed = []
    for url in cdn_nodes() if nodes is None else nodes:
        try:
            purge_node(url, keys)
        except CdnPurgeFailed as exc:
            log.warning("%s", exc)
            failed.append(url)
    if failed:
        raise CdnPurgeFailed(failed)
