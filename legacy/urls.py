"""The legacy API: the upload endpoint twine uses and the simple repository API.
Each concern keeps its own routes module."""

from legacy import simple_urls, upload_urls

urlpatterns = [*upload_urls.urlpatterns, *simple_urls.urlpatterns]
