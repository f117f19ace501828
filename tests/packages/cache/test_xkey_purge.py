"""Purges by surrogate key through Varnish's xkey vmod (deploy/varnish.vcl) and
to every CDN node of INDEX_CDN_PURGE_URL (packages/cache/cdn.py), against real
varnishd processes in front of the live server."""

import subprocess
import sys

import pytest
import requests

from packages.cache.cdn import CdnPurgeFailed, cdn_nodes, purge_cdn
from tests.factories import publish
from tests.gunicorn_server import ROOT, free_port
from tests.packages.cache.processes import Varnish

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def varnishes(live_server, tmp_path):
    nodes = [Varnish(live_server.url, tmp_path / f"node{i}") for i in range(2)]
    yield nodes
    for node in nodes:
        node.stop()


def _purge(node, key):
    return requests.request("PURGE", node.url + "/", headers={"X-Purge-Key": key}, timeout=10)


def _warm(node, path):
    node.get(path)
    assert node.get(path).headers["X-Cache"] == "HIT"


def test_an_xkey_purge_drops_only_the_objects_tagged_with_the_key(varnishes):
    node = varnishes[0]
    publish("tagged", "1.0")
    publish("bystander", "1.0")
    for path in ("/simple/tagged/", "/pypi/tagged/json", "/simple/bystander/",
                 "/pypi/bystander/json"):
        _warm(node, path)

    response = _purge(node, "project/tagged")

    # Two objects carry project/tagged: the simple page and the JSON document.
    assert response.status_code == 200
    assert response.headers["X-Purged-Objects"] == "2"
    assert response.reason == "Purged 2"
    # Nothing carries the key any more: a second purge finds nothing.
    assert _purge(node, "project/tagged").headers["X-Purged-Objects"] == "0"
    assert node.get("/simple/tagged/").headers["X-Cache"] == "MISS"
    assert node.get("/pypi/tagged/json").headers["X-Cache"] == "MISS"
    assert node.get("/simple/bystander/").headers["X-Cache"] == "HIT"
    assert node.get("/pypi/bystander/json").headers["X-Cache"] == "HIT"
    # The xkey header is Varnish's business, not the client's.
    assert "xkey" not in node.get("/simple/tagged/").headers


def test_a_purge_key_that_is_a_prefix_of_another_purges_only_its_own(varnishes):
    node = varnishes[0]
    publish("demo", "1.0")
    publish("demo-extra", "1.0")
    _warm(node, "/simple/demo/")
    _warm(node, "/simple/demo-extra/")
    assert _purge(node, "project/demo").headers["X-Purged-Objects"] == "1"
    assert node.get("/simple/demo-extra/").headers["X-Cache"] == "HIT"


def test_every_node_of_the_list_is_purged(varnishes, settings):
    settings.INDEX_CDN_PURGE_URL = [node.url + "/" for node in varnishes]
    publish("spread", "1.0")
    for node in varnishes:
        _warm(node, "/simple/spread/")

    purge_cdn(["project/spread"])

    assert [node.get("/simple/spread/").headers["X-Cache"] for node in varnishes] == [
        "MISS", "MISS"]


def test_a_node_down_does_not_stop_the_others_and_is_named(varnishes, settings):
    down = f"http://127.0.0.1:{free_port()}/"
    settings.INDEX_CDN_PURGE_URL = [down, varnishes[0].url + "/"]
    publish("partial", "1.0")
    _warm(varnishes[0], "/simple/partial/")

    with pytest.raises(CdnPurgeFailed) as failure:
        purge_cdn(["project/partial", "all-projects"])

    assert failure.value.nodes == [down]
    assert varnishes[0].get("/simple/partial/").headers["X-Cache"] == "MISS"


def test_a_change_purges_every_node_after_commit(varnishes, settings):
    from packages.curation.yanking import yank_release

    settings.INDEX_CDN_PURGE_URL = ",".join(node.url + "/" for node in varnishes)
    release = publish("changed", "1.0")
    for node in varnishes:
        _warm(node, "/simple/changed/")

    yank_release(release, reason="broken")

    for node in varnishes:
        response = node.get("/simple/changed/")
        assert response.headers["X-Cache"] == "MISS"
        assert 'data-yanked="broken"' in response.text


def test_the_setting_is_a_comma_separated_list_of_urls():
    code = "from django.conf import settings; print(settings.INDEX_CDN_PURGE_URL)"
    env = {"DJANGO_SETTINGS_MODULE": "indexsite.settings", "PATH": "/usr/bin:/bin",
           "INDEX_CDN_PURGE_URL": "http://cdn-a:6081/, http://cdn-b:6081/,"}
    output = subprocess.run([sys.executable, "-c", f"import django; django.setup(); {code}"],
                            cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert output.stdout.strip() == "['http://cdn-a:6081/', 'http://cdn-b:6081/']"


def test_a_single_url_string_still_names_one_node(settings):
    settings.INDEX_CDN_PURGE_URL = "http://varnish-host/"
    assert cdn_nodes() == ["http://varnish-host/"]
    settings.INDEX_CDN_PURGE_URL = "http://a/,http://b/"
    assert cdn_nodes() == ["http://a/", "http://b/"]
