"""Response headers shared by the read APIs (simple, JSON, RSS), as PyPI sends them."""

# Warehouse's CORS policy for its APIs: any origin may read, and browsers may
# see the serial header.
API_CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": (
        "Content-Type, If-Match, If-Modified-Since, If-None-Match, If-Unmodified-Since"
    ),
    "Access-Control-Allow-Methods": "GET",
    "Access-Control-Max-Age": "86400",
    "Access-Control-Expose-Headers": "X-PyPI-Last-Serial",
}


def if_none_match_names(header: str, etag: str) -> bool:
    """Whether an ``If-None-Match`` value names ``etag`` or is ``*`` (weak
    comparison, as RFC 9110 requires for GET and HEAD)."""
    for candidate in header.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == etag:
            return True
    return False


def request_etag_matches(request, etag: str) -> bool:
    return if_none_match_names(request.META.get("HTTP_IF_NONE_MATCH", ""), etag)
