from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"

    def ready(self):
        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Group
        from django.db.models.signals import pre_delete, pre_save

        from api.caching import (
            drop_project_documents,
            purge_project_of_deleted_role,
            purge_projects_of_renamed_holder,
        )
        from packages.caching import register_purger
        from packages.models import Role

        register_purger(drop_project_documents)
        for holder in (get_user_model(), Group):
            pre_save.connect(
                purge_projects_of_renamed_holder, sender=holder,
                dispatch_uid=f"api-json-rename-{holder._meta.label}",
            )
        pre_delete.connect(
            purge_project_of_deleted_role, sender=Role, dispatch_uid="api-json-role-deleted"
        )
