from django.apps import AppConfig


class XmlrpcConfig(AppConfig):
    name = "xmlrpc"

    def ready(self):
        from xmlrpc.ratelimit import check_setting
        from xmlrpc.result_cache import purge_tags

        from packages.caching import register_purger

        register_purger(purge_tags)
        check_setting()
