"""Routes of PyPI's JSON API and its OpenAPI document."""

from django.urls import path
from drf_spectacular.views import SpectacularJSONAPIView

from api.pages import home_page, project_page
from api.views import ProjectJSONView, ReleaseJSONView


class _ProjectJSONSlashView(ProjectJSONView):
    schema = None  # same document as without the slash; not listed twice


class _ReleaseJSONSlashView(ReleaseJSONView):
    schema = None


json_urlpatterns = [
    path("pypi/<str:name>/json", ProjectJSONView.as_view(), name="json-project"),
    path("pypi/<str:name>/<str:version>/json", ReleaseJSONView.as_view(), name="json-release"),
    # PyPI's origin answers the trailing-slash spellings with the same document.
    path("pypi/<str:name>/json/", _ProjectJSONSlashView.as_view(), {"slash": "/"}),
    path("pypi/<str:name>/<str:version>/json/", _ReleaseJSONSlashView.as_view(), {"slash": "/"}),
]

urlpatterns = [
    *json_urlpatterns,
    path(
        "api/openapi.json",
        SpectacularJSONAPIView.as_view(urlconf=json_urlpatterns),
        name="json-openapi",
    ),
    path("", home_page, name="home"),
    # The pages package_url/release_url and the RSS items link to.
    path("project/<str:name>/", project_page, name="project-page"),
    path("project/<str:name>/<str:version>/", project_page, name="release-page"),
]
