"""Simple repository API views (PEP 503, 629, 691, 700, 714, 792).

Thin: negotiation is in legacy.negotiation, rendering and caching in
legacy.simple_pages, reads in packages.queries. A cached project page costs one
indexed query (the project row, for its serial and status)."""

from urllib.parse import quote

from django.conf import settings
from django.http import (
    HttpResponse,
    HttpResponseNotModified,
    HttpResponsePermanentRedirect,
    StreamingHttpResponse,
)
from django.views.decorators.http import require_safe

from legacy import simple_pages
from legacy.negotiation import choose_media_type
from packages.caching import ALL_PROJECTS, project_key
from packages.headers import API_CORS_HEADERS, request_etag_matches
from packages.journal import last_serial
from packages.names import normalize_name
from packages.queries import find_simple_project

CORS_HEADERS = API_CORS_HEADERS
_SURROGATE_CONTROL = "max-age=86400, stale-while-revalidate=300, stale-if-error=86400"
_INDEX_JSON_SURROGATE_CONTROL = "max-age=1800, stale-while-revalidate=300, stale-if-error=86400"


def cache_control() -> str:
    # With private reads no shared cache may keep a page.
    if settings.INDEX_READ_AUTH == "authenticated":
        return "max-age=600, private"
    return "max-age=600, public"


def not_found() -> HttpResponse:
    response = HttpResponse(b"404 Not Found", status=404, content_type="text/plain; charset=UTF-8")
    _add_cors(response)
    return response


def _content_type(media_type: str) -> str:
    # PEP 691's types are UTF-8 by definition; plain HTML says so explicitly.
    return "text/html; charset=UTF-8" if media_type == "text/html" else media_type


def _page_response(request, body, *, media_type, etag, serial, surrogate_key, surrogate_control):
    if request_etag_matches(request, etag):
        # No Content-Type: pip's HTTP cache copies a 304's headers onto the
        # cached page, and a text/html there makes it parse cached JSON as HTML.
        response = HttpResponseNotModified()
    elif isinstance(body, bytes):
        response = HttpResponse(
            b"" if request.method == "HEAD" else body, content_type=_content_type(media_type)
        )
        response["Content-Length"] = str(len(body))
    else:
        if request.method == "HEAD":
            body.close()
            body = iter(())
        response = StreamingHttpResponse(body, content_type=_content_type(media_type))
    headers = response.headers
    headers["ETag"] = etag
    headers["Cache-Control"] = cache_control()
    headers["Vary"] = "Accept"
    headers["X-PyPI-Last-Serial"] = str(serial)
    headers["Surrogate-Key"] = surrogate_key
    headers["Surrogate-Control"] = surrogate_control
    for header, value in CORS_HEADERS.items():
        headers[header] = value
    return response


def _redirect(location: str, request) -> HttpResponsePermanentRedirect:
    """301 to a root-relative path of this origin (never another host)."""
    query = request.META.get("QUERY_STRING", "")
    response = HttpResponsePermanentRedirect(location + (f"?{query}" if query else ""))
    _add_cors(response)
    return response


@require_safe
def index(request):
    media_type = choose_media_type(request)
    serial = last_serial()
    generation = simple_pages.index_generation()
    etag = simple_pages.index_etag(serial, generation, media_type)
    key = simple_pages.index_key(serial, generation, media_type)
    body = None if request_etag_matches(request, etag) else simple_pages.cached_index(key)
    if body is None:
        body = simple_pages.stream_index(key, serial, media_type)
    surrogate_control = (
        _INDEX_JSON_SURROGATE_CONTROL if media_type.endswith("json") else _SURROGATE_CONTROL
    )
    return _page_response(
        request, body, media_type=media_type, etag=etag, serial=serial,
        surrogate_key=ALL_PROJECTS, surrogate_control=surrogate_control,
    )


@require_safe
def detail(request, name: str):
    normalized = normalize_name(name)
    project = find_simple_project(normalized)
    if project is None:
        return not_found()
    if name != project.normalized_name:
        return _redirect(f"/simple/{quote(project.normalized_name)}/", request)
    media_type = choose_media_type(request)
    etag = simple_pages.detail_etag(project, media_type)
    body = b"" if request_etag_matches(request, etag) else simple_pages.detail_body(project, media_type)
    return _page_response(
        request, body, media_type=media_type, etag=etag, serial=project.last_serial,
        surrogate_key=project_key(project.normalized_name), surrogate_control=_SURROGATE_CONTROL,
    )


@require_safe
def add_slash(request, name: str = ""):
    """``/simple`` and ``/simple/<name>`` (no trailing slash): 301, same spelling."""
    return _redirect(f"/simple/{quote(name)}/" if name else "/simple/", request)


def _add_cors(response) -> None:
    for header, value in CORS_HEADERS.items():
        response.headers[header] = value
