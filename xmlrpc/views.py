"""The XML-RPC endpoint: ``POST /pypi``, ``/pypi/`` and ``/RPC2`` with ``text/xml``.

Every XML-RPC answer is HTTP 200, results and Faults alike (spec xmlrpc-api.md
§1). In order: the route predicate (text/xml), the body size (refused before a
byte is read when Content-Length says too much, and the read itself is bounded),
the rate limit, then parsing and the call, within the request's time budget
(xmlrpc.budget). Nothing a client sends can produce a 500: unexpected errors
become Fault -32500 "application error"."""

import logging
from xmlrpc import ratelimit
from xmlrpc.budget import Budget, max_multicall_calls
from xmlrpc.methods import DOCS_URL, METHODS, call_method
from xmlrpc.protocol import (
    CONTENT_TYPE,
    Fault,
    ParseError,
    application_error,
    parse_call,
    parse_error,
    render_fault,
    render_result,
    wrapped_error,
)

from django.conf import settings
from django.http import HttpResponse, HttpResponseNotAllowed, HttpResponsePermanentRedirect
from django.views.decorators.csrf import csrf_exempt

from packages.access.bans import client_address as policy_client_address
from packages.http.errors import error_response

logger = logging.getLogger(__name__)

# RFC 9745 Deprecation header: when PyPI switched the deprecated methods off for
# good (2024-09-26T00:00:00Z, pypi/warehouse#16642).
DEPRECATION_DATE = "@1727308800"

# pypi.python.org's action URLs that PyPI still answers on a GET of /pypi: a 301
# to the feed that replaced them, query string dropped (spec feeds.md §1).
LEGACY_ACTION_REDIRECTS = {
    "rss": "/rss/updates.xml",
    "packages_rss": "/rss/packages.xml",
}


def client_address(request) -> str:
    """The rate limit's key: the shared policy's client address (X-Forwarded-For
    only through trusted proxy hops), else REMOTE_ADDR."""
    address = policy_client_address(request)
    return str(address) if address is not None else request.META.get("REMOTE_ADDR", "")


def _xml_response(body: bytes, headers: dict[str, str] | None = None) -> HttpResponse:
    response = HttpResponse(body, content_type=CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _fault_response(fault: Fault, headers=None) -> HttpResponse:
    return _xml_response(render_fault(fault), headers)


def _too_large(limit: int) -> HttpResponse:
    return error_response(413, f"XML-RPC request bodies are limited to {limit} bytes.")


def _deprecation_headers(method, params) -> dict[str, str]:
    links = [f'<{DOCS_URL}>; rel="deprecation"; type="text/html"']
    successor = method.successor(params)
    if successor:
        links.append(f'<{successor}>; rel="successor-version"')
    return {"Deprecation": DEPRECATION_DATE, "Link": ", ".join(links)}


def _declared_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _rate_limited(outcome: ratelimit.Outcome) -> HttpResponse:
    fault = wrapped_error(
        "HTTPTooManyRequests", ratelimit.too_many_requests_message(outcome.resets_in)
    )
    return _fault_response(fault, outcome.headers)


@csrf_exempt
def xmlrpc_endpoint(request):
    if request.method in ("GET", "HEAD"):
        target = LEGACY_ACTION_REDIRECTS.get(request.GET.get(":action", ""))
        if target is not None:
            return HttpResponsePermanentRedirect(target)
    if request.content_type != "text/xml":
        if request.method == "POST":
            return error_response(415, "XML-RPC requests need Content-Type: text/xml.")
        return HttpResponseNotAllowed(["POST"])
    if request.method != "POST":
        return _fault_response(application_error())

    limit = settings.XMLRPC_MAX_BODY_SIZE
    if _declared_length(request) > limit:
        return _too_large(limit)
    if "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
        # Without a Content-Length nothing of the body is read: say so, rather
        # than answer a parse error about XML the client did send.
        return error_response(
            411, "XML-RPC requests need a Content-Length header; chunked bodies are not read."
        )

    address = client_address(request)
    outcome = ratelimit.check(address)
    if not outcome.allowed:
        return _rate_limited(outcome)
    headers = dict(outcome.headers)

    body = request.read(limit + 1)
    if len(body) > limit:
        return _too_large(limit)
    # The budget counts the work done here, not the client's time to send the body.
    budget = Budget()
    try:
        name, params = parse_call(body)
    except ParseError as exc:
        logger.info("Refused an XML-RPC body from %s: %s", address, exc)
        return _fault_response(parse_error(), headers)

    method = METHODS.get(name) if isinstance(name, str) else None
    if method is not None and method.deprecated:
        headers.update(_deprecation_headers(method, params))

    # Each member of a multicall is a call: charge the ones beyond the first.
    if name == "system.multicall" and params and type(params[0]) is list:
        extra = min(len(params[0]), max_multicall_calls()) - 1
        if extra > 0:
            extra_outcome = ratelimit.check(address, cost=extra)
            if not extra_outcome.allowed:
                return _rate_limited(extra_outcome)
            headers.update(extra_outcome.headers)

    try:
        payload = render_result(call_method(name, params, budget))
    except Fault as fault:
        payload = render_fault(fault)
    except Exception:
        logger.exception("XML-RPC method %r failed", name)
        payload = render_fault(application_error())
    return _xml_response(payload, headers)


def _refusal_response(request, message: str) -> HttpResponse | None:
    """A prohibited consumer (packages.access.ban_middleware): XML-RPC clients only
    understand a Fault in an HTTP 200 answer; other requests get the 403."""
    if request.method != "POST":
        return None
    return _fault_response(wrapped_error("HTTPForbidden", message))


xmlrpc_endpoint.refusal_response = _refusal_response
