"""The catch-up of lost purges (packages/cache/catchup.py): journal entries a
target has not acknowledged are purged again there, a batch per run, and each
target's acknowledged serial only moves when it took every key."""

import pytest

from packages.cache.catchup import SHARED_CACHE, catch_up_purges
from packages.cache.models import CdnPurgeState
from packages.curation.yanking import unyank_release, yank_release
from packages.http.shared_cache import generation
from packages.journal import last_serial
from packages.models import JournalEntry
from tests.factories import publish
from tests.packages.cache.processes import Forwarder, Varnish

pytestmark = pytest.mark.django_db(transaction=True)


def acked(node: str) -> int:
    return CdnPurgeState.objects.get(node=node).acked_serial


def test_a_node_cut_off_keeps_stale_pages_until_the_catch_up_reaches_it(
        live_server, tmp_path, settings):
    direct = Varnish(live_server.url, tmp_path / "a")
    cut_off = Varnish(live_server.url, tmp_path / "b")
    path = Forwarder(cut_off.port)  # the workers' way to node b
    try:
        settings.INDEX_CDN_PURGE_URL = [direct.url + "/", path.url]
        release = publish("multi", "1.0")
        catch_up_purges()  # beat's first run: both nodes tracked from here
        for node in (direct, cut_off):
            node.get("/simple/multi/")
            assert node.get("/simple/multi/").headers["X-Cache"] == "HIT"

        path.close()
        yank_release(release, reason="bad")  # its purge task reaches node a only
        serial = last_serial()

        assert 'data-yanked="bad"' in direct.get("/simple/multi/").text
        assert 'data-yanked' not in cut_off.get("/simple/multi/").text  # stale
        run = catch_up_purges()  # node b still unreachable
        assert run.failed == [path.url]
        assert acked(direct.url + "/") == serial and acked(path.url) < serial
        assert 'data-yanked' not in cut_off.get("/simple/multi/").text

        path.open()
        run = catch_up_purges()

        assert run.failed == [] and acked(path.url) == serial
        response = cut_off.get("/simple/multi/")
        assert response.headers["X-Cache"] == "MISS"
        assert 'data-yanked="bad"' in response.text
        # Idempotent: nothing left to send.
        assert catch_up_purges().entries == 0
    finally:
        path.close()
        direct.stop()
        cut_off.stop()


def test_a_backlog_is_worked_off_in_bounded_batches(recording_node):
    catch_up_purges()
    for name in ("one", "two", "three"):
        publish(name, "1.0", sdist=False)
    entries = list(JournalEntry.objects.filter(id__gt=acked(recording_node.url))
                   .values_list("id", "name"))
    assert len(entries) > 4

    runs = []
    while (run := catch_up_purges(batch=2)).entries:
        runs.append(run.entries)
        # The serial reached is the last entry read, never beyond.
        read = sum(runs)
        assert acked(recording_node.url) == entries[read - 1][0]
        assert acked(SHARED_CACHE) == entries[read - 1][0]

    assert max(runs) == 2 and sum(runs) == len(entries)
    assert {"project/one", "project/two", "project/three", "all-projects"} == set(
        recording_node.keys)


def test_a_new_node_starts_at_the_current_serial(recording_node):
    publish("before", "1.0")
    run = catch_up_purges()
    assert run.entries == 0 and recording_node.keys == []
    assert acked(recording_node.url) == last_serial() == acked(SHARED_CACHE)


def test_a_purge_lost_with_the_broker_is_sent_by_the_catch_up(recording_node, monkeypatch):
    from packages.cache import purge

    release = publish("lost", "1.0")
    catch_up_purges()
    before = generation("project/lost")

    def broker_down(keys):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(purge.purge_cache_keys, "delay", broker_down)
    yank_release(release, reason="x")  # commits; its purge is only logged
    unyank_release(release)
    assert recording_node.keys == [] and generation("project/lost") == before

    catch_up_purges()

    # Both entries' keys, once each, and the index's own generations too.
    assert sorted(recording_node.keys) == ["all-projects", "project/lost"]
    assert generation("project/lost") == before + 1
