"""CORS for the read APIs, as one decorator (healthchecks' ``@cors``)."""

from functools import wraps

# Warehouse's policy for its APIs: any origin may read, and browsers may see
# the serial header.
API_CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": (
        "Content-Type, If-Match, If-Modified-Since, If-None-Match, If-Unmodified-Since"
    ),
    "Access-Control-Allow-Methods": "GET",
    "Access-Control-Max-Age": "86400",
    "Access-Control-Expose-Headers": "X-PyPI-Last-Serial",
}
# Files: ranges, and the preflight that a Range header needs.
FILE_CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, OPTIONS",
    "Access-Control-Allow-Headers": "Range",
    "Access-Control-Expose-Headers": "Content-Length, Content-Range, Accept-Ranges",
}


def cors(view=None, *, headers: dict[str, str] = API_CORS_HEADERS):
    """Add ``headers`` to every answer of the view but a 405 (a method the view
    does not serve is not advertised). ``@cors`` or ``@cors(headers=...)``."""
    if view is None:
        return lambda view: cors(view, headers=headers)
    items = tuple(headers.items())

    @wraps(view)
    def with_cors(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if response is not None and response.status_code != 405:
            for name, value in items:
                response.headers[name] = value
        return response

    return with_cors
