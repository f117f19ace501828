from xmlrpc.views import xmlrpc_endpoint

from django.urls import path

# PyPI serves XML-RPC at all three, identically (spec xmlrpc-api.md §1).
urlpatterns = [
    path("pypi", xmlrpc_endpoint, name="xmlrpc"),
    path("pypi/", xmlrpc_endpoint, name="xmlrpc-slash"),
    path("RPC2", xmlrpc_endpoint, name="xmlrpc-rpc2"),
]
