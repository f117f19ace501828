"""The changelists' row count at PyPI's size (10M files, 16M journal entries).

Django's paginator runs ``SELECT COUNT(*)`` over the changelist's queryset on
every page: over a whole table of millions of rows that alone takes seconds on
PostgreSQL (a count reads every row). ``EstimatedCountPaginator`` counts
exactly only up to a bound, a count of a LIMITed subquery that stops after
``EXACT_UP_TO`` rows, under a short statement timeout; past the bound (or when
the bounded count times out: a filter matching few rows of a big table, with no
index to find them) it answers the planner's estimate of the queryset's rows
(``EXPLAIN``, which reads ``pg_class.reltuples`` scaled to the table's current
size and the column statistics of the filters). A small index therefore still
shows exact counts; a big one shows "about" counts, which is all a changelist's
page links need. Other databases count exactly (SQLite is for small indexes).
"""

import json

from django.core.paginator import Paginator
from django.db import DatabaseError, connections, transaction
from django.utils.functional import cached_property

# Rows counted exactly before switching to the estimate: counting 10,000 rows
# reads a few MB at most (a few ms).
EXACT_UP_TO = 10_000
# The bounded count's time limit, in ms: a filter with no index that matches
# fewer rows than the bound reads the whole table to find out.
EXACT_COUNT_TIMEOUT_MS = 150


def planner_estimate(queryset) -> int:
    """The planner's estimate of the rows ``queryset`` returns (no row is read)."""
    query = queryset.order_by().query
    compiler = query.get_compiler(queryset.db)
    sql, params = compiler.as_sql()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def bounded_count(queryset, bound: int, timeout_ms: int) -> int | None:
    """``min(rows, bound)``, or None when counting takes longer than ``timeout_ms``."""
    connection = connections[queryset.db]
    limited = queryset.order_by().values("pk")[:bound]
    try:
        with transaction.atomic(using=queryset.db):
            with connection.cursor() as cursor:
                # Local to this (sub)transaction: set_config(..., true) is undone
                # when the savepoint rolls back, and reset below when it commits.
                cursor.execute("SELECT current_setting('statement_timeout'), "
                               "set_config('statement_timeout', %s, true)", [str(timeout_ms)])
                previous = cursor.fetchone()[0]
            count = limited.count()
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('statement_timeout', %s, true)", [previous])
            return count
    except DatabaseError:
        # Only the query canceled by the timeout can fail here; the savepoint
        # rolled back, so the request's transaction goes on.
        return None


class EstimatedCountPaginator(Paginator):
    """Exact counts up to ``EXACT_UP_TO`` rows, the planner's estimate beyond (PostgreSQL)."""

    @cached_property
    def count(self):
        queryset = self.object_list
        if connections[queryset.db].vendor != "postgresql":
            return super().count
        exact = bounded_count(queryset, EXACT_UP_TO, EXACT_COUNT_TIMEOUT_MS)
        if exact is not None and exact < EXACT_UP_TO:
            return exact
        return max(planner_estimate(queryset), exact or 0)
