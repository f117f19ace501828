"""Reads behind the XML-RPC API (PyPI's legacy interface).

Every read hides quarantined projects, as the other APIs do. Rows come back as
plain tuples and dicts of model values; turning them into PyPI's wire shapes
(timestamps, URLs, cleaning for XML) is the XML-RPC app's business."""

import json
import re
from datetime import UTC, datetime

import trove_classifiers
from django.db import connection
from django.db.models import Max, Q, TextField
from django.db.models.functions import Cast
from packaging.version import InvalidVersion, Version

from packages.models import File, JournalEntry, Project, ProjectStatus, Release, Role
from packages.names import normalize_name
from packages.queries import find_visible_project, visible_projects

# PyPI answers at most this many journal rows per call; clients page by serial.
CHANGELOG_PAGE_SIZE = 50_000
SEARCH_RESULT_LIMIT = 100

QUARANTINE_ACTION = "project quarantined"


# --- the journal ---------------------------------------------------------------------


def last_journal_serial() -> int | None:
    """The highest journal id, or None for an empty journal (PyPI sends <nil/>)."""
    return JournalEntry.objects.aggregate(serial=Max("id"))["serial"]


def _visible_journal():
    """Journal rows of quarantined projects are hidden, except the row announcing
    the quarantine itself: a mirror that sees it re-checks the project, gets a 404
    and stops serving it. Clearing the quarantine journals a new row, so the
    project's history comes back with a serial mirrors have not processed yet."""
    hidden = list(
        Project.objects.filter(status=ProjectStatus.QUARANTINED).values_list("name", flat=True)
    )
    rows = JournalEntry.objects.all()
    if hidden:
        rows = rows.filter(~Q(name__in=hidden) | Q(action=QUARANTINE_ACTION))
    return rows.order_by("id")


def journal_since_serial(serial: int, *, limit: int = CHANGELOG_PAGE_SIZE) -> list[tuple]:
    """(name, version, submitted_date, action, id) for ids above ``serial``."""
    return list(
        _visible_journal()
        .filter(id__gt=serial)
        .values_list("name", "version", "submitted_date", "action", "id")[:limit]
    )


def journal_since_date(since: datetime, *, limit: int = CHANGELOG_PAGE_SIZE) -> list[tuple]:
    """(name, version, submitted_date, action, id) submitted strictly after ``since``."""
    return list(
        _visible_journal()
        .filter(submitted_date__gt=since)
        .values_list("name", "version", "submitted_date", "action", "id")[:limit]
    )


# --- projects and roles --------------------------------------------------------------


def project_serials() -> dict[str, int]:
    """{display name: last_serial} of every visible project, releases or not."""
    return dict(visible_projects().values_list("name", "last_serial"))


def project_names() -> list[str]:
    return list(visible_projects().values_list("name", flat=True))


def project_roles(name: str) -> list[tuple[str, str]]:
    """(role, username) of a project's user roles: role descending
    (Owner before Maintainer), then username. Team roles are not listed (as PyPI)."""
    return list(
        Role.objects.filter(
            project__in=visible_projects(),
            project__normalized_name=normalize_name(name),
            user__isnull=False,
        )
        .order_by("-role_name", "user__username")
        .values_list("role_name", "user__username")
    )


def user_roles(username: str) -> list[tuple[str, str]]:
    """(role, project display name) of a user's direct roles; the username is
    matched case-insensitively. Role descending, then project name."""
    return list(
        Role.objects.filter(project__in=visible_projects(), user__username__iexact=username)
        .order_by("-role_name", "project__name")
        .values_list("role_name", "project__name")
    )


# --- releases --------------------------------------------------------------------------


def releases_with_classifiers(classifiers: list[str]) -> list[tuple[str, str]]:
    """(project display name, version) of every release (yanked ones included)
    carrying all ``classifiers``, by project name then version as text."""
    wanted = list(dict.fromkeys(classifiers))
    rows = Release.objects.filter(project__in=visible_projects())
    if connection.vendor == "postgresql":
        rows = rows.filter(classifiers__contains=wanted)  # jsonb @>
    else:
        # No JSON containment on SQLite: narrow on the stored JSON text, then check.
        rows = rows.annotate(classifiers_text=Cast("classifiers", TextField()))
        for classifier in wanted:
            rows = rows.filter(classifiers_text__contains=json.dumps(classifier))
    found = [
        (name, version)
        for name, version, stored in rows.values_list("project__name", "version", "classifiers")
        if set(wanted) <= set(stored or [])
    ]
    return sorted(found)


def _version_key(version: str):
    try:
        return (1, Version(version))
    except InvalidVersion:
        return (0, version)


# What ordering releases and choosing the latest needs: never the descriptions.
_ORDERING_FIELDS = ("id", "project_id", "version", "yanked", "is_prerelease")


