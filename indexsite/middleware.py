"""Site-wide request hygiene, before any view or access decision runs."""

from urllib.parse import unquote_to_bytes

from django.http import HttpResponse


class RejectNulMiddleware:
    """No name, version or filename contains a NUL character, and PostgreSQL
    refuses one in any query (a 500 if it got that far). A path with one names
    nothing here (404); a query string with one is malformed (400)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path_info:
            return _plain(404, "Not Found", "404 Not Found: no name, version or filename "
                          "contains a NUL character.")
        if b"\x00" in unquote_to_bytes(request.META.get("QUERY_STRING", "")):
            return _plain(400, "Bad Request: NUL character in the query string",
                          "400 Bad Request: NUL character in the query string.")
        return self.get_response(request)


def _plain(status: int, reason: str, message: str) -> HttpResponse:
    response = HttpResponse(message + "\n", status=status,
                            content_type="text/plain; charset=utf-8")
    response.reason_phrase = reason
    return response
