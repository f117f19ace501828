"""Indexes for an index at PyPI's size (issue 14): 700k projects, 10M files, 16M
journal entries. Each serves one admin changelist's filter or search
(packages/admin/), which would otherwise scan a table of millions of rows.

The model indexes are declared on the models (Meta.indexes). On PostgreSQL they
are built with CREATE INDEX CONCURRENTLY, so that an index already serving
traffic keeps taking uploads while they build (minutes at that size); the
migration is therefore not atomic. The trigram index on the folded
(look-alike) name is PostgreSQL only, like migration 0003's, and not on the
model state; on SQLite it does nothing."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models
from django.db.models import Q

MODEL_INDEXES = [
    ("project", models.Index(fields=["status"], name="project_status_idx")),
    ("release", models.Index(fields=["project"], condition=Q(yanked=True),
                             name="release_yanked_idx")),
    ("release", models.Index(fields=["project"], condition=Q(quarantined=True),
                             name="release_quarantined_idx")),
    ("release", models.Index(fields=["project", "id"], name="release_project_id_idx")),
    ("journalentry", models.Index(fields=["submitted_by", "id"],
                                  name="journal_submitted_by_idx")),
    ("journalentry", models.Index(fields=["name", "id"], name="journal_name_id_idx")),
    ("journalentry", models.Index(fields=["action"], opclasses=["text_pattern_ops"],
                                  name="journal_action_prefix_idx")),
]

FOLDED_NAME_TRGM = "packages_project_ultranormalized_name_trgm"


class AddIndexConcurrentlyOnPostgreSQL(AddIndexConcurrently):
    """CREATE INDEX CONCURRENTLY on PostgreSQL, a plain CREATE INDEX elsewhere
    (AddIndexConcurrently itself refuses other databases)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            # Building over millions of rows outlasts any statement timeout.
            schema_editor.execute("SET statement_timeout = 0")
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        return migrations.AddIndex.database_forwards(
            self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        return migrations.AddIndex.database_backwards(
            self, app_label, schema_editor, from_state, to_state)


def create_folded_name_trgm(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("SET statement_timeout = 0")
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {FOLDED_NAME_TRGM} "
        "ON packages_project USING gin (ultranormalized_name gin_trgm_ops)")


def drop_folded_name_trgm(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {FOLDED_NAME_TRGM}")


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [("packages", "0006_release_quarantine_project_pending")]

    operations = [
        *(AddIndexConcurrentlyOnPostgreSQL(model_name, index)
          for model_name, index in MODEL_INDEXES),
        migrations.RunPython(create_folded_name_trgm, drop_folded_name_trgm, elidable=False),
    ]
