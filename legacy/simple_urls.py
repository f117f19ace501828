"""Routes of the simple repository API and of file serving (PEP 503/691).

Project pages are on the hot path (packages.http.hot_path): they read no
cookie and set none, so they are answered before the session, CSRF,
authentication and messages middleware."""

from django.urls import path, re_path

from legacy import files, simple
from packages.http.hot_path import hot_path

urlpatterns = [
    path("simple/", simple.index, name="simple-index"),
    path("simple", simple.add_slash),
    path("simple/<str:name>/", hot_path(simple.detail), name="simple-detail"),
    path("simple/<str:name>", simple.add_slash),
    # Files of upstream pages (and their .metadata), kept here on first download.
    re_path(r"^packages/(?P<path>upstream/.+)$", files.serve_upstream, name="upstream-file"),
    # Distributions and their PEP 658 metadata: packages/<b2[:2]>/<b2[2:4]>/<b2[4:]>/<file>
    re_path(r"^packages/(?P<path>[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{60}/[^/]+)$", files.serve,
            name="file"),
    # PyPI's predictable URLs ("conveyor"): 302 to the hashed URL above.
    path("packages/<str:python_version>/<str:letter>/<str:project>/<str:filename>",
         files.redirect_predictable, name="file-predictable"),
]
