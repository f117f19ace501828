"""packages.http, the read side's one HTTP layer: the hot path answers from the
URLconf's own resolution, the LRU is bounded by bytes, CORS skips refused
methods, and a purge bumps the generations every cached answer depends on."""

import pytest
from django.test import RequestFactory

from legacy import simple
from packages.cache.purgers import purge_keys_now
from packages.http import shared_cache
from packages.http.cors import cors
from packages.http.errors import error_response, reason_phrase
from packages.http.hot_path import resolve_view
from tests.factories import publish

pytestmark = pytest.mark.django_db


def test_hot_views_skip_the_session_middleware_and_others_do_not(client):
    publish("hotproj", "1.0")
    page = client.get("/simple/hotproj/")
    assert page.status_code == 200 and not hasattr(page.wsgi_request, "session")
    index = client.get("/simple/")
    assert index.status_code == 200 and hasattr(index.wsgi_request, "session")
    # A JSON document: built by the view the first time, then answered early.
    assert hasattr(client.get("/pypi/hotproj/json").wsgi_request, "session")
    cached = client.get("/pypi/hotproj/json")
    assert cached.status_code == 200 and not hasattr(cached.wsgi_request, "session")


def test_resolution_follows_path_info_not_script_name():
    request = RequestFactory().get("/simple/x/", SCRIPT_NAME="/admin")
    assert request.path == "/admin/simple/x/" and request.path_info == "/simple/x/"
    assert resolve_view(request).func is simple.detail
    assert resolve_view(RequestFactory().get("/no/such/place/")) is None


def test_local_lru_is_bounded_by_bytes():
    lru = shared_cache.LocalLRU(max_bytes=100)
    for key in "abcd":
        lru.put(key, b"x" * 20)
    lru.get("a")  # now the most recently used
    lru.put("e", (b"y" * 25, '"etag"'))
    assert lru.get("b") is None  # the least recently used went first
    assert lru.get("a") == b"x" * 20 and lru.get("e")[1] == '"etag"'
    lru.put("huge", b"z" * 26)  # over a quarter of the budget: never kept
    assert lru.get("huge") is None


def test_cors_headers_are_not_sent_with_a_405():
    view = cors(lambda request, status: error_response(status, "no"))
    request = RequestFactory().get("/")
    assert view(request, 404)["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Origin" not in view(request, 405)


def test_error_reason_phrase_is_one_printable_ascii_line():
    response = error_response(400, "Bad\nthing:  café")
    assert response.reason_phrase == reason_phrase("Bad\nthing:  café") == "Bad thing: caf?"
    assert response.content == "Bad\nthing:  café\n".encode()


def test_purge_bumps_generations_and_a_dead_cache_is_tolerated(settings):
    assert shared_cache.generation("project/p") == 0
    purge_keys_now(["project/p"])
    assert shared_cache.generation("project/p") == 1
    settings.CACHES = {"default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
    }}
    assert shared_cache.generation("project/p") is None
    assert shared_cache.get_or_build("k", lambda: [1]) == [1]
    purge_keys_now(["project/p"])  # logged, never raised
