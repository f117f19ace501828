"""The upload endpoint. ``/legacy`` is served as is, without a redirect: twine
posts to exactly the URL it is given and aborts on any 3xx."""

from django.urls import path

from legacy.upload import upload

urlpatterns = [
    path("legacy/", upload, name="upload"),
    path("legacy", upload, name="upload-no-slash"),
]
