from django.apps import AppConfig


class LegacyConfig(AppConfig):
    name = "legacy"

    def ready(self):
        # The simple index is re-rendered after an ``all-projects`` purge; the
        # purger must be known in every process that runs purges (web and Celery).
        from legacy import simple_pages

        simple_pages.register_purger()
