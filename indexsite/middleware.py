"""Site-wide request hygiene, before any view or access decision runs."""

from urllib.parse import unquote_to_bytes

from packages.http.errors import error_response, statement_timeout_response


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
    """A read that outlasts DATABASE_STATEMENT_TIMEOUT_MS is the server being
    slow, not broken: a 503 saying so (packages.http.errors), rather than a 500.
    Any other error is left to Django. Views on the hot path are answered inside
    HotPathMiddleware, which does the same."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        return statement_timeout_response(exception)
