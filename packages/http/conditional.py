"""Conditional requests: ETags and the 304 answer (RFC 9110 §13)."""

import base64
import hashlib
from collections.abc import Iterator

from django.http import HttpResponse, HttpResponseNotModified, StreamingHttpResponse


def md5_etag(body: bytes) -> str:
    """PyPI's strong ETag: base64 of the body's MD5 without padding, quoted."""
    digest = hashlib.md5(body, usedforsecurity=False).digest()
    return '"' + base64.b64encode(digest).decode("ascii").rstrip("=") + '"'


def if_none_match_names(header: str, etag: str) -> bool:
    """Whether an ``If-None-Match`` value names ``etag`` or is ``*`` (weak
    comparison, as RFC 9110 requires for GET and HEAD)."""
    for candidate in header.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == etag:
            return True
    return False


def client_has(request, etag: str) -> bool:
    """Whether the client's copy (its If-None-Match) is the current one."""
    header = request.META.get("HTTP_IF_NONE_MATCH")
    return bool(header) and if_none_match_names(header, etag)


def conditional_response(
    request, body: bytes | Iterator[bytes] | None, *, etag: str, content_type: str
) -> HttpResponse:
    """304 when the client has ``etag``, else 200 with ``body``: bytes (sent with
    Content-Length, none for HEAD) or an iterator (streamed; closed unread for
    HEAD). ``body`` may be None when the caller already knows the client's copy
    is current and so never fetched it."""
    if body is None or client_has(request, etag):
        # No Content-Type: pip's HTTP cache copies a 304's headers onto the cached
        # page, and a text/html there makes it parse cached JSON as HTML.
        response = HttpResponseNotModified()
    elif isinstance(body, bytes):
        response = HttpResponse(b"" if request.method == "HEAD" else body, content_type=content_type)
        response["Content-Length"] = str(len(body))
    else:
        if request.method == "HEAD":
            body.close()
            body = iter(())
        response = StreamingHttpResponse(body, content_type=content_type)
    response["ETag"] = etag
    return response
