"""The one error answer of every API: the message in the HTTP reason phrase
(pip, twine and uv print only the status line) and in the body (HTTP/2 has no
reason phrase), as Warehouse's ``_exc_with_message``."""

import html
import json

from django.http import HttpResponse

TEXT_PLAIN = "text/plain; charset=utf-8"
_TITLES = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
           404: "Not Found", 405: "Method Not Allowed", 409: "Conflict", 410: "Gone",
           411: "Length Required", 413: "Payload Too Large", 429: "Too Many Requests"}


def reason_phrase(message: str) -> str:
    """One line of printable ASCII (a reason phrase cannot carry more)."""
    line = " ".join(message.split())
    return "".join(c if 32 <= ord(c) < 127 else "?" for c in line)[:1000]


def error_response(
    status: int, message: str, *, reason: str | None = None, body: bytes | str | None = None,
    content_type: str = TEXT_PLAIN, headers: dict[str, str] | None = None,
) -> HttpResponse:
    """``message`` in the reason phrase (``reason`` when the status line says it
    shorter) and, as text, in the body, unless the API's wire format fixes
    ``body`` itself (PyPI's ``404 Not Found`` pages)."""
    response = HttpResponse(
        message + "\n" if body is None else body, status=status, content_type=content_type
    )
    response.reason_phrase = reason_phrase(message if reason is None else reason)
    for name, value in (headers or {}).items():
        response[name] = value
    return response



def domain_error_response(exc) -> HttpResponse:
    """A refused operation (a packages.errors.DomainError) as error_response; with
    ``Retry-After`` when the error says when to try again (``retry_after``, in
    seconds: an upstream whose fetch slots stay taken, a throttled client)."""
    seconds = getattr(exc, "retry_after", None)
    return error_response(exc.status, exc.message,
                          headers={"Retry-After": str(seconds)} if seconds else None)

def error_page(request, status: int, message: str, *, headers=None) -> HttpResponse:
    """PyPI's error page (pyramid's): HTML, or JSON for clients that ask for it."""
    reason = reason_phrase(message)
    title = _TITLES.get(status, "Error")
    if "application/json" in request.headers.get("Accept", ""):
        body = json.dumps({"message": message, "code": f"{status} {reason}", "title": title})
        return error_response(status, message, body=body, content_type="application/json",
                              headers=headers)
    body = (
        f"<html>\n <head>\n  <title>{status} {html.escape(reason)}</title>\n </head>\n"
        f" <body>\n  <h1>{status} {html.escape(title)}</h1>\n  {html.escape(message)}<br/><br/>\n"
        " </body>\n</html>\n"
    )
    return error_response(status, message, body=body, content_type="text/html; charset=utf-8",
                          headers=headers)


def not_found(*, body: bytes = b"404 Not Found", content_type: str = "text/plain; charset=UTF-8",
              headers: dict[str, str] | None = None) -> HttpResponse:
    """PyPI's bare 404 (simple pages, files; the JSON API passes its own body)."""
    return error_response(404, "Not Found", body=body, content_type=content_type, headers=headers)


STATEMENT_TIMEOUT_MESSAGE = (
    "This request took too long to answer and was stopped; try again or narrow it.")
STATEMENT_TIMEOUT_RETRY_AFTER = 30


def statement_timeout_response(exception) -> HttpResponse | None:
    """The answer to a read that outlasted DATABASE_STATEMENT_TIMEOUT_MS
    (PostgreSQL cancels it: psycopg's QueryCanceled, raised by Django as an
    OperationalError): a 503 that clients and caches retry, not a 500. None for
    any other exception."""
    if not _is_statement_timeout(exception):
        return None
    return error_response(
        503, f"503 Service Unavailable: {STATEMENT_TIMEOUT_MESSAGE}",
        reason=STATEMENT_TIMEOUT_MESSAGE,
        headers={"Retry-After": str(STATEMENT_TIMEOUT_RETRY_AFTER)})


def _is_statement_timeout(exception) -> bool:
    from django.db import OperationalError

    if not isinstance(exception, OperationalError):
        return False
    try:
        from psycopg.errors import QueryCanceled
    except ImportError:  # no PostgreSQL driver: no statement timeout either
        return False
    return isinstance(exception.__cause__, QueryCanceled)
