"""Feed views: the Feed classes wrapped with PyPI's headers (feeds.md §4),
an md5 ETag with 304 answers, and the rendered document cached by serial.

A rendered feed is stored under the journal serial it reflects (the index's
serial for the global feeds, the project's for a project feed). Every change a
feed shows (upload, yank, deletion, quarantine) writes a journal entry, so a
new serial makes the next request render afresh; nothing needs deleting. With
the cache unreachable, feeds are rendered on every request."""

import base64
import hashlib
import logging

from django.conf import settings
from django.core.cache import cache
from django.http import (
    Http404,
    HttpResponse,
    HttpResponseNotModified,
    HttpResponsePermanentRedirect,
)
from django.urls import reverse
from django.views.decorators.http import require_safe

from feeds.feeds import LatestUpdatesFeed, NewestPackagesFeed, ProjectReleasesFeed
from packages.caching import ALL_PROJECTS, project_key
from packages.headers import API_CORS_HEADERS, request_etag_matches
from packages.journal import last_serial
from packages.queries import find_visible_project

CACHE_TIMEOUT = 24 * 3600
logger = logging.getLogger(__name__)


# Surrogate-Control as Warehouse's origin_cache decorators (only sent when a CDN is configured).
GLOBAL_SURROGATE_CONTROL = "max-age=86400, stale-while-revalidate=86400, stale-if-error=432000"
PROJECT_SURROGATE_CONTROL = "max-age=86400, stale-if-error=432000"

_updates_feed = LatestUpdatesFeed()
_packages_feed = NewestPackagesFeed()
_project_feed = ProjectReleasesFeed()


def etag_for(body: bytes) -> str:
    """PyPI's strong ETag: base64 of the body's md5, padding stripped (caching.md §3)."""
    return '"' + base64.b64encode(hashlib.md5(body).digest()).decode().rstrip("=") + '"'


def _with_headers(response, *, surrogate_key: str, surrogate_control: str):
    for name, value in API_CORS_HEADERS.items():
        response[name] = value
    if settings.INDEX_CDN_PURGE_URL:
        response["Surrogate-Control"] = surrogate_control
        response["Surrogate-Key"] = surrogate_key
    return response


def _render(feed, request, *args) -> bytes:
    # Feed.__call__ also sets Last-Modified, which PyPI's feeds do not send; only
    # the body is kept.
    return feed(request, *args).content


def _cached(cache_key):
    try:
        return cache.get(cache_key)
    except Exception:  # the shared cache is down: render, as without a cache
        logger.warning("Feed cache unavailable; rendering %s", cache_key, exc_info=True)
        return None


def _store(cache_key, value) -> None:
    try:
        cache.set(cache_key, value, CACHE_TIMEOUT)
    except Exception:
        logger.warning("Could not store the rendered feed %s", cache_key, exc_info=True)


def _feed_response(request, *, serial, cache_key, render, surrogate_key, surrogate_control):
    cached = _cached(cache_key)
    if cached is None:
        body = render()
        cached = (body, etag_for(body))
        _store(cache_key, cached)
    body, etag = cached
    if request_etag_matches(request, etag):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(body, content_type=_updates_feed.feed_type.content_type)
    response["ETag"] = etag
    # PyPI sends no serial on feeds, but the issue asks for it "like the other
    # APIs" (the issue wins): the index's serial, or the project's.
    response["X-PyPI-Last-Serial"] = str(serial)
    return _with_headers(response, surrogate_key=surrogate_key, surrogate_control=surrogate_control)


def _index_feed(request, feed, name: str):
    """A feed over the whole index, cached under the index's serial."""
    serial = last_serial()
    return _feed_response(
        request,
        serial=serial,
        cache_key=f"feeds:{name}:{serial}",
        render=lambda: _render(feed, request),
        surrogate_key=ALL_PROJECTS,
        surrogate_control=GLOBAL_SURROGATE_CONTROL,
    )


@require_safe
def latest_updates(request):
    return _index_feed(request, _updates_feed, "updates")


@require_safe
def newest_packages(request):
    return _index_feed(request, _packages_feed, "packages")


@require_safe
def project_releases(request, name):
    project = find_visible_project(name)
    if project is None:
        raise Http404("No such project.")
    if name != project.normalized_name:
        location = reverse("feeds:project-releases", args=[project.normalized_name])
        return _with_headers(
            HttpResponsePermanentRedirect(location),
            surrogate_key=project_key(project.normalized_name),
            surrogate_control=PROJECT_SURROGATE_CONTROL,
        )
    return _feed_response(
        request,
        serial=project.last_serial,
        cache_key=f"feeds:project:{project.normalized_name}:{project.last_serial}",
        render=lambda: _render(_project_feed, request, project),
        surrogate_key=project_key(project.normalized_name),
        surrogate_control=PROJECT_SURROGATE_CONTROL,
    )
