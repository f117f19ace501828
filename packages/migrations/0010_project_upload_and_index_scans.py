"""Two reads that scanned every project at PyPI's size (700k projects):

* the upload handler's ``MAX(max_file_size)`` (the largest body any project may
  send), on every upload: a partial index holds only the projects with an
  override (172 ms to 0.04 ms measured at full size);
* the ordered read behind ``/simple/`` (name, last serial and status of every
  project by normalized name): a covering index lets PostgreSQL answer it from
  the index alone instead of visiting every row in name order. PostgreSQL only
  (SQLite has no INCLUDE) and not on the model state, like 0009's full-text index.

Built with CREATE INDEX CONCURRENTLY on PostgreSQL, as 0007 and 0009."""

from importlib import import_module

from django.db import migrations, models

AddIndexConcurrentlyOnPostgreSQL = import_module(
    "packages.migrations.0007_scale_indexes").AddIndexConcurrentlyOnPostgreSQL

SIMPLE_INDEX_COVERING = "packages_project_simple_index_covering"


def create_simple_index_covering(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("SET statement_timeout = 0")
    schema_editor.execute(
        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {SIMPLE_INDEX_COVERING} "
        "ON packages_project (normalized_name) INCLUDE (name, last_serial, status)")
    # Back to the connection's own DATABASE_STATEMENT_TIMEOUT_MS (see 0009).
    schema_editor.execute("RESET statement_timeout")


def drop_simple_index_covering(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {SIMPLE_INDEX_COVERING}")


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [("packages", "0009_release_project_created")]

    operations = [
        AddIndexConcurrentlyOnPostgreSQL(
            "project",
            models.Index(fields=["max_file_size"], name="project_max_file_size_idx",
                         condition=models.Q(max_file_size__isnull=False)),
        ),
        migrations.RunPython(create_simple_index_covering, drop_simple_index_covering,
                             elidable=False),
    ]
