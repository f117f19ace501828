# ruff: noqa: F811 (the upstream fixtures are imported, then requested by name)
"""The JSON API's documents of upstream projects come from the same cache of
renderings as their simple pages (packages/upstream/renderings.py): a warm
document is answered on the hot path for what a warm local one costs, with no
fetch, and a curation change or a cooldown's end still shows on the very next
request."""

import json
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from packages.upstream.models import UpstreamBlock
from tests.factories import publish
from tests.legacy.test_simple_upstream_cache import (  # noqa: F401 (demo: a fixture)
    cooling_page,
    demo,
    page_queries,
)
from tests.packages.upstream.conftest import (  # noqa: F401 (fixtures)
    _no_fetch_left_claimed,
    _upstream_settings,
    scripted,
)

pytestmark = pytest.mark.django_db(transaction=True)


def document(client, path: str = "/pypi/demo/json"):
    """The document's info.version, or its status code when it is not a 200."""
    response = client.get(path)
    return json.loads(response.content)["info"]["version"] if response.status_code == 200 \
        else response.status_code


def served_from_cache(client, scripted, path: str = "/pypi/demo/json"):
    asked = len(scripted.requests)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    # The local project's lookup only, as for a warm local document.
    assert len(page_queries(queries)) <= 1 and len(scripted.requests) == asked
    return response


def test_a_warm_document_comes_from_the_cache_with_its_bytes_etag_and_headers(
        client, scripted, demo):
    first = client.get("/pypi/demo/json")
    again = served_from_cache(client, scripted)
    assert again.content == first.content and again["ETag"] == first["ETag"]
    assert json.loads(again.content)["info"]["version"] == "2.0"
    for header in ("Content-Type", "X-PyPI-Last-Serial", "Surrogate-Key", "X-Frame-Options"):
        assert again.get(header) == first.get(header), header
    assert again["Surrogate-Key"] == "project/demo upstream-pages"
    assert client.get("/pypi/demo/json", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    assert client.get("/pypi/Demo/json").status_code == 301  # the spelling still redirects
    assert scripted.paths("/simple/") == ["/simple/demo/"]


def test_a_warm_document_costs_no_more_queries_than_a_warm_local_one(client, scripted, demo):
    publish("localpkg", "1.0")
    counts = {}
    for path in ("/pypi/demo/json", "/pypi/localpkg/json", "/pypi/demo/1.0/json",
                 "/pypi/localpkg/1.0/json"):
        client.get(path)  # warm
        with CaptureQueriesContext(connection) as queries:
            assert client.get(path).status_code == 200
        counts[path] = len(page_queries(queries))
    assert counts["/pypi/demo/json"] <= counts["/pypi/localpkg/json"]
    assert counts["/pypi/demo/1.0/json"] <= counts["/pypi/localpkg/1.0/json"]


def test_each_document_is_kept_apart(client, scripted, demo):
    for path, shown in (("/pypi/demo/json", "2.0"), ("/pypi/demo/1.0/json", "1.0"),
                        ("/pypi/demo/2.0/json", "2.0")):
        assert document(client, path) == shown
        response = served_from_cache(client, scripted, path)
        assert json.loads(response.content)["info"]["version"] == shown


def test_another_spelling_of_a_version_is_answered_but_not_kept(client, scripted, demo):
    assert document(client, "/pypi/demo/1.0.0/json") == "1.0"
    with CaptureQueriesContext(connection) as queries:
        assert document(client, "/pypi/demo/1.0.0/json") == "1.0"
    assert page_queries(queries)  # rendered again from the kept page
    assert scripted.paths("/simple/") == ["/simple/demo/"]  # not fetched again


def test_a_block_and_its_removal_show_at_once(client, scripted, demo):
    assert document(client) == "2.0"
    served_from_cache(client, scripted)
    block = UpstreamBlock.objects.create(name="demo", specifier="==2.0", reason="broken")
    assert document(client) == "1.0"
    assert document(client, "/pypi/demo/2.0/json") == 404
    block.delete()
    assert document(client) == "2.0"


def test_a_file_appears_when_its_cooldown_ends_with_the_document_cached(
        client, scripted, settings):
    ends_in = 1.0  # well within the 2 s a process-local cache keeps a rendering
    started = time.monotonic()
    cooling_page(scripted, settings, ends_in)
    assert document(client) == "1.0"
    served_from_cache(client, scripted)
    time.sleep(max(ends_in + 0.2 - (time.monotonic() - started), 0))
    assert document(client) == "2.0"  # no purge: the cooldown's end
    assert len(scripted.paths("/simple/")) == 1
