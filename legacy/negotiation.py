"""PEP 691 content negotiation for the simple repository API, as PyPI does it.

1. A ``format`` query parameter that is exactly one of the five media types wins
   (PyPI does this at its CDN; early uv relied on it). Other values are ignored.
2. Otherwise the ``Accept`` header is negotiated with q-values. On a tie the
   server order decides: ``text/html``, then v1+html, then v1+json (ties go to
   HTML, as observed on PyPI).
3. Nothing acceptable falls back to ``text/html``: like PyPI, never 406.

``latest+html``/``latest+json`` mean v1; the response never says ``latest``.
"""

from functools import lru_cache

TEXT_HTML = "text/html"
V1_HTML = "application/vnd.pypi.simple.v1+html"
V1_JSON = "application/vnd.pypi.simple.v1+json"
LATEST_HTML = "application/vnd.pypi.simple.latest+html"
LATEST_JSON = "application/vnd.pypi.simple.latest+json"

# The three representations we serve, in tie-breaking order.
OFFERS = (TEXT_HTML, V1_HTML, V1_JSON)

# Media type named in a request -> representation served.
_ALIASES = {
    TEXT_HTML: TEXT_HTML,
    V1_HTML: V1_HTML,
    LATEST_HTML: V1_HTML,
    V1_JSON: V1_JSON,
    LATEST_JSON: V1_JSON,
}


def choose_media_type(request) -> str:
    """The representation to serve: one of ``OFFERS``."""
    requested = request.GET.get("format") if request.META.get("QUERY_STRING") else None
    if requested is not None:
        chosen = _ALIASES.get(requested.strip().lower())
        if chosen is not None:
            return chosen
    return negotiate_accept(request.META.get("HTTP_ACCEPT", ""))


@lru_cache(maxsize=256)
def negotiate_accept(accept: str) -> str:
    """Pick from ``OFFERS`` by RFC 9110 rules: for each offer the most specific
    matching media range gives its quality; highest quality wins, ties go to
    the earlier offer; no acceptable offer (or no header) gives ``text/html``."""
    ranges = _parse_accept(accept)
    if not ranges:
        return TEXT_HTML
    best, best_q = TEXT_HTML, 0.0
    for offer in OFFERS:
        quality = _quality(offer, ranges)
        if quality > best_q:
            best, best_q = offer, quality
    return best


def _parse_accept(accept: str) -> list[tuple[str, str, float]]:
    """[(type, subtype, q)] of an Accept header; malformed ranges are skipped."""
    ranges = []
    for item in accept.split(",")[:64]:
        media, *params = item.split(";")
        media = media.strip().lower()
        if not media:
            continue
        if media == "*":  # seen from some clients; means */*
            media = "*/*"
        kind, sep, subtype = media.partition("/")
        if not sep or not kind or not subtype or (kind == "*" and subtype != "*"):
            continue
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    quality = 0.0
                if not quality >= 0.0:  # negative or nan
                    quality = 0.0
                quality = min(quality, 1.0)
        # A request for the "latest" alias counts as asking for v1.
        full = _ALIASES.get(f"{kind}/{subtype}")
        if full is not None:
            kind, _, subtype = full.partition("/")
        ranges.append((kind, subtype, quality))
    return ranges


def _quality(offer: str, ranges: list[tuple[str, str, float]]) -> float:
    kind, _, subtype = offer.partition("/")
    best_specificity, quality = -1, 0.0
    for r_kind, r_subtype, r_quality in ranges:
        if r_kind == kind and r_subtype == subtype:
            specificity = 2
        elif r_kind == kind and r_subtype == "*":
            specificity = 1
        elif r_kind == "*" and r_subtype == "*":
            specificity = 0
        else:
            continue
        # The most specific range decides; equal specificity keeps the highest q.
        if specificity > best_specificity or (
            specificity == best_specificity and r_quality > quality
        ):
            best_specificity, quality = specificity, r_quality
    return quality
