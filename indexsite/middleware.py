"""Site-wide request hygiene, before any view or access decision runs."""

from urllib.parse import unquote_to_bytes

from packages.http.errors import error_response


class RejectNulMiddleware:
    """No name, version or filename contains a NUL character, and PostgreSQL
    refuses one in any query (a 500 if it got that far). A path with one names
    nothing here (404); a query string with one is malformed (400)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path_info:
            return error_response(404, "404 Not Found: no name, version or filename "
                                  "contains a NUL character.", reason="Not Found")
        if b"\x00" in unquote_to_bytes(request.META.get("QUERY_STRING", "")):
            return error_response(400, "400 Bad Request: NUL character in the query string.",
                                  reason="Bad Request: NUL character in the query string")
        return self.get_response(request)



class StatementTimeoutMiddleware:
    """A read that outlasts DATABASE_STATEMENT_TIMEOUT_MS is cancelled by
    PostgreSQL (psycopg's QueryCanceled, which Django raises as an
    OperationalError). That is the server being slow, not broken: a 503 saying
    so, which clients and caches retry, rather than a 500. Any other database
    error is left to Django."""

    RETRY_AFTER_SECONDS = 30
    MESSAGE = ("This request took too long to answer and was stopped; "
               "try again or narrow it.")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not _is_statement_timeout(exception):
            return None
        return error_response(503, f"503 Service Unavailable: {self.MESSAGE}",
                              reason=self.MESSAGE,
                              headers={"Retry-After": str(self.RETRY_AFTER_SECONDS)})


def _is_statement_timeout(exception) -> bool:
    from django.db import OperationalError

    if not isinstance(exception, OperationalError):
        return False
    try:
        from psycopg.errors import QueryCanceled
    except ImportError:  # no PostgreSQL driver: no statement timeout either
        return False
    return isinstance(exception.__cause__, QueryCanceled)
