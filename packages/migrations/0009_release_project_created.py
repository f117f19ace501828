"""A project's releases newest first (its RSS feed, its newest summary for the
search) without walking the ``created`` index across every release of the
index (3.3M at PyPI's size) back to an old project's; and a full-text index of
each release's summary and keywords, which the search (api/search.py) uses to
find its candidates.

Built with CREATE INDEX CONCURRENTLY on PostgreSQL, as migration 0007, so an
index serving traffic keeps taking uploads while they build; the full-text
index is PostgreSQL only and not on the model state (an expression with a
text search configuration), so on SQLite it does nothing."""

from importlib import import_module

from django.db import migrations, models

AddIndexConcurrentlyOnPostgreSQL = import_module(
    "packages.migrations.0007_scale_indexes").AddIndexConcurrentlyOnPostgreSQL

SEARCH_DOCUMENT_GIN = "packages_release_search_document_gin"
# Kept identical to api.search.RELEASE_DOCUMENT: the planner matches the text.
SEARCH_DOCUMENT = "to_tsvector('english'::regconfig, (summary::text || ' ' || keywords))"


def create_search_document_gin(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("SET statement_timeout = 0")
    schema_editor.execute(
        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {SEARCH_DOCUMENT_GIN} "
        f"ON packages_release USING gin ({SEARCH_DOCUMENT})")
    # Back to the connection's own timeout (DATABASE_STATEMENT_TIMEOUT_MS), lifted
    # for the whole session by this migration and 0007's index operations: a
    # process that goes on using the connection (a test run) keeps its guard.
    schema_editor.execute("RESET statement_timeout")


def drop_search_document_gin(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {SEARCH_DOCUMENT_GIN}")


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [("packages", "0008_cdn_purge_state")]

    operations = [
        AddIndexConcurrentlyOnPostgreSQL(
            "release",
            models.Index(fields=["project", "created"], name="release_project_created_idx"),
        ),
        migrations.RunPython(create_search_document_gin, drop_search_document_gin,
                             elidable=False),
    ]
