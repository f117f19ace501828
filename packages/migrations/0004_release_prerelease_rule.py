"""Recompute releases.is_prerelease with PyPI's rule (packages.versions.is_prerelease,
the regex of PyPI's trigger) instead of PEP 440's: ``1.0+cpu`` becomes a
pre-release, as on PyPI. Rows are read in primary-key batches and only the
ones whose flag changes are written, each batch in its own transaction, so a
large table is never locked whole; running it again changes nothing."""

from django.db import migrations, transaction

from packages.versions import is_prerelease

# Small enough for one UPDATE ... WHERE id IN (...) on any SQLite.
BATCH_SIZE = 2000


def recompute_is_prerelease(apps, schema_editor):
    alias = schema_editor.connection.alias
    releases = apps.get_model("packages", "Release").objects.using(alias)
    last_pk = 0
    while batch := list(
        releases.filter(pk__gt=last_pk).order_by("pk")
        .values_list("pk", "version", "is_prerelease")[:BATCH_SIZE]
    ):
        last_pk = batch[-1][0]
        changed: dict[bool, list[int]] = {True: [], False: []}
        for pk, version, stored in batch:
            if is_prerelease(version) != stored:
                changed[not stored].append(pk)
        with transaction.atomic(using=alias):
            for flag, pks in changed.items():
                if pks:
                    releases.filter(pk__in=pks).update(is_prerelease=flag)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("packages", "0003_search_indexes")]

    operations = [
        migrations.RunPython(recompute_is_prerelease, migrations.RunPython.noop, elidable=True),
    ]
