"""The admin changelists of projects, releases, files and the journal stay cheap
at PyPI's size (issue 14): a bounded number of queries whatever the rows, no
COUNT(*) over a whole table on PostgreSQL (packages.admin.paginators), and their
indexed searches and filters still find what they should."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from packages.admin import paginators
from packages.models import File, JournalEntry, Project, Release
from tests.factories import create_user, publish
from tests.packages import curation_helpers as helpers

admin_client, root = helpers.admin_client, helpers.root

pytestmark = pytest.mark.django_db

# Each changelist with a search and a filter, as the scale benchmark opens them.
SEARCHED_AND_FILTERED = {
    "project": {"q": "proj", "status__exact": "active"},
    "release": {"q": "proj1", "yanked__exact": "0"},
    "file": {"q": "proj", "packagetype__exact": "bdist_wheel"},
    "journalentry": {"q": "proj1", "kind": "new release"},
}
on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql",
                                   reason="the estimated count is PostgreSQL's")


def fill(first: int, last: int, owner=None) -> None:
    for n in range(first, last):
        publish(f"proj{n}", "1.0", owner=owner)
        publish(f"proj{n}", "2.0", owner=owner)


def changelist(client, model, params=None):
    response = client.get(reverse(f"admin:packages_{model}_changelist"), params or {})
    assert response.status_code == 200
    return response


def count_queries(client, model, params):
    with CaptureQueriesContext(connection) as queries:
        changelist(client, model, params)
    return len(queries)


@pytest.mark.parametrize("model", sorted(SEARCHED_AND_FILTERED))
def test_changelist_queries_do_not_grow_with_the_rows(admin_client, model):
    alice = create_user("alice")
    fill(0, 3, owner=alice)
    for params in ({}, SEARCHED_AND_FILTERED[model]):
        changelist(admin_client, model, params)  # the session and content types, once
        before = count_queries(admin_client, model, params)
        fill(3 + 10 * len(params), 13 + 10 * len(params), owner=alice)
        after = count_queries(admin_client, model, params)
        assert before == after <= 12, (params, before, after)


def unbounded_counts(queries) -> list[str]:
    return [q["sql"] for q in queries
            if re.search(r"COUNT\(\*\)", q["sql"], re.I) and " LIMIT " not in q["sql"]]


@on_postgresql
@pytest.mark.parametrize("model", sorted(SEARCHED_AND_FILTERED))
def test_no_changelist_counts_a_whole_table_on_postgresql(admin_client, model, monkeypatch):
    fill(0, 4)
    # A bound below the rows present: the estimate answers, as at 10M rows.
    monkeypatch.setattr(paginators, "EXACT_UP_TO", 3)
    for params in ({}, SEARCHED_AND_FILTERED[model]):
        with CaptureQueriesContext(connection) as queries:
            response = changelist(admin_client, model, params)
        assert unbounded_counts(queries) == [], params
        cl = response.context["cl"]
        assert cl.full_result_count is None  # no "of N total" count either
        if len(cl.result_list) >= 3:  # past the bound: the planner's estimate
            assert any(q["sql"].startswith("EXPLAIN") for q in queries), params
            assert cl.result_count >= 3
        assert len(cl.result_list) <= cl.list_per_page


@on_postgresql
def test_small_results_are_counted_exactly_on_postgresql(admin_client):
    fill(0, 3)
    with CaptureQueriesContext(connection) as queries:
        cl = changelist(admin_client, "file").context["cl"]
    assert cl.result_count == File.objects.count() == 12
    assert unbounded_counts(queries) == []
    assert not any(q["sql"].startswith("EXPLAIN") for q in queries)


def statement_timeout() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        return cursor.fetchone()[0]


@on_postgresql
def test_a_count_that_times_out_falls_back_to_the_estimate_on_postgresql():
    fill(0, 1)
    before = statement_timeout()
    assert paginators.bounded_count(File.objects.all(), 100, 50) == 4
    assert statement_timeout() == before
    # Every row takes 0.2 s to filter: the 50 ms count is canceled.
    slow = File.objects.extra(where=["pg_sleep(0.2) IS NOT NULL"])
    assert paginators.bounded_count(slow, 100, 50) is None
    # The test's (the request's) transaction goes on, with its own timeout.
    assert statement_timeout() == before
    assert File.objects.count() == 4
    estimate = paginators.planner_estimate(slow)
    assert paginators.EstimatedCountPaginator(slow, 10).count == estimate > 0


def test_other_databases_count_exactly():
    fill(0, 2)
    assert paginators.EstimatedCountPaginator(File.objects.all(), 10).count == 8


def test_project_search_and_filters(admin_client):
    fill(0, 3)
    Project.objects.filter(name="proj2").update(status="archived")
    Release.objects.filter(project__name="proj1", version="1.0").update(yanked=True)

    def names(**params):
        cl = changelist(admin_client, "project", params).context["cl"]
        return sorted(p.name for p in cl.result_list), cl.result_count

    assert names(q="proj") == (["proj0", "proj1", "proj2"], 3)
    assert names(q="PROJ_1") == (["proj1"], 1)
    assert names(q="pr") == (["proj0", "proj1", "proj2"], 3)  # short: a prefix
    assert names(q="roj", status__exact="archived") == (["proj2"], 1)
    assert names(frozen="yes") == (["proj2"], 1)
    assert names(has_yanked="yes") == (["proj1"], 1)


def test_release_search_and_filters(admin_client):
    fill(0, 3)
    publish("proj10", "1.0")
    Release.objects.filter(project__name="proj1", version="1.0").update(yanked=True)

    def shown(**params):
        cl = changelist(admin_client, "release", params).context["cl"]
        return [(r.project.name, r.version, r._files) for r in cl.result_list]

    # The exact name wins over the prefix (proj10); newest first.
    assert shown(q="Proj1") == [("proj1", "2.0", 2), ("proj1", "1.0", 2)]
    assert shown(q="proj1 2") == [("proj1", "2.0", 2)]
    assert {name for name, _, _ in shown(q="proj")} == {"proj0", "proj1", "proj2", "proj10"}
    assert shown(yanked__exact="1") == [("proj1", "1.0", 2)]
    assert shown(q="proj1", yanked__exact="0") == [("proj1", "2.0", 2)]


def test_file_search_and_filters(admin_client):
    fill(0, 2)
    sdist = File.objects.get(filename="proj1-1.0.tar.gz")

    def filenames(**params):
        cl = changelist(admin_client, "file", params).context["cl"]
        return sorted(f.filename for f in cl.result_list)

    assert filenames(q=sdist.sha256_digest.upper()) == [sdist.filename]
    assert filenames(q="proj1-1") == ["proj1-1.0-py3-none-any.whl", "proj1-1.0.tar.gz"]
    assert filenames(q="proj1", packagetype__exact="sdist") == [
        "proj1-1.0.tar.gz", "proj1-2.0.tar.gz"]
    assert len(filenames(upload_time__gte="2000-01-01 00:00:00+00:00")) == 8


def test_journal_search_and_filters(admin_client, root):
    alice = create_user("alice")
    fill(0, 2, owner=alice)
    publish("other", "1.0")

    def shown(**params):
        cl = changelist(admin_client, "journalentry", params).context["cl"]
        return [(e.name, e.action) for e in cl.result_list]

    assert {name for name, _ in shown(q="proj")} == {"proj0", "proj1"}
    assert shown(q="alice") == [(e.name, e.action) for e in JournalEntry.objects.filter(
        submitted_by="alice").order_by("-id")]
    assert shown(q="proj1", kind="new release") == [("proj1", "new release")] * 2
    assert shown(user="alice", kind="create") == [("proj1", "create"), ("proj0", "create")]
    assert len(shown(submitted_date__gte="2000-01-01 00:00:00+00:00")) == JournalEntry.objects.count()
