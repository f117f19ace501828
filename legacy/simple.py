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
from packages.errors import DomainError
from packages.http.cache_policy import (
    SIMPLE_INDEX_HTML,
    SIMPLE_INDEX_JSON,
    SIMPLE_PAGE,
    SIMPLE_REDIRECT,
    apply_cache_policy,
    upstream_page_policy,
)
from packages.http.conditional import client_has, conditional_response, md5_etag
from packages.http.cors import cors
from packages.http.errors import domain_error_response, not_found
from packages.journal import last_serial
from packages.names import normalize_name
from packages.queries import find_simple_project
from packages.upstream.pages import kept_project_names, resolve_project
from packages.upstream.purges import UPSTREAM_PAGES
from packages.upstream.renderings import RenderingHit, RenderingMiss


def _content_type(media_type: str) -> str:
    # PEP 691's types are UTF-8 by definition; plain HTML says so explicitly.
    return "text/html; charset=UTF-8" if media_type == "text/html" else media_type


def _page_response(request, body, *, media_type, etag, serial, policy, surrogate_keys):
    response = conditional_response(request, body, etag=etag, content_type=_content_type(media_type))
    response["Vary"] = "Accept"
    if serial is not None:  # an upstream may send none
        response["X-PyPI-Last-Serial"] = str(serial)
    return apply_cache_policy(response, policy, surrogate_keys)


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
    # Kept upstream projects are listed too; they come and go without a journal
    # entry, so their names are part of the key.
    upstream_names = kept_project_names()
    generation = simple_pages.index_generation(upstream_names)
    etag = simple_pages.index_etag(serial, generation, media_type)
    body = None
    if not client_has(request, etag):
        key = simple_pages.index_key(serial, generation, media_type)
        body = simple_pages.cached_index(key)
        if body is None:
            body = simple_pages.stream_index(key, serial, media_type, upstream_names)
    return _page_response(
        request, body, media_type=media_type, etag=etag, serial=serial,
        policy=SIMPLE_INDEX_JSON if media_type == V1_JSON else SIMPLE_INDEX_HTML,
        surrogate_keys=[ALL_PROJECTS],
    )


@require_safe
@cors
def detail(request, name: str):
    """The local page, an upstream one or both merged: packages.upstream.pages
    decides (shared/spec/upstream.md)."""
    normalized = normalize_name(name)
    project = find_simple_project(normalized)
    if project is not None and name != project.normalized_name:
        return _redirect(f"/simple/{quote(project.normalized_name)}/", request)
    if project is None or not project.local_only:  # a local page with files: no more queries
        media_type = choose_media_type(request)
        cached = simple_pages.find_upstream_page(normalized, project, media_type)
        if isinstance(cached, RenderingHit):
            if name != normalized:
                return _redirect(f"/simple/{quote(normalized)}/", request)
            found, body = cached.reply(request)
            if found:
                return _upstream_response(request, body, media_type=media_type,
                                          etag=cached.etag, serial=cached.serial,
                                          name=normalized, shown_until=cached.shown_until)
            cached = RenderingMiss(cached.generations)  # the body was evicted
        try:
            resolution = resolve_project(normalized)
        except DomainError as exc:  # blocked, awaiting approval (404); upstream failing (502/504)
            return domain_error_response(exc)
        if resolution.source in ("upstream", "merged"):
            if name != normalized:
                return _redirect(f"/simple/{quote(normalized)}/", request)
            return _resolved_page(request, resolution, project, media_type, cached)
    if project is None:
        return not_found()
    media_type = choose_media_type(request)
    etag = simple_pages.detail_etag(project, media_type)
    body = None if client_has(request, etag) else simple_pages.detail_body(project, media_type)
    return _page_response(
        request, body, media_type=media_type, etag=etag, serial=project.last_serial,
        policy=SIMPLE_PAGE, surrogate_keys=[project_key(project.normalized_name)],
    )


def _resolved_page(request, resolution, project, media_type, miss):
    """An upstream page (or a merged one), rendered from the kept copy, then
    cached until a purge, its revalidation or a cooldown's end
    (packages/upstream/renderings.py). The ETag is the body's md5 and the
    page's max-age ends by the time it may change with no purge (upstream_page_policy)."""
    page = resolution.page
    if resolution.source == "merged" and project is None:
        return not_found()  # the local project is hidden (quarantined): so is its page
    if resolution.source == "merged":
        head, serial, local_id = project, project.last_serial, project.id
    else:
        head = simple_pages.PageHead(page.name, page.status, page.status_reason,
                                     page.last_serial)
        serial, local_id = page.last_serial, None
    body = simple_pages.render_resolved(head, page.files, media_type, local_project_id=local_id)
    etag = md5_etag(body)
    simple_pages.keep_upstream_page(miss, project, page, media_type, body=body, etag=etag,
                                    serial=serial)
    return _upstream_response(request, body, media_type=media_type, etag=etag, serial=serial,
                              name=page.name, shown_until=page.shown_until)


def _upstream_response(request, body, *, media_type, etag, serial, name, shown_until):
    return _page_response(
        request, body, media_type=media_type, etag=etag, serial=serial,
        policy=upstream_page_policy(shown_until),
        surrogate_keys=[project_key(name), UPSTREAM_PAGES],
    )


@require_safe
@cors
def add_slash(request, name: str = ""):
    """``/simple`` and ``/simple/<name>`` (no trailing slash): 301, same spelling."""
    return _redirect(f"/simple/{quote(name)}/" if name else "/simple/", request)
