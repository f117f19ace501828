"""Trigram indexes for the XML-RPC search (xmlrpc/queries.py).

The search matches substrings (``icontains``, which Django writes as
``UPPER(col::text) LIKE UPPER('%...%')``), so each index is a pg_trgm GIN index
on ``UPPER(col)``; the project name is matched with ``contains`` on the
normalized name, indexed as it is. PostgreSQL only: on SQLite this migration
does nothing and the search scans (there is no index for substrings there).

The indexes are not declared on the models (they need an extension and an
expression with an operator class), so the model state is unchanged."""

from django.db import migrations

RELEASE_SUBSTRING_FIELDS = (
    "author", "author_email", "maintainer", "maintainer_email", "summary", "description",
    "keywords",
)

INDEXES = {
    "packages_project_normalized_name_trgm":
        "packages_project USING gin (normalized_name gin_trgm_ops)",
    **{
        f"packages_release_{field}_trgm":
            f"packages_release USING gin (UPPER({field}) gin_trgm_ops)"
        for field in RELEASE_SUBSTRING_FIELDS
    },
}


def create_search_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # Building these over every description takes longer than the statement
    # timeout web requests run with (DATABASE_STATEMENT_TIMEOUT_MS): lift it for
    # this migration's transaction only.
    schema_editor.execute("SET LOCAL statement_timeout = 0")
    # pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, definition in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}")


def drop_search_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # The extension stays: something else may use it.
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):

    dependencies = [
        ("packages", "0002_consumer_ban_list_version"),
    ]

    operations = [
        migrations.RunPython(create_search_indexes, drop_search_indexes, elidable=False),
    ]
