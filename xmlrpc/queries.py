"""Reads behind the XML-RPC API (PyPI's legacy interface).

Every read hides hidden projects (quarantined, pending) and quarantined
releases, as the other APIs do. Rows come back as
plain tuples and dicts of model values; turning them into PyPI's wire shapes
(timestamps, URLs, cleaning for XML) is the XML-RPC app's business."""

import json
from datetime import UTC, datetime
from functools import reduce
from operator import or_

import trove_classifiers
from django.db import connection
from django.db.models import Exists, Max, OuterRef, Q, TextField
from django.db.models.functions import Cast

from packages.models import HIDDEN_PROJECT_STATUSES, File, JournalEntry, Project, Release, Role
from packages.names import normalize_name
from packages.queries import find_visible_project, visible_files, visible_projects, visible_releases
from packages.versions import find_release as find_project_release
from packages.versions import latest_release, sort_releases

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
        Project.objects.filter(status__in=HIDDEN_PROJECT_STATUSES).values_list("name", flat=True)
    )
    rows = JournalEntry.objects.all()
    if hidden:
        rows = rows.filter(~Q(name__in=hidden) | Q(action=QUARANTINE_ACTION))
    return rows.order_by("id")


def _journal_rows(limit: int, **after) -> list[tuple]:
    return list(
        _visible_journal().filter(**after)
        .values_list("name", "version", "submitted_date", "action", "id")[:limit]
    )


def journal_since_serial(serial: int, *, limit: int = CHANGELOG_PAGE_SIZE) -> list[tuple]:
    """(name, version, submitted_date, action, id) for ids above ``serial``."""
    return _journal_rows(limit, id__gt=serial)


def journal_since_date(since: datetime, *, limit: int = CHANGELOG_PAGE_SIZE) -> list[tuple]:
    """(name, version, submitted_date, action, id) submitted strictly after ``since``."""
    return _journal_rows(limit, submitted_date__gt=since)


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
    rows = visible_releases()
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


# What ordering releases and choosing the latest needs: never the descriptions.
_ORDERING_FIELDS = ("id", "project_id", "version", "yanked")


def releases_in_order(project) -> list[Release]:
    """A project's releases in ascending version order; the index of a release in
    this list is PyPI's ``_pypi_ordering``. Only the fields ordering needs are loaded."""
    return sort_releases(project.releases.filter(quarantined=False).only(*_ORDERING_FIELDS))


def find_release(name: str, version: str):
    """(release, _pypi_ordering) for a visible project's release whose version is
    exactly ``version`` (``1.0`` is not ``1.0.0``), or (None, None)."""
    project = find_visible_project(name)
    release = find_project_release(project, version) if project is not None else None
    if release is None or release.version != version or release.quarantined:
        return None, None
    ordered = releases_in_order(project)
    return release, next(i for i, r in enumerate(ordered) if r.pk == release.pk)


def release_files(name: str, version: str) -> list[File]:
    return list(
        visible_files().filter(
            release__project__normalized_name=normalize_name(name),
            release__version=version,
        ).order_by("filename")
    )


def newest_release(releases: list[Release]) -> Release | None:
    """PyPI's "latest version" for XML-RPC: packages.versions' latest among the
    non-yanked releases (never a yanked one, unlike the JSON API)."""
    return latest_release(r for r in releases if not r.yanked)


_TROVE_ORDER = {c: i for i, c in enumerate(trove_classifiers.sorted_classifiers)}


def in_trove_order(classifiers: list[str]) -> list[str]:
    return sorted(classifiers, key=lambda c: (_TROVE_ORDER.get(c, len(_TROVE_ORDER)), c))


# --- search (the retired XML-RPC search, kept for internal tools) --------------------

SEARCH_FIELDS = (
    "name", "version", "author", "author_email", "maintainer", "maintainer_email",
    "home_page", "license", "summary", "description", "keywords", "platform", "download_url",
)
# Matched as case-insensitive substrings, as legacy PyPI's SQL search did; on
# PostgreSQL each has a trigram index on UPPER(column), which is what icontains
# compares (migration 0003_search_indexes).
SUBSTRING_FIELDS = (
    "author", "author_email", "maintainer", "maintainer_email", "summary", "description",
    "keywords",
)
_EXACT_URL_FIELDS = ("home_page", "download_url")
_BOOSTS = {"name": 10, "summary": 5, "description": 5, "keywords": 5}


def _any(conditions) -> Q:
    return reduce(or_, conditions)


def _has_files():
    return Exists(File.objects.filter(release=OuterRef("pk")))


