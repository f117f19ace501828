# ruff: noqa: F811 (the upstream and Varnish fixtures are imported, then requested by name)
"""How long a cache in front may keep an upstream page (packages/http/cache_policy.py,
``upstream_page_policy``): no longer than the page's ``shown_until``, the moment
it may change with no purge (a file's cooldown ending, the kept copy due for
revalidation). A CDN then fetches the page again and shows the file, with no purge
and without serving the old page once more in grace (deploy/varnish.vcl)."""

import json
import re
import time
import urllib.request

import pytest

from tests.legacy.test_simple_upstream_cache import JSON, _file, cooling_page, serve_page
from tests.packages.test_cdn_varnish import varnish  # noqa: F401 (the fixture)
from tests.packages.upstream.conftest import (  # noqa: F401 (fixtures)
    _no_fetch_left_claimed,
    _upstream_settings,
    scripted,
)
from tests.packages.upstream.test_pages import make_upstream

pytestmark = pytest.mark.django_db(transaction=True)


def max_ages(response) -> tuple[int, int]:
    """(Cache-Control's max-age, Surrogate-Control's)."""
    browser = re.fullmatch(r"max-age=(\d+), public", response["Cache-Control"])
    edge = re.fullmatch(r"max-age=(\d+), stale-if-error=86400", response["Surrogate-Control"])
    return int(browser.group(1)), int(edge.group(1))


def test_a_page_is_kept_no_longer_than_its_next_cooldown_end(client, scripted, settings):
    cooling_page(scripted, settings, ends_in=60)
    first = client.get("/simple/demo/", HTTP_ACCEPT=JSON)
    again = client.get("/simple/demo/", HTTP_ACCEPT=JSON)  # from the index's cache
    document = client.get("/pypi/demo/json")  # the JSON API's document of it too

    assert json.loads(first.content)["versions"] == ["1.0"]
    for response in (first, again, document):
        browser, edge = max_ages(response)
        assert 30 <= browser <= 60 and edge == browser  # 30: room for a slow machine
    assert len(scripted.paths("/simple/")) == 1


def test_a_page_is_kept_no_longer_than_its_revalidation(client, scripted, settings):
    settings.INDEX_UPSTREAM_REVALIDATE = 120
    serve_page(scripted, "demo", [_file("demo", "1.0")])
    make_upstream(scripted, "up")
    for _ in range(2):  # fetched, then from the index's cache
        browser, edge = max_ages(client.get("/simple/demo/"))
        assert 60 <= browser <= 120 and edge == browser


def _through(url: str) -> tuple[list[str], str]:
    request = urllib.request.Request(url, headers={"Accept": JSON})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())["versions"], response.headers["X-Cache"]


def test_a_file_whose_cooldown_ends_shows_through_varnish_with_no_purge(
        varnish, scripted, settings):
    ends_in = 6.0  # room for the first two requests on a loaded machine
    started = time.monotonic()
    cooling_page(scripted, settings, ends_in)
    url = varnish + "/simple/demo/"

    assert _through(url) == (["1.0"], "MISS")
    assert _through(url) == (["1.0"], "HIT")
    time.sleep(max(ends_in + 0.5 - (time.monotonic() - started), 0))

    # No purge was sent (none is configured): the object's max-age ran out at
    # the cooldown's end, and no grace serves the old page once more.
    assert _through(url) == (["1.0", "2.0"], "MISS")
    assert _through(url)[0] == ["1.0", "2.0"]
