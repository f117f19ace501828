"""The pages for people: the front page, the list of projects, search, and the
project pages (``/project/<name>/[<version>/]``) the JSON API's
``package_url``/``release_url`` and the RSS items link to.

What a page shows is what the APIs serve (packages.queries decides what is
visible); staff also see quarantined and pending projects and releases, marked."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import OuterRef, Subquery
from django.http import Http404, HttpResponsePermanentRedirect, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_safe

from api.search import MAX_QUERY_LENGTH, search_projects
from packages.http.errors import error_response
from packages.models import File, Project, Release
from packages.names import normalize_name
from packages.queries import visible_projects, visible_releases
from packages.uploads.descriptions import page_html
from packages.versions import latest_release, match_release, sort_releases

PAGE_SIZE = 20
MAX_PAGE_NUMBER = 1000  # deeper pages cost an OFFSET scan and nobody reads them
RECENT_COUNT = 10


def index_name() -> str:
    return settings.INDEX_NAME


def _page(request, queryset):
    number = request.GET.get("page") or 1
    try:
        number = min(max(int(number), 1), MAX_PAGE_NUMBER)
    except (TypeError, ValueError):
        number = 1
    return Paginator(queryset, PAGE_SIZE).get_page(number)


def _with_latest_summary(projects):
    newest = visible_releases().filter(project=OuterRef("pk")).order_by("-created", "-pk")
    return projects.annotate(latest_summary=Subquery(newest.values("summary")[:1]))


def _render(request, template: str, context: dict, status: int = 200):
    context.setdefault("index_name", index_name())
    return render(request, template, context, status=status)


@require_safe
def home_page(request):
    """A search box, the newest projects and the latest releases."""
    projects = visible_projects()
    newest = _with_latest_summary(projects.order_by("-created", "-pk"))[:RECENT_COUNT]
    releases = (
        visible_releases().select_related("project").order_by("-created", "-pk")
        .only("version", "summary", "created", "is_prerelease", "yanked",
              "project__name", "project__normalized_name")[:RECENT_COUNT]
    )
    return _render(request, "api/home.html", {
        "newest": newest,
        "releases": releases,
        "project_count": projects.count(),
        "base_url": settings.INDEX_BASE_URL,
    })


@require_safe
def projects_page(request):
    """Every visible project by name, paginated."""
    page = _page(request, _with_latest_summary(visible_projects().order_by("normalized_name")))
    return _render(request, "api/projects.html", {"page": page})


@require_safe
def search_page(request):
    q = request.GET.get("q", "").strip()
    if len(q) > MAX_QUERY_LENGTH:
        return error_response(400, f"The search is longer than {MAX_QUERY_LENGTH} characters.")
    page = _page(request, search_projects(q)) if q else None
    return _render(request, "api/search.html", {"q": q, "page": page})


@require_safe
def legacy_release_redirect(request, name: str, version: str):
    """hatch prints ``<repository>/<name>/<version>/`` after an upload to ``/legacy/``."""
    return HttpResponseRedirect(f"/project/{normalize_name(name)}/{version}/")


@require_safe
def project_page(request, name: str, version: str | None = None):
    staff = request.user.is_staff
    projects = Project.objects.all() if staff else visible_projects()
    project = projects.filter(normalized_name=normalize_name(name)).first()
    if project is None:
        raise Http404("No such project")
    if name != project.normalized_name:
        suffix = f"{version}/" if version else ""
        return HttpResponsePermanentRedirect(f"/project/{project.normalized_name}/{suffix}")
    releases = Release.objects.filter(project=project)
    if not staff:
        releases = releases.filter(quarantined=False)
    releases = list(releases.only(
        "id", "version", "canonical_version", "yanked", "yanked_reason", "created",
        "is_prerelease", "quarantined",
    ))
    if not releases:
        raise Http404("This project has no releases")
    release = latest_release(releases) if version is None else match_release(releases, version)
    if release is None:
        raise Http404("No such version")
    release = Release.objects.get(pk=release.pk)
    return _render(request, "api/project.html", {
        "project": project,
        "release": release,
        "description_html": page_html(release.description_html),
        "files": list(File.objects.filter(release=release).order_by("packagetype", "filename")),
        "history": sort_releases(releases, reverse=True),
        "is_latest": version is None,
        "project_urls": [link for link in map(_split_url, release.project_urls) if link],
        "home_page": release.home_page if _is_web_url(release.home_page) else "",
        "install": install_command(
            project.normalized_name, None if version is None else release.version
        ),
        "credentials_hint": _credentials_hint(),
        "extras": release.provides_extra,
        "dependencies": release.requires_dist,
    })


def install_command(name: str, version: str | None = None) -> str:
    """pip's command against THIS index (a bare ``pip install`` asks pypi.org)."""
    pin = f"=={version}" if version else ""
    return f"pip install --index-url {settings.INDEX_BASE_URL}/simple/ {name}{pin}"


def _credentials_hint() -> str:
    if settings.INDEX_READ_AUTH != "authenticated":
        return ""
    url = urlsplit(settings.INDEX_BASE_URL)
    return f"{url.scheme}://__token__:<token>@{url.netloc}{url.path}/simple/"


def _is_web_url(url: str) -> bool:
    """Only http(s) links: a ``javascript:`` or ``data:`` URL from metadata is not a link."""
    try:
        return urlsplit(url.strip()).scheme.lower() in {"http", "https"}
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return False


def _split_url(entry: str) -> tuple[str, str] | None:
    label, _, url = entry.partition(",")
    return (label.strip(), url.strip()) if _is_web_url(url) else None
