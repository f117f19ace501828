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
