"""Simple repository API views (PEP 503, 629, 691, 700, 714, 792).

Thin: negotiation is in legacy.negotiation, rendering and caching in
legacy.simple_pages, reads in packages.queries, and the HTTP side (304s, cache
headers, CORS, errors) in packages.http. Project pages are on the hot path
(legacy/simple_urls.py): a cached one costs one indexed query (the project
row, for its serial and status)."""

from urllib.parse import quote

from django.http import HttpResponsePermanentRedirect
from django.views.decorators.http import require_safe

from legacy import simple_pages
from legacy.negotiation import V1_JSON, choose_media_type
from packages.cache.keys import ALL_PROJECTS, project_key
from packages.http.cache_policy import (
    SIMPLE_INDEX_HTML,
    SIMPLE_INDEX_JSON,
    SIMPLE_PAGE,
    SIMPLE_REDIRECT,
    apply_cache_policy,
)
from packages.http.conditional import client_has, conditional_response
from packages.http.cors import cors
from packages.http.errors import not_found
from packages.journal import last_serial
from packages.names import normalize_name
from packages.queries import find_simple_project


def _content_type(media_type: str) -> str:
    # PEP 691's types are UTF-8 by definition; plain HTML says so explicitly.
    return "text/html; charset=UTF-8" if media_type == "text/html" else media_type


def _page_response(request, body, *, media_type, etag, serial, policy, surrogate_key):
    response = conditional_response(request, body, etag=etag, content_type=_content_type(media_type))
    response["Vary"] = "Accept"
    response["X-PyPI-Last-Serial"] = str(serial)
    return apply_cache_policy(response, policy, [surrogate_key])


def _redirect(location: str, request) -> HttpResponsePermanentRedirect:
    """301 to a root-relative path of this origin (never another host)."""
    query = request.META.get("QUERY_STRING", "")
    response = HttpResponsePermanentRedirect(location + (f"?{query}" if query else ""))
    return apply_cache_policy(response, SIMPLE_REDIRECT)


@require_safe
@cors
def index(request):
    media_type = choose_media_type(request)
    serial = last_serial()
    generation = simple_pages.index_generation()
    etag = simple_pages.index_etag(serial, generation, media_type)
    body = None
    if not client_has(request, etag):
        key = simple_pages.index_key(serial, generation, media_type)
        body = simple_pages.cached_index(key)
        if body is None:
            body = simple_pages.stream_index(key, serial, media_type)
    return _page_response(
        request, body, media_type=media_type, etag=etag, serial=serial,
        policy=SIMPLE_INDEX_JSON if media_type == V1_JSON else SIMPLE_INDEX_HTML,
        surrogate_key=ALL_PROJECTS,
    )


@require_safe
@cors
def detail(request, name: str):
    project = find_simple_project(normalize_name(name))
    if project is None:
        return not_found()
    if name != project.normalized_name:
        return _redirect(f"/simple/{quote(project.normalized_name)}/", request)
    media_type = choose_media_type(request)
    etag = simple_pages.detail_etag(project, media_type)
    body = None if client_has(request, etag) else simple_pages.detail_body(project, media_type)
    return _page_response(
        request, body, media_type=media_type, etag=etag, serial=project.last_serial,
        policy=SIMPLE_PAGE, surrogate_key=project_key(project.normalized_name),
    )


@require_safe
@cors
def add_slash(request, name: str = ""):
    """``/simple`` and ``/simple/<name>`` (no trailing slash): 301, same spelling."""
    return _redirect(f"/simple/{quote(name)}/" if name else "/simple/", request)
