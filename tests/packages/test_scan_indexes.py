"""Migration 0010's indexes answer the two reads that scanned every project at
PyPI's size: the upload handler's largest allowed body, and /simple/'s ordered
list of projects. The plans of the queries the code runs are read with the
other access paths disabled, so the test checks that an index serves each query
as written, whatever the table size."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from packages.models import Project
from packages.queries import simple_index_rows
from packages.uploads.operation import max_upload_size_ceiling

pytestmark = pytest.mark.django_db


def _plan_of(run, *, disable=("seqscan",)) -> str:
    if connection.vendor != "postgresql":
        pytest.skip("query plans and covering indexes are PostgreSQL's")
    with CaptureQueriesContext(connection) as queries:
        run()
    (query,) = [q["sql"] for q in queries.captured_queries if "packages_project" in q["sql"]]
    with connection.cursor() as cursor:
        for method in disable:
            cursor.execute(f"SET LOCAL enable_{method} = off")
        cursor.execute("EXPLAIN " + query)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_the_largest_allowed_upload_reads_only_projects_with_an_override():
    Project.objects.create(name="big", max_file_size=10 * 1024 ** 3)
    Project.objects.create(name="plain")
    assert max_upload_size_ceiling() == 10 * 1024 ** 3
    assert "project_max_file_size_idx" in _plan_of(max_upload_size_ceiling)


def test_the_simple_index_is_read_from_its_covering_index():
    Project.objects.create(name="one")
    # Only an index-only scan left: it exists when an index covers the query
    # (which index the planner prefers on a small, unvacuumed table varies).
    plan = _plan_of(lambda: list(simple_index_rows()),
                    disable=("seqscan", "indexscan", "bitmapscan"))
    assert "Index Only Scan using packages_project_simple_index_covering" in plan, plan
