# ruff: noqa: F811 (the upstream fixtures are imported, then requested by name)
"""Purges of changes the journal does not record (packages/cache/purge.py,
``purge_unjournaled_after_commit``): the upstream proxy's curation rows and kept
pages, a role holder renamed. Their keys wait in a PendingPurge row, committed
with the change, until every target took them; the catch-up sends what a lost
task or an unreachable node left (packages/cache/catchup.py)."""

import pytest
from django.db import transaction

from packages.cache import purge
from packages.cache.catchup import catch_up_purges
from packages.cache.models import PendingPurge
from packages.http.shared_cache import generation
from packages.upstream.models import UpstreamBlock
from tests.factories import create_user, publish
from tests.legacy.test_simple_upstream_cache import (  # noqa: F401 (demo: a fixture)
    assert_served_from_cache,
    demo,
    versions,
)
from tests.packages.cache.processes import RecordingNode
from tests.packages.upstream.conftest import (  # noqa: F401 (fixtures)
    _no_fetch_left_claimed,
    _upstream_settings,
    scripted,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def broker_down(monkeypatch):
    """Queueing a purge task fails, as with the broker unreachable (only logged)."""
    def unreachable(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(purge.purge_cache_keys, "delay", unreachable)


@pytest.fixture
def two_nodes(settings):
    nodes = RecordingNode(), RecordingNode()
    settings.INDEX_CDN_PURGE_URL = [node.url for node in nodes]
    yield nodes
    for node in nodes:
        node.stop()


def pending() -> list[tuple[list[str], list[str] | None]]:
    return [(row.keys.split(), row.targets) for row in PendingPurge.objects.order_by("id")]


def test_a_block_whose_purge_was_lost_with_the_broker_shows_after_the_catch_up(
        client, scripted, demo, recording_node, broker_down):
    assert versions(client) == ["1.0", "2.0"]
    assert_served_from_cache(client, scripted)
    # The index's list gained the kept project; that purge was lost too.
    assert pending() == [(["all-projects"], None)]
    catch_up_purges()
    assert recording_node.keys == ["all-projects"] and pending() == []
    recording_node.keys.clear()

    UpstreamBlock.objects.create(name="Demo", reason="malware")

    # The index's own cache still serves the page the block should hide: nothing
    # bumped its generation, and no journal entry tells the catch-up of it.
    assert assert_served_from_cache(client, scripted) == ["1.0", "2.0"]
    assert recording_node.keys == []
    assert pending() == [(["project/demo"], None)]

    run = catch_up_purges()

    assert (run.pending, run.failed) == (1, [])
    assert versions(client) == 404
    assert recording_node.keys == ["project/demo"]
    assert pending() == []
    assert catch_up_purges().pending == 0 and recording_node.keys == ["project/demo"]


def test_the_task_deletes_its_row_once_every_target_took_the_keys(
        client, scripted, demo, recording_node):
    versions(client)  # kept: the index's list is purged (all-projects)
    assert recording_node.keys == ["all-projects"] and pending() == []
    recording_node.keys.clear()
    UpstreamBlock.objects.create(name="demo", specifier="==2.0", reason="broken")

    assert recording_node.keys == ["project/demo"] and pending() == []
    assert versions(client) == ["1.0"]
    assert catch_up_purges().pending == 0 and recording_node.keys == ["project/demo"]


def test_a_node_that_failed_is_owed_the_keys_and_only_it_is_sent_them_again(
        client, scripted, demo, two_nodes):
    up, restarting = two_nodes
    assert versions(client) == ["1.0", "2.0"]
    catch_up_purges()
    up.keys.clear()
    restarting.keys.clear()
    restarting.up = False
    UpstreamBlock.objects.create(name="demo", reason="malware")

    # The task purged the index's cache and the node that answered; its retries
    # failed on the other, which the row now names alone.
    assert versions(client) == 404
    assert up.keys == ["project/demo"] and restarting.keys == []
    assert pending() == [(["project/demo"], [restarting.url])]
    before = generation("project/demo")

    run = catch_up_purges()  # still restarting: the row stays as it is
    assert run.failed == [restarting.url]
    assert pending() == [(["project/demo"], [restarting.url])]

    restarting.up = True
    run = catch_up_purges()

    assert run.failed == [] and pending() == []
    assert restarting.keys == ["project/demo"]
    # Neither the node that had the keys nor the index's cache is purged again.
    assert up.keys == ["project/demo"] and generation("project/demo") == before


def test_rows_owed_to_a_node_that_is_down_do_not_hold_back_lost_tasks(
        recording_node, broker_down, settings):
    down = RecordingNode()
    down.up = False
    try:
        settings.INDEX_CDN_PURGE_URL = [recording_node.url, down.url]
        PendingPurge.objects.create(keys="project/old", targets=[down.url])
        PendingPurge.objects.create(keys="project/older", targets=[down.url])
        UpstreamBlock.objects.create(name="fresh", reason="x")  # its task is lost
        before = generation("project/fresh")

        run = catch_up_purges(batch=1)

        assert run.failed == [down.url]
        assert recording_node.keys == ["project/fresh"]
        assert generation("project/fresh") == before + 1
        assert pending() == [(["project/old"], [down.url]), (["project/older"], [down.url]),
                             (["project/fresh"], [down.url])]
    finally:
        down.stop()


def test_a_row_owed_to_a_node_no_longer_listed_is_dropped(recording_node):
    PendingPurge.objects.create(keys="project/gone", targets=["http://127.0.0.1:9/"])

    run = catch_up_purges()

    assert (run.pending, run.failed) == (1, []) and pending() == []
    assert recording_node.keys == []


def test_a_rolled_back_change_leaves_no_row_and_purges_nothing(recording_node):
    with pytest.raises(RuntimeError), transaction.atomic():
        UpstreamBlock.objects.create(name="demo", reason="x")
        raise RuntimeError("the change fails")

    assert pending() == [] and recording_node.keys == []
    assert catch_up_purges().pending == 0


def test_a_role_holder_renamed_while_the_broker_is_down_is_caught_up(
        recording_node, broker_down):
    owner = create_user("olduser")
    publish("owned", "1.0", owner=owner)
    catch_up_purges()
    before = generation("project/owned")

    owner.username = "newuser"
    owner.save()
    assert generation("project/owned") == before and recording_node.keys == []

    catch_up_purges()

    assert generation("project/owned") == before + 1
    assert recording_node.keys == ["project/owned"] and pending() == []