def _platform_text(values: list[str]) -> Q:
    """Releases whose stored platform list (JSON text) contains the first platform
    of one of ``values``: a superset of the exact matches, which are checked on the
    document afterwards. SQLite stores JSON with non-ASCII characters escaped, so
    the value is escaped alike."""
    ascii_only = connection.vendor != "postgresql"
    firsts = [v.split(",", 1)[0].strip() for v in values]
    return _any(
        Q(platforms_text__icontains=json.dumps(first, ensure_ascii=ascii_only)[1:-1])
        for first in firsts
    )


def releases_matching(field: str, values: list[str]):
    """Releases (of visible projects, with files) whose ``field`` matches one of
    ``values``; for ``platform`` a superset, see ``_platform_text``. One query,
    on PostgreSQL through the field's trigram index."""
    rows = (
        visible_releases().filter(_has_files()).order_by()
    )
    if field == "name":
        # Substrings of the PEP 503 name: "Tiny", "tiny_p" and "y-proj" find TinyProj.
        projects = Project.objects.filter(
            _any(Q(normalized_name__contains=normalize_name(v)) for v in values)
        )
        return rows.filter(project__in=projects)
    if field == "version":
        with_version = visible_releases().filter(version__in=values).filter(_has_files())
        return rows.filter(project__in=with_version.values("project_id"))
    if field == "license":
        return rows.none()  # PyPI never indexed it, so it never matched
    if field == "platform":
        rows = rows.annotate(platforms_text=Cast("platforms", TextField()))
        return rows.filter(_platform_text(values))
    if field in _EXACT_URL_FIELDS:
        return rows.filter(_any(Q(**{f"{field}__iexact": v.strip()}) for v in values))
    if field in SUBSTRING_FIELDS:
        return rows.filter(_any(Q(**{f"{field}__icontains": v}) for v in values))
    raise ValueError(f"{field!r} is not a search field")


def _platform_matches(release: Release, values: list[str]) -> bool:
    text = ", ".join(release.platforms).strip().lower()
    return any(v.strip().lower() == text for v in values)


# Project ids per query: SQLite bounds the number of parameters of a statement.
_PROJECTS_PER_QUERY = 500


def _releases_with_files(project_ids: list[int]):
    """Every release with files of these projects, with only the fields ordering,
    the answer and the platform check need."""
    for start in range(0, len(project_ids), _PROJECTS_PER_QUERY):
        yield from (
            Release.objects.filter(project_id__in=project_ids[start:start + _PROJECTS_PER_QUERY])
            .filter(_has_files(), quarantined=False)
            .order_by()
            .select_related("project")
            .only(*_ORDERING_FIELDS, "summary", "platforms", "project__name",
                  "project__normalized_name")
        )


def search_projects(spec: dict[str, list[str]], operator: str) -> list[dict]:
    """PyPI's old search: one document per project, built from its newest
    non-yanked release that has files; values of one field OR-ed, fields combined
    by ``operator``; at most 100 projects by relevance. Names and free-text fields
    match case-insensitive substrings (legacy PyPI's SQL search), ``version``,
    ``home_page``, ``download_url`` and ``platform`` the whole value.
    Returns {release, versions, score} dicts.

    Each field is one indexed query giving the matching releases' ids, so no
    text is read into Python and descriptions are never loaded."""
    matched: dict[int, set[str]] = {}  # release id -> the fields it matched
    projects: set[int] = set()
    if operator == "and":
        rows = releases_matching(*next(iter(spec.items())))
        for field, values in list(spec.items())[1:]:
            rows = rows.filter(pk__in=releases_matching(field, values).values("pk"))
        for pk, project_id in rows.values_list("pk", "project_id"):
            matched[pk] = set(spec)
            projects.add(project_id)
    else:
        for field, values in spec.items():
            for pk, project_id in releases_matching(field, values).values_list(
                "pk", "project_id"
            ):
                matched.setdefault(pk, set()).add(field)
                projects.add(project_id)
    by_project: dict[int, list[Release]] = {}
    for release in _releases_with_files(sorted(projects)):
        by_project.setdefault(release.project_id, []).append(release)
    hits = []
    for project_releases in by_project.values():
        ordered = sort_releases(project_releases)
        document = newest_release(ordered)
        fields = set(matched.get(document.pk, ())) if document is not None else set()
        if "platform" in fields and not _platform_matches(document, spec["platform"]):
            fields.discard("platform")
        if not fields or (operator == "and" and fields != set(spec)):
            continue
        score = sum(_BOOSTS.get(f, 1) for f in fields)
        hits.append({"release": document, "versions": [r.version for r in ordered],
                     "score": score})
    hits.sort(key=lambda h: (-h["score"], h["release"].project.normalized_name))
    return hits[:SEARCH_RESULT_LIMIT]


def utc_datetime(timestamp: int) -> datetime:
    """A POSIX timestamp as an aware UTC datetime, clamped to what datetime holds."""
    timestamp = max(0, min(timestamp, 253402300799))  # 9999-12-31T23:59:59Z
    return datetime.fromtimestamp(timestamp, tz=UTC)
