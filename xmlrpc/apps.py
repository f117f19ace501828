from django.apps import AppConfig


class XmlrpcConfig(AppConfig):
    name = "xmlrpc"
