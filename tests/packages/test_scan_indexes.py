"""Migration 0010's indexes answer the two reads that scanned every project at
PyPI's size: the upload handler's largest allowed body, and /simple/'s ordered
list of projects: an index serves each query as the code writes it, whatever
the table size."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from packages.models import Project
from packages.queries import simple_index_rows
from packages.uploads.operation import max_upload_size_ceiling

pytestmark = pytest.mark.django_db


def _plan_of(run) -> str:
    if connection.vendor != "postgresql":
        pytest.skip("query plans and covering indexes are PostgreSQL's")
    with CaptureQueriesContext(connection) as queries:
        run()
    (query,) = [q["sql"] for q in queries.captured_queries if "packages_project" in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + query)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_the_largest_allowed_upload_reads_only_projects_with_an_override():
    Project.objects.create(name="big", max_file_size=10 * 1024 ** 3)
    Project.objects.create(name="plain")
    assert max_upload_size_ceiling() == 10 * 1024 ** 3
    assert "project_max_file_size_idx" in _plan_of(max_upload_size_ceiling)


def test_the_simple_index_has_an_index_covering_every_column_it_reads():
    Project.objects.create(name="one")
    if connection.vendor != "postgresql":
        pytest.skip("covering indexes are PostgreSQL's")
    with CaptureQueriesContext(connection) as queries:
        list(simple_index_rows())
    (query,) = [q["sql"] for q in queries.captured_queries if "packages_project" in q["sql"]]
    read = set(re.findall(r'"packages_project"\."(\w+)"', query))
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s",
                       ["packages_project_simple_index_covering"])
        (definition,) = cursor.fetchone()
    # Which index the planner prefers on a small test table varies; what matters
    # is that one index holds every column the query reads, in its order.
    key, _, included = definition.partition(" INCLUDE ")
    assert key.endswith("(normalized_name)"), definition
    covered = {"normalized_name", *included.strip("()").replace(" ", "").split(",")}
    assert read and read <= covered, (read, definition)
