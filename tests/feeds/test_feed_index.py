"""A project's feed reads its releases newest first through the
(project, created) index of migration 0009, not by walking the ``created``
index across every release of the index (a 5 s timeout at PyPI's size)."""

import pytest
from django.db import connection, transaction

from packages.models import Release
from tests.factories import publish

pytestmark = pytest.mark.django_db


def test_releases_have_a_project_created_index():
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Release._meta.db_table)
    assert constraints["release_project_created_idx"]["columns"] == ["project_id", "created"]


def test_the_project_feed_query_uses_it():
    if connection.vendor != "postgresql":
        pytest.skip("query plans are checked on PostgreSQL, where the timeout applies")
    project = publish("feedy", "1.0").project
    publish("feedy", "2.0")
    query = (Release.objects.filter(project=project, quarantined=False)
             .order_by("-created", "-id")[:40])
    with transaction.atomic(), connection.cursor() as cursor:
        # A handful of rows: without this the planner would just read the table.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        plan = query.explain()
    assert "release_project_created_idx" in plan, plan
