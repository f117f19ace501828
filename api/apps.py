from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"

    def ready(self):
        from api.caching import drop_project_documents
        from packages.caching import register_purger

        register_purger(drop_project_documents)
