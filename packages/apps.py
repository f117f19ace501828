from django.apps import AppConfig


class PackagesConfig(AppConfig):
    name = "packages"
    verbose_name = "Package index"

    def ready(self):
        from packages.caching import register_purger
        from packages.cdn import purge_cdn

        register_purger(purge_cdn)
