"""HTTP to upstreams, bounded and careful (requests, never the environment's
proxies or .netrc: ``trust_env`` is off).

* Pages: PEP 691 JSON preferred, HTML accepted (the Accept header's q-values);
  revalidated with If-None-Match / If-Modified-Since.
* Bounds: a connect timeout, and one deadline for the whole page, checked
  between reads (each read waits at most until the deadline), so a page that
  never finishes is cut; bodies are read in a streaming way and refused past
  ``max_page_bytes``, so a 100 MB page is never held in memory.
* Hosts: pages and redirects stay on the upstream's own origin; file links may
  also use its configured files hosts; credentials go to its own origin only.
* Errors: UpstreamTimeout (504) or UpstreamUnavailable / HostileUpstream (502),
  whose messages name the upstream and never carry credentials.
"""

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote, urljoin, urlsplit

import requests
import urllib3
from urllib3.exceptions import ReadTimeoutError

from packages.upstream.config import limits_for
from packages.upstream.errors import HostileUpstream, UpstreamTimeout, UpstreamUnavailable
from packages.upstream.fetch_slots import take_slot
from packages.upstream.models import Upstream
from packages.upstream.parsing import ParsedPage, parse_page

logger = logging.getLogger(__name__)

ACCEPT = ("application/vnd.pypi.simple.v1+json, "
          "application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1")
READ_SIZE = 64 * 1024
MAX_REDIRECTS = 5
USER_AGENT = "indexsite-upstream-proxy"


def origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.scheme, (parts.hostname or "").lower(), port


def is_own_origin(upstream: Upstream, url: str) -> bool:
    return origin(url) == origin(upstream.simple_url)


def is_allowed_file_url(upstream: Upstream, url: str) -> bool:
    """The upstream's own origin, or one of its files hosts (``host`` or
    ``host:port``), never a downgrade from https to http."""
    if is_own_origin(upstream, url):
        return True
    scheme, host, port = origin(url)
    if urlsplit(upstream.simple_url).scheme == "https" and scheme != "https":
        return False
    return any(allowed in (host, f"{host}:{port}") for allowed in upstream.files_host_list)


@dataclass(frozen=True)
class PageAnswer:
    """``page`` is set for 200; ``not_modified`` for 304; neither for 404/410."""

    page: ParsedPage | None = None
    not_modified: bool = False
    etag: str = ""
    last_modified: str = ""
    page_bytes: int = 0


def fetch_page(upstream: Upstream, normalized_name: str, *, etag: str = "",
               last_modified: str = "") -> PageAnswer:
    """The upstream's page of ``normalized_name``, within one of the upstream's
    fetch slots (fetch_slots.py: UpstreamBusy when none frees up in time)."""
    limits = limits_for(upstream)
    with take_slot(upstream, wait=limits.timeout):
        return _fetch_page(upstream, normalized_name, limits, etag, last_modified)


def _fetch_page(upstream: Upstream, normalized_name: str, limits, etag: str,
                last_modified: str) -> PageAnswer:
    deadline = time.monotonic() + limits.timeout
    url = urljoin(upstream.simple_url, quote(normalized_name, safe="") + "/")
    headers = {"Accept": ACCEPT}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    response = _get(upstream, url, headers, deadline, limits.connect_timeout,
                    same_origin_only=True)
    with response:
        if response.status_code == 304 and (etag or last_modified):
            return PageAnswer(not_modified=True, etag=response.headers.get("ETag", etag),
                              last_modified=response.headers.get("Last-Modified", last_modified))
        if response.status_code in (404, 410):
            return PageAnswer()
        if response.status_code != 200:
            raise UpstreamUnavailable(upstream.name, _status_problem(response.status_code))
        body = read_bounded(upstream, response, limits.max_page_bytes, deadline)
        page = parse_page(
            body, response.headers.get("Content-Type", ""), response.url,
            lambda link: is_allowed_file_url(upstream, link), upstream.name,
        )
        serial = response.headers.get("X-PyPI-Last-Serial", "")
        if serial.isdigit():
            page = ParsedPage(page.name, page.links, page.status, page.status_reason, int(serial))
        return PageAnswer(page=page, etag=response.headers.get("ETag", ""),
                          last_modified=response.headers.get("Last-Modified", ""),
                          page_bytes=len(body))