def releases_in_order(project) -> list[Release]:
    """A project's releases in ascending version order; the index of a release in
    this list is PyPI's ``_pypi_ordering``. Only the fields ordering needs are loaded."""
    releases = project.releases.only(*_ORDERING_FIELDS)
    return sorted(releases, key=lambda r: _version_key(r.version))


def find_release(name: str, version: str):
    """(release, _pypi_ordering) for a visible project's release whose version is
    exactly ``version`` (``1.0`` is not ``1.0.0``), or (None, None)."""
    project = find_visible_project(name)
    if project is None:
        return None, None
    ordered = releases_in_order(project)
    for ordering, release in enumerate(ordered):
        if release.version == version:
            release = Release.objects.get(pk=release.pk)
            release.project = project
            return release, ordering
    return None, None


def release_files(name: str, version: str) -> list[File]:
    return list(
        File.objects.filter(
            release__project__in=visible_projects(),
            release__project__normalized_name=normalize_name(name),
            release__version=version,
        ).order_by("filename")
    )


def newest_release(releases: list[Release]) -> Release | None:
    """PyPI's "latest version" from releases in ascending order: the newest
    non-yanked final, else the newest non-yanked pre-release."""
    candidates = [r for r in releases if not r.yanked]
    finals = [r for r in candidates if not r.is_prerelease]
    pool = finals or candidates
    return pool[-1] if pool else None


_TROVE_ORDER = {c: i for i, c in enumerate(trove_classifiers.sorted_classifiers)}


def in_trove_order(classifiers: list[str]) -> list[str]:
    return sorted(classifiers, key=lambda c: (_TROVE_ORDER.get(c, len(_TROVE_ORDER)), c))


# --- search (the retired XML-RPC search, kept for internal tools) --------------------

SEARCH_FIELDS = (
    "name", "version", "author", "author_email", "maintainer", "maintainer_email",
    "home_page", "license", "summary", "description", "keywords", "platform", "download_url",
)
_EXACT_FIELDS = {"version", "home_page", "download_url", "platform"}
_BOOSTS = {"name": 10, "summary": 5, "description": 5, "keywords": 5}
_TOKEN = re.compile(r"\w+", re.UNICODE)
_SEARCH_MODEL_FIELDS = {"platform": "platforms"}


def _tokens(text: str) -> set[str]:
    return {t.lower() for t in _TOKEN.findall(text or "")}


def _field_text(release: Release, field: str) -> str:
    if field == "name":
        return release.project.name
    if field == "platform":
        return ", ".join(release.platforms)
    return getattr(release, field, "") or ""


def _matches(release: Release, versions: list[str], field: str, values: list[str]) -> bool:
    if field == "license":
        return False  # PyPI never indexed it, so it never matched
    if field == "version":
        return any(v in versions for v in values)
    text = _field_text(release, field)
    if field in _EXACT_FIELDS:
        return any(v.strip().lower() == text.strip().lower() for v in values)
    have = _tokens(text)
    return any(_tokens(v) & have for v in values)


def search_projects(spec: dict[str, list[str]], operator: str) -> list[dict]:
    """PyPI's old search: one document per project, built from its newest
    non-yanked release that has files; whole-token, case-insensitive matching;
    values of one field OR-ed, fields combined by ``operator``; at most 100
    projects by relevance. Returns {project, release, versions, score} dicts."""
    # Every release of the index is read: only the fields ordering and the asked
    # fields need, never the descriptions unless they are searched.
    fields = {_SEARCH_MODEL_FIELDS.get(f, f) for f in spec if f not in ("name", "version")}
    releases = (
        Release.objects.filter(project__in=visible_projects(), files__isnull=False)
        .select_related("project")
        .only(*_ORDERING_FIELDS, "summary", *fields, "project__name", "project__normalized_name")
        .distinct()
    )
    by_project: dict[int, list[Release]] = {}
    for release in releases:
        by_project.setdefault(release.project_id, []).append(release)
    hits = []
    for project_releases in by_project.values():
        ordered = sorted(project_releases, key=lambda r: _version_key(r.version))
        document = newest_release(ordered)
        if document is None:
            continue
        versions = [r.version for r in ordered]
        matched = [f for f, values in spec.items() if _matches(document, versions, f, values)]
        if not matched or (operator == "and" and len(matched) != len(spec)):
            continue
        score = sum(_BOOSTS.get(f, 1) for f in matched)
        hits.append({"release": document, "versions": versions, "score": score})
    hits.sort(key=lambda h: (-h["score"], h["release"].project.normalized_name))
    return hits[:SEARCH_RESULT_LIMIT]


def utc_datetime(timestamp: int) -> datetime:
    """A POSIX timestamp as an aware UTC datetime, clamped to what datetime holds."""
    timestamp = max(0, min(timestamp, 253402300799))  # 9999-12-31T23:59:59Z
    return datetime.fromtimestamp(timestamp, tz=UTC)
