"""Routes of PyPI's JSON API and its OpenAPI document.

The documents are on the hot path (packages.http.hot_path): one already cached
is answered before the session/CSRF/auth/messages middleware and DRF."""

from django.contrib.auth import views as auth_views
from django.urls import path
from drf_spectacular.views import SpectacularJSONAPIView

from api.account_pages import (
    account_projects_page,
    add_maintainer_page,
    remove_maintainer_page,
    revoke_token_page,
    tokens_page,
)
from api.pages import (
    home_page,
    legacy_release_redirect,
    project_page,
    projects_page,
    search_page,
)
from api.views import ProjectJSONView, ReleaseJSONView, cached_document_answer
from packages.http.cors import cors
from packages.http.hot_path import hot_path


class _ProjectJSONSlashView(ProjectJSONView):
    schema = None  # same document as without the slash; not listed twice


class _ReleaseJSONSlashView(ReleaseJSONView):
    schema = None


def _document(view_class):
    return hot_path(cors(view_class.as_view()), early=cached_document_answer)


json_urlpatterns = [
    path("pypi/<str:name>/json", _document(ProjectJSONView), name="json-project"),
    path("pypi/<str:name>/<str:version>/json", _document(ReleaseJSONView), name="json-release"),
    # PyPI's origin answers the trailing-slash spellings with the same document.
    path("pypi/<str:name>/json/", _document(_ProjectJSONSlashView), {"slash": "/"}),
    path("pypi/<str:name>/<str:version>/json/", _document(_ReleaseJSONSlashView), {"slash": "/"}),
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
    path("projects/", projects_page, name="projects-page"),
    path("search/", search_page, name="search-page"),
    # hatch links to <repository>/<name>/<version>/ after an upload to /legacy/.
    path("legacy/<str:name>/<str:version>/", legacy_release_redirect, name="legacy-release"),
    path("accounts/login/", auth_views.LoginView.as_view(
        template_name="api/login.html", next_page="/account/tokens/",
        redirect_authenticated_user=True,
    ), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(next_page="/"), name="logout"),
    path("account/tokens/", tokens_page, name="account-tokens"),
    path("account/tokens/<int:token_id>/revoke/", revoke_token_page, name="account-token-revoke"),
    path("account/projects/", account_projects_page, name="account-projects"),
    path("account/projects/<str:name>/maintainers/", add_maintainer_page,
         name="account-maintainer-add"),
    path("account/projects/<str:name>/maintainers/remove/", remove_maintainer_page,
         name="account-maintainer-remove"),
]
