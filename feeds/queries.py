"""Reads behind the RSS feeds (PyPI's three: latest updates, newest projects, a
project's releases). Hidden projects (packages.models.HIDDEN_PROJECT_STATUSES)
and quarantined releases never appear."""

from django.db.models import Exists, OuterRef

from packages.models import Project, Release
from packages.queries import visible_projects, visible_releases
from packages.versions import sort_key

# PyPI's item counts (warehouse/rss/views.py).
LATEST_RELEASES_LIMIT = 100
NEWEST_PROJECTS_LIMIT = 40
PROJECT_RELEASES_LIMIT = 40

# Only what a feed item shows, so that long descriptions are never loaded.
_RELEASE_FIELDS = ("id", "project_id", "version", "summary", "author_email", "created")


def latest_releases(*, limit: int = LATEST_RELEASES_LIMIT) -> list[Release]:
    """The newest releases of visible projects, newest first (one query)."""
    return list(
        visible_releases()
        .select_related("project")
        .only(*_RELEASE_FIELDS, "project__name", "project__normalized_name")
        .order_by("-created", "-id")[:limit]
    )


def project_releases(project: Project, *, limit: int = PROJECT_RELEASES_LIMIT) -> list[Release]:
    """A project's newest releases, newest first; yanked ones included, as PyPI."""
    releases = list(
        Release.objects.filter(project=project, quarantined=False)
        .only(*_RELEASE_FIELDS)
        .order_by("-created", "-id")[:limit]
    )
    for release in releases:
        release.project = project
    return releases


def newest_projects(*, limit: int = NEWEST_PROJECTS_LIMIT) -> list[Project]:
    """The newest visible projects that have at least one release, newest first,
    each with ``highest_release``: its highest version in PyPI's order (pre-releases
    and yanked releases count, as PyPI's ``_pypi_ordering``). Two queries."""
    projects = list(
        visible_projects()
        .filter(Exists(Release.objects.filter(project=OuterRef("pk"), quarantined=False)))
        .only("id", "name", "normalized_name", "created")
        .order_by("-created", "-id")[:limit]
    )
    by_project: dict[int, list[Release]] = {}
    for release in Release.objects.filter(
        project__in=[p.id for p in projects], quarantined=False
    ).only(
        *_RELEASE_FIELDS
    ):
        by_project.setdefault(release.project_id, []).append(release)
    # The id only breaks ties between equal versions (1.0 and 1.0.0).
    highest = {
        project_id: max(releases, key=lambda r: (sort_key(r.version), r.id))
        for project_id, releases in by_project.items()
    }
    for project in projects:
        project.highest_release = highest[project.id]
        project.highest_release.project = project
    return projects
