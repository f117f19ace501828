# ruff: noqa: F811 (the upstream fixture is imported, then requested by name)
"""A purge lost while the broker is down is caught up, end to end, with real
processes only: gunicorn on its own database, a private redis-server as the
broker (stopped and started again by the test), a Celery worker, ``celery beat``
with the project's configuration, and varnishd with deploy/varnish.vcl. Both
kinds of change: a journaled one (a yank) and one the journal does not record
(a block of an upstream project, kept as a PendingPurge row)."""

import time

import pytest

from tests.gunicorn_server import free_port, start_gunicorn
from tests.legacy.test_simple_upstream_cache import _file, serve_page
from tests.packages.cache.processes import RedisServer, Varnish, celery, stop, wait_for
from tests.packages.upstream.conftest import scripted  # noqa: F401 (fixture)

SETUP = """
from tests.factories import publish
publish("demo", "1.0")
"""
YANK = """
from packages.curation.yanking import yank_release
from packages.models import Release
yank_release(Release.objects.get(project__name="demo", version="1.0"), reason="lost purge")
"""
UPSTREAM = """
from packages.upstream.models import Upstream
Upstream.objects.create(name="up", simple_url="{url}/simple/")
"""
BLOCK = """
from packages.upstream.models import UpstreamBlock
UpstreamBlock.objects.create(name="remote", reason="malware")
"""
PENDING = """
from packages.cache.models import PendingPurge
print(PendingPurge.objects.count())
"""
ACKED = """
from packages.cache.models import CdnPurgeState
from packages.journal import last_serial
print(sorted(CdnPurgeState.objects.values_list("node", "acked_serial")), last_serial())
"""


@pytest.fixture
def stack(tmp_path):
    started = []
    broker = RedisServer(tmp_path / "redis")
    started.append(broker)
    varnish_port = free_port()
    purge_url = f"http://127.0.0.1:{varnish_port}/"
    server = start_gunicorn(
        tmp_path / "server", setup=SETUP, CELERY_BROKER_URL=broker.url,
        INDEX_CDN_PURGE_URL=purge_url, INDEX_CDN_CATCHUP_SECONDS="1",
        CELERY_BEAT_SCHEDULE_FILENAME=str(tmp_path / "beat" / "schedule"),
    )
    started.append(server)
    processes = []
    try:
        varnish = Varnish(server.url, tmp_path / "varnish", port=varnish_port)
        started.append(varnish)
        processes.append(celery(server.env, tmp_path / "worker.log", "worker", "--pool", "solo",
                                "--without-gossip", "--without-mingle", "--without-heartbeat",
                                "-l", "INFO"))
        processes.append(celery(server.env, tmp_path / "beat.log", "beat", "-l", "INFO"))
        yield server, broker, varnish, purge_url
    finally:
        for process in processes:
            stop(process)
        for thing in reversed(started):
            thing.stop()
        for log in ("worker.log", "beat.log"):  # shown when the test fails
            if (tmp_path / log).exists():
                print(f"--- {log}", (tmp_path / log).read_text()[-5000:], sep="\n")


def test_a_purge_lost_while_the_broker_is_down_is_caught_up_by_beat(stack):
    server, broker, varnish, purge_url = stack
    # beat's first catch-up run starts tracking the node (and the index's cache).
    wait_for(lambda: purge_url in server.shell(ACKED), "beat's first catch-up run")
    varnish.get("/simple/demo/")
    warm = varnish.get("/simple/demo/")
    assert warm.headers["X-Cache"] == "HIT" and "data-yanked" not in warm.text

    broker.stop()
    server.shell(YANK)  # commits; queueing its purge fails and is only logged
    time.sleep(3)  # beat's runs would have come and gone: none reached a worker

    stale = varnish.get("/simple/demo/")
    assert stale.headers["X-Cache"] == "HIT" and "data-yanked" not in stale.text

    broker.start()  # same port: worker and beat reconnect by themselves

    fresh = wait_for(
        lambda: (r := varnish.get("/simple/demo/")) and "data-yanked" in r.text and r,
        "the catch-up to purge the yanked page", timeout=90, interval=0.5)
    assert 'data-yanked="lost purge"' in fresh.text
    nodes, serial = server.shell(ACKED).rsplit(" ", 1)
    assert f"('{purge_url}', {serial.strip()})" in nodes


def test_an_upstream_block_whose_purge_was_lost_is_caught_up_by_beat(stack, scripted):
    server, broker, varnish, purge_url = stack
    serve_page(scripted, "remote", [_file("remote", "1.0")])
    server.shell(UPSTREAM.format(url=scripted.url))
    wait_for(lambda: purge_url in server.shell(ACKED), "beat's first catch-up run")
    varnish.get("/simple/remote/")  # kept: its purge of the index goes through
    warm = varnish.get("/simple/remote/")
    assert warm.status_code == 200 and warm.headers["X-Cache"] == "HIT"
    assert "remote-1.0.tar.gz" in warm.text
    wait_for(lambda: server.shell(PENDING).strip() == "0", "the worker to take the purge")

    broker.stop()
    server.shell(BLOCK)  # commits with its PendingPurge; queueing the purge fails
    time.sleep(3)  # beat's runs would have come and gone: none reached a worker

    stale = varnish.get("/simple/remote/")
    assert stale.status_code == 200 and stale.headers["X-Cache"] == "HIT"
    assert server.shell(PENDING).strip() == "1"

    broker.start()

    wait_for(lambda: varnish.get("/simple/remote/").status_code == 404,
             "the catch-up to purge the blocked page", timeout=90, interval=0.5)
    assert server.shell(PENDING).strip() == "0"
