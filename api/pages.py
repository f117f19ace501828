"""The pages for people: the front page, the list of projects, search, and the
project pages (``/project/<name>/[<version>/]``) the JSON API's
``package_url``/``release_url`` and the RSS items link to.

What a page shows is what the APIs serve (packages.queries decides what is
visible); staff also see quarantined and pending projects and releases, marked,
and whoever holds a role on a pending project sees its pages, marked as not
installable yet. A page shown to a signed-in person is private and never stored:
nothing keeps a staff or owner view for someone else.

Absolute URLs (the install command, the token snippets) use INDEX_BASE_URL once
it is set; at its embedded default they use the address the request reached
(Django checks the Host against ALLOWED_HOSTS). No page body is cached on the
server, so no cache key needs the host."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import OuterRef, Subquery
from django.http import Http404, HttpResponsePermanentRedirect, HttpResponseRedirect
from django.shortcuts import render
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.views.decorators.http import require_safe
from django.views.defaults import page_not_found

from api.search import MAX_QUERY_LENGTH, search_projects
from packages.cache.keys import ALL_PROJECTS, project_key
from packages.http.cache_policy import PEOPLE_PAGE, apply_cache_policy
from packages.http.errors import error_response
from packages.models import File, Release
from packages.names import normalize_name
from packages.queries import projects_shown_to, visible_projects, visible_releases
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


def public_base_url(request) -> str:
    """The origin for absolute URLs on a page: INDEX_BASE_URL when it is set (in
    production, behind a proxy or CDN), else the scheme and host this request
    reached, so that `make serve` on any host or port, or a request to
    localhost instead of 127.0.0.1, shows commands that work from where it was read."""
    configured = settings.INDEX_BASE_URL
    if configured and configured != settings.INDEX_BASE_URL_DEFAULT:
        return configured
    return request.build_absolute_uri("/").rstrip("/")


def private_to_the_user(response):
    """A page shown to a signed-in person (their name, a pending project, staff
    marks) is kept by no cache, shared or not."""
    patch_cache_control(response, private=True, no_store=True)
    patch_vary_headers(response, ["Cookie"])
    return response


def _shared_or_private(request, response, keys: list[str]):
    """Anonymous answers carry the purge keys of what they show, so a CDN in front
    keeps them exactly until a change to those projects (a 404 included: a
    project approved later purges its own key)."""
    if request.user.is_authenticated:
        return private_to_the_user(response)
    return apply_cache_policy(response, PEOPLE_PAGE, keys)


def _render(request, template: str, context: dict, *, keys: list[str]):
    context.setdefault("index_name", index_name())
    return _shared_or_private(request, render(request, template, context), keys)


def _not_found(request, name: str, why: str):
    """The same 404 as Django's for any URL, with the project's purge key."""
    response = page_not_found(request, Http404(why))
    return _shared_or_private(request, response, [project_key(normalize_name(name))])


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
        "base_url": public_base_url(request),
    }, keys=[ALL_PROJECTS])


@require_safe
def projects_page(request):
    """Every visible project by name, paginated."""
    page = _page(request, _with_latest_summary(visible_projects().order_by("normalized_name")))
    return _render(request, "api/projects.html", {"page": page}, keys=[ALL_PROJECTS])


@require_safe
def search_page(request):
    q = request.GET.get("q", "").strip()
    if len(q) > MAX_QUERY_LENGTH:
        return error_response(400, f"The search is longer than {MAX_QUERY_LENGTH} characters.")
    found = search_projects(q) if q else None
    page = _page(request, found) if found is not None else None
    return _render(request, "api/search.html", {
        "q": q, "page": page,
        # PyPI's "1,000+": the search stops there rather than count every match.
        "more_than": f"{len(found):,}" if found is not None and found.more else None,
    }, keys=[ALL_PROJECTS])


@require_safe
def legacy_release_redirect(request, name: str, version: str):
    """hatch prints ``<repository>/<name>/<version>/`` after an upload to ``/legacy/``."""
    return HttpResponseRedirect(f"/project/{normalize_name(name)}/{version}/")


@require_safe
def project_page(request, name: str, version: str | None = None):
    staff = request.user.is_staff
    # A hidden project is the same 404 as a missing one to whoever may not see it.
    project = projects_shown_to(request.user).filter(
        normalized_name=normalize_name(name)
    ).first()
    if project is None:
        return _not_found(request, name, "No such project")
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
        return _not_found(request, name, "This project has no releases")
    release = latest_release(releases) if version is None else match_release(releases, version)
    if release is None:
        return _not_found(request, name, "No such version")
    release = Release.objects.get(pk=release.pk)
    base_url = public_base_url(request)
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
            base_url, project.normalized_name, None if version is None else release.version
        ),
        "credentials_hint": _credentials_hint(base_url),
        "extras": release.provides_extra,
        "dependencies": release.requires_dist,
    }, keys=[project_key(project.normalized_name)])


def install_command(base_url: str, name: str, version: str | None = None) -> str:
    """pip's command against THIS index (a bare ``pip install`` asks pypi.org)."""
    pin = f"=={version}" if version else ""
    return f"pip install --index-url {base_url}/simple/ {name}{pin}"


def _credentials_hint(base_url: str) -> str:
    if settings.INDEX_READ_AUTH != "authenticated":
        return ""
    url = urlsplit(base_url)
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
