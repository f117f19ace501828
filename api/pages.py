"""Human-readable project pages (``/project/<name>/`` and ``/project/<name>/<version>/``).

The JSON API's ``package_url``/``release_url`` and the RSS items link here, as
PyPI's do; the page shows what the JSON API serves, for people: the rendered
description, how to install, the files with their hashes, the release history."""

from django.conf import settings
from django.http import Http404, HttpResponsePermanentRedirect
from django.shortcuts import render
from django.views.decorators.http import require_safe

from packages.models import File, Release
from packages.queries import find_visible_project, visible_projects
from packages.uploads.descriptions import page_html
from packages.versions import latest_release, match_release, sort_releases


@require_safe
def project_page(request, name: str, version: str | None = None):
    project = find_visible_project(name)
    if project is None:
        raise Http404("No such project")
    if name != project.normalized_name:
        suffix = f"{version}/" if version else ""
        return HttpResponsePermanentRedirect(f"/project/{project.normalized_name}/{suffix}")
    releases = list(
        Release.objects.filter(project=project).only(
            "id", "version", "canonical_version", "yanked", "yanked_reason", "created", "is_prerelease"
        )
    )
    if not releases:
        raise Http404("This project has no releases")
    if version is None:
        release = latest_release(releases)
    else:
        release = match_release(releases, version)
        if release is None:
            raise Http404("No such version")
    release = Release.objects.get(pk=release.pk)
    files = list(File.objects.filter(release=release).order_by("packagetype", "filename"))
    history = sort_releases(releases, reverse=True)
    return render(request, "api/project.html", {
        "project": project,
        "release": release,
        "description_html": page_html(release.description_html),
        "files": files,
        "history": history,
        "is_latest": version is None,
        "project_urls": [_split_url(entry) for entry in release.project_urls],
    })


def _split_url(entry: str) -> tuple[str, str]:
    label, _, url = entry.partition(",")
    return label.strip(), url.strip()


@require_safe
def home_page(request):
    """The front page: how to use the index, and what changed lately."""
    recent = (
        visible_projects().filter(last_serial__gt=0).order_by("-last_serial")
        .only("name", "normalized_name", "last_serial")[:30]
    )
    return render(request, "api/home.html", {
        "recent": recent,
        "project_count": visible_projects().count(),
        "base_url": settings.INDEX_BASE_URL,
    })
