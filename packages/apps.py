from pathlib import Path

from django.apps import AppConfig
from django.conf import settings


class PackagesConfig(AppConfig):
    name = "packages"
    verbose_name = "Package index"

    def ready(self):
        _create_data_folders()

        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Group
        from django.db.models.signals import pre_delete, pre_save

        from packages.cache.cdn import purge_cdn
        from packages.cache.purge import (
            purge_project_of_deleted_role,
            purge_projects_of_renamed_holder,
        )
        from packages.cache.purgers import register_purger
        from packages.models import Role

        register_purger(purge_cdn)
        # Renaming or deleting a role holder writes no journal entry but changes
        # what the APIs show of the project: purge it.
        for holder in (get_user_model(), Group):
            pre_save.connect(
                purge_projects_of_renamed_holder, sender=holder,
                dispatch_uid=f"purge-on-rename-{holder._meta.label}",
            )
        pre_delete.connect(
            purge_project_of_deleted_role, sender=Role, dispatch_uid="purge-on-role-delete"
        )
        from packages.upstream.purges import connect_purge_signals

        connect_purge_signals()  # the proxy's curation rows (upstream pages have no serial)


def _create_data_folders() -> None:
    """SQLite creates its file but not the folder it lives in (the embedded
    default's data folder on a fresh checkout)."""
    database = settings.DATABASES["default"]
    name = str(database.get("NAME", ""))
    if database["ENGINE"].endswith("sqlite3") and name and not name.startswith((":memory:", "file:")):
        Path(name).parent.mkdir(parents=True, exist_ok=True)
    # WhiteNoise serves STATIC_ROOT once `collectstatic` filled it (the admin's files
    # come from the apps until then) and warns at every start while it is missing.
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
