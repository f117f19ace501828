"""Feed views: the Feed classes wrapped with PyPI's headers (feeds.md §4),
an md5 ETag with 304 answers, and the rendered document cached by serial.

A rendered feed is stored under the journal serial it reflects (the index's
serial for the global feeds, the project's for a project feed). Every change a
feed shows (upload, yank, deletion, quarantine) writes a journal entry, so a
new serial makes the next request render afresh; nothing needs deleting. With
the cache unreachable, feeds are rendered on every request."""

from django.http import Http404, HttpResponsePermanentRedirect
from django.urls import reverse
from django.views.decorators.http import require_safe

from feeds.feeds import LatestUpdatesFeed, NewestPackagesFeed, ProjectReleasesFeed
from packages.cache.keys import ALL_PROJECTS, project_key
from packages.http.cache_policy import FEED_INDEX, FEED_PROJECT, apply_cache_policy
from packages.http.conditional import conditional_response, md5_etag
from packages.http.cors import cors
from packages.http.shared_cache import get_or_build
from packages.journal import last_serial
from packages.queries import find_visible_project

CACHE_TIMEOUT = 24 * 3600

_updates_feed = LatestUpdatesFeed()
_packages_feed = NewestPackagesFeed()
_project_feed = ProjectReleasesFeed()


def _rendered(feed, request, *args) -> tuple[bytes, str]:
    # Feed.__call__ also sets Last-Modified, which PyPI's feeds do not send; only
    # the body is kept.
    body = feed(request, *args).content
    return body, md5_etag(body)


def _feed_response(request, *, serial, cache_key, render, policy, surrogate_key):
    body, etag = get_or_build(cache_key, render, CACHE_TIMEOUT)
    response = conditional_response(
        request, body, etag=etag, content_type=_updates_feed.feed_type.content_type
    )
    # PyPI sends no serial on feeds, but the issue asks for it "like the other
    # APIs" (the issue wins): the index's serial, or the project's.
    response["X-PyPI-Last-Serial"] = str(serial)
    return apply_cache_policy(response, policy, [surrogate_key])


def _index_feed(request, feed, name: str):
    """A feed over the whole index, cached under the index's serial."""
    serial = last_serial()
    return _feed_response(
        request,
        serial=serial,
        cache_key=f"feeds:{name}:{serial}",
        render=lambda: _rendered(feed, request),
        policy=FEED_INDEX,
        surrogate_key=ALL_PROJECTS,
    )


@require_safe
@cors
def latest_updates(request):
    return _index_feed(request, _updates_feed, "updates")


@require_safe
@cors
def newest_packages(request):
    return _index_feed(request, _packages_feed, "packages")


@require_safe
@cors
def project_releases(request, name):
    project = find_visible_project(name)
    if project is None:
        raise Http404("No such project.")
    surrogate_key = project_key(project.normalized_name)
    if name != project.normalized_name:
        location = reverse("feeds:project-releases", args=[project.normalized_name])
        return apply_cache_policy(
            HttpResponsePermanentRedirect(location), FEED_PROJECT, [surrogate_key]
        )
    return _feed_response(
        request,
        serial=project.last_serial,
        cache_key=f"feeds:project:{project.normalized_name}:{project.last_serial}",
        render=lambda: _rendered(_project_feed, request, project),
        policy=FEED_PROJECT,
        surrogate_key=surrogate_key,
    )
