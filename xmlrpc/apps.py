from django.apps import AppConfig


class XmlrpcConfig(AppConfig):
    name = "xmlrpc"

    def ready(self):
        from xmlrpc.ratelimit import check_setting

        check_setting()
