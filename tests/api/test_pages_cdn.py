"""The pages for people behind a real Varnish (deploy/varnish.vcl): anonymous
pages are kept at the CDN under the purge keys of what they show, so a change
shows on the next request and an unrelated project's page stays cached."""

import urllib.error
import urllib.request

import pytest

from packages.curation.projects import approve_project
from packages.curation.yanking import yank_release
from packages.models import Project
from tests.factories import publish
from tests.packages.test_cdn_varnish import _get, varnish  # noqa: F401 (the fixture)

pytestmark = pytest.mark.django_db(transaction=True)


def _status_and_cache(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers["X-Cache"]
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["X-Cache"]


def test_a_project_page_is_kept_until_a_change_to_its_project(varnish, settings):  # noqa: F811
    settings.INDEX_CDN_PURGE_URL = varnish + "/"
    release = publish("people-cdn", "1.0")
    publish("bystander", "1.0")
    for path in ("/project/people-cdn/", "/project/bystander/", "/"):
        first, body = _get(varnish + path)
        second, again = _get(varnish + path)
        assert (first["X-Cache"], second["X-Cache"]) == ("MISS", "HIT"), path
        assert body == again and second["Cache-Control"] == "no-cache"
    assert _get(varnish + "/project/people-cdn/")[0]["Surrogate-Key"] == "project/people-cdn"

    yank_release(release, reason="broken build")

    headers, body = _get(varnish + "/project/people-cdn/")
    assert headers["X-Cache"] == "MISS" and b"broken build" in body
    assert _get(varnish + "/")[0]["X-Cache"] == "MISS"  # all-projects: the lists change too
    assert _get(varnish + "/project/bystander/")[0]["X-Cache"] == "HIT"


def test_a_kept_404_goes_when_the_project_is_approved(varnish, settings):  # noqa: F811
    settings.INDEX_CDN_PURGE_URL = varnish + "/"
    project = publish("waiting", "1.0").project
    Project.objects.filter(pk=project.pk).update(status="pending")
    url = varnish + "/project/waiting/"
    assert _status_and_cache(url) == (404, "MISS")
    assert _status_and_cache(url) == (404, "HIT")

    approve_project(Project.objects.get(pk=project.pk))

    assert _status_and_cache(url) == (200, "MISS")