def read_bounded(upstream: Upstream, response, max_bytes: int, deadline: float) -> bytes:
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise HostileUpstream(upstream.name, f"its page is larger than {max_bytes} bytes")
    chunks, size = [], 0
    for chunk in iter_body(upstream, response, deadline=deadline):
        size += len(chunk)
        if size > max_bytes:
            raise HostileUpstream(upstream.name, f"its page is larger than {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def iter_body(upstream: Upstream, response, *, deadline: float | None = None,
              idle_timeout: float | None = None) -> Iterator[bytes]:
    """The raw bytes (no content decoding: files are hashed as sent), one socket
    read at a time, each bounded by the deadline or the idle timeout."""
    if response.headers.get("Content-Encoding", "identity").lower() not in ("identity", ""):
        if deadline is not None:  # pages: refused rather than decompressed unbounded
            raise UpstreamUnavailable(upstream.name, "sent a compressed page it was not asked for")
    raw = response.raw
    while True:
        wait = idle_timeout
        if deadline is not None:
            wait = deadline - time.monotonic()
            if wait <= 0:
                raise UpstreamTimeout(upstream.name, "did not finish its answer in time")
        _set_read_timeout(raw, wait)
        try:
            chunk = raw.read1(READ_SIZE, decode_content=False)
        except (ReadTimeoutError, TimeoutError) as exc:
            raise UpstreamTimeout(upstream.name, "stopped sending") from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise UpstreamUnavailable(upstream.name, "broke off its answer") from exc
        if not chunk:
            if not raw.closed and _short_body(raw):
                raise UpstreamUnavailable(upstream.name, "broke off its answer")
            return
        yield chunk


def _set_read_timeout(raw, seconds: float | None) -> None:
    # Each socket read waits at most until the deadline (urllib3 keeps the socket
    # of a streamed response on ``connection.sock``).
    sock = getattr(getattr(raw, "connection", None), "sock", None)
    if sock is not None and seconds is not None:
        sock.settimeout(max(seconds, 0.01))


def _short_body(raw) -> bool:
    length = getattr(raw, "length_remaining", None)
    return bool(length)


def open_file(upstream: Upstream, url: str):
    """A streamed GET of a file link (follows redirects to allowed hosts only);
    the caller reads it with ``iter_body`` and closes it."""
    limits = limits_for(upstream)
    deadline = time.monotonic() + limits.timeout
    response = _get(upstream, url, {"Accept": "*/*"}, deadline, limits.connect_timeout,
                    same_origin_only=False)
    if response.status_code != 200:
        response.close()
        if response.status_code in (404, 410):
            raise UpstreamUnavailable(upstream.name, "no longer has this file")
        raise UpstreamUnavailable(upstream.name, _status_problem(response.status_code))
    return response


def _get(upstream: Upstream, url: str, headers: dict, deadline: float, connect_timeout: float,
         *, same_origin_only: bool):
    session = requests.Session()
    session.trust_env = False  # no proxies, no .netrc credentials from the environment
    headers = {**headers, "User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
    try:
        for _ in range(MAX_REDIRECTS + 1):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise UpstreamTimeout(upstream.name, "did not answer in time")
            own = is_own_origin(upstream, url)
            auth = (upstream.username, upstream.password) if own and upstream.username else None
            response = session.get(
                url, headers=headers, auth=auth, stream=True, allow_redirects=False,
                timeout=(min(connect_timeout, remaining), remaining),
            )
            if response.status_code not in (301, 302, 303, 307, 308):
                return response
            location = urljoin(url, response.headers.get("Location", ""))
            response.close()
            allowed = (is_own_origin(upstream, location) if same_origin_only
                       else is_allowed_file_url(upstream, location))
            if not allowed:
                raise HostileUpstream(upstream.name, "it redirects to another host "
                                      f"({urlsplit(location).hostname})")
            url = location
        raise UpstreamUnavailable(upstream.name, "redirects too many times")
    except requests.exceptions.Timeout as exc:
        raise UpstreamTimeout(upstream.name, "did not answer in time") from exc
    except requests.exceptions.RequestException as exc:
        logger.warning("upstream %s: %s", upstream.name, type(exc).__name__)
        raise UpstreamUnavailable(upstream.name, "could not be reached") from exc
    finally:
        session.close()


def _status_problem(status: int) -> str:
    if status in (401, 403):
        return f"refused access ({status}); check its credentials"
    return f"answered {status}"
