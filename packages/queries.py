"""Reads shared by the APIs (simple, JSON, feeds, XML-RPC).

The simple-API reads are on the hottest path of the index (every pip/uv run
asks for one page per requirement), so they fetch plain tuples, never model
instances: one query for the project row, one for all its files."""

from dataclasses import dataclass
from datetime import datetime

from django.db import InterfaceError, OperationalError, connection
from django.db.models import Q

from packages.models import HIDDEN_PROJECT_STATUSES, File, Project, ProjectStatus, Release
from packages.names import normalize_name


def visible_projects():
    """Projects clients may see: quarantined and pending ones are hidden from every API."""
    return Project.objects.exclude(status__in=HIDDEN_PROJECT_STATUSES)


def projects_shown_to(user):
    """Projects the pages for people show ``user``: the visible ones; a pending
    one also to whoever holds a role on it (its uploader, directly or through a
    team); every project to staff. Only the pages use this: to the APIs (simple,
    JSON, files, feeds, XML-RPC) a pending project stays hidden whoever asks, so
    it is not installable until a curator approves it."""
    if user.is_authenticated and user.is_staff:
        return Project.objects.all()
    if not user.is_authenticated:
        return visible_projects()
    pending_with_role = Project.objects.filter(
        Q(roles__user=user) | Q(roles__group__in=user.groups.all()),
        status=ProjectStatus.PENDING,
    ).values("pk")
    return Project.objects.filter(
        ~Q(status__in=HIDDEN_PROJECT_STATUSES) | Q(pk__in=pending_with_role)
    )


def visible_releases():
    """Releases clients may see: of a visible project, and not quarantined one by one."""
    return Release.objects.filter(project__in=visible_projects(), quarantined=False)


def visible_files():
    """Files clients may see and download: of a visible release of a visible project."""
    return File.objects.filter(release__quarantined=False).exclude(
        release__project__status__in=HIDDEN_PROJECT_STATUSES
    )


def find_visible_project(name: str) -> Project | None:
    """The visible project whose PEP 503 normalized name matches ``name``."""
    return visible_projects().filter(normalized_name=normalize_name(name)).first()


@dataclass(frozen=True, slots=True)
class SimpleProject:
    id: int
    name: str
    normalized_name: str
    last_serial: int
    status: str
    status_reason: str
    # It has files and no admin allowed merging upstream files into its page:
    # the local page answers alone, the upstream proxy is not asked (spec upstream.md).
    local_only: bool = True


_SIMPLE_PROJECT_SQL = None


def find_simple_project(normalized_name: str) -> SimpleProject | None:
    """The visible project with this (already normalized) name, as a small
    record: one indexed query, no model instance. Raw SQL because this runs on
    every simple page request and the ORM's query building costs more than the
    query itself."""
    global _SIMPLE_PROJECT_SQL
    if _SIMPLE_PROJECT_SQL is None:
        _SIMPLE_PROJECT_SQL = _simple_project_sql()
    row = _fetchone_optimistic(
        _SIMPLE_PROJECT_SQL,
        [True, normalized_name, *(s.value for s in HIDDEN_PROJECT_STATUSES)],
    )
    return SimpleProject(*row[:6], local_only=bool(row[6])) if row is not None else None


def _simple_project_sql() -> str:
    from packages.upstream.models import UpstreamAllowance

    def table(model) -> str:
        return connection.ops.quote_name(model._meta.db_table)

    release_id = File._meta.get_field("release").column
    project_id = Release._meta.get_field("project").column
    return (
        "SELECT p.id, p.name, p.normalized_name, p.last_serial, p.status, p.status_reason, "
        f"(EXISTS (SELECT 1 FROM {table(File)} f JOIN {table(Release)} r "
        f"ON f.{release_id} = r.id WHERE r.{project_id} = p.id) "
        f"AND NOT EXISTS (SELECT 1 FROM {table(UpstreamAllowance)} a "
        "WHERE a.normalized_name = p.normalized_name AND a.allow_merge = %s)) "
        f"FROM {table(Project)} p "
        "WHERE p.normalized_name = %s AND p.status NOT IN ("
        + ", ".join(["%s"] * len(HIDDEN_PROJECT_STATUSES)) + ")"
    )


def _fetchone_optimistic(sql: str, params: list):
    """Run a read-only query without Django's per-request health check.

    With CONN_HEALTH_CHECKS, Django sends ``SELECT 1`` before the first query
    of every request: on a cached simple page that is a second round trip
    and a quarter of the request's cost. This query is idempotent, so it runs
    straight away instead, and if the persistent connection turns out to be
    dead (server restart, idle timeout) it reconnects and runs once more: the
    same protection, one round trip. Inside a transaction nothing is retried."""
    retry = not connection.in_atomic_block
    if retry and connection.connection is not None:
        connection.health_check_done = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()
    except (InterfaceError, OperationalError):
        if not retry:
            raise
        connection.close()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()


@dataclass(frozen=True, slots=True)
class SimpleFile:
    filename: str
    path: str
    sha256: str
    requires_python: str
    size: int
    upload_time: datetime
    metadata_sha256: str
    version: str
    yanked: bool
    yanked_reason: str


def simple_project_files(project_id: int) -> list[SimpleFile]:
    """Every file of a project with the release data the simple pages show, in
    ONE query (files joined to releases), unsorted."""
    rows = File.objects.filter(
        release__project_id=project_id, release__quarantined=False
    ).values_list(
        "filename", "path", "sha256_digest", "requires_python", "release__requires_python",
        "size", "upload_time", "metadata_sha256", "release__version", "release__yanked",
        "release__yanked_reason",
    ).order_by()
    return [
        SimpleFile(
            filename, path, sha256, file_rp or release_rp, size, upload_time, metadata_sha256,
            version, yanked, yanked_reason,
        )
        for (
            filename, path, sha256, file_rp, release_rp, size, upload_time, metadata_sha256,
            version, yanked, yanked_reason,
        ) in rows
    ]


def simple_index_rows(chunk_size: int = 5000):
    """(name, normalized_name, last_serial) of every visible project ordered by
    normalized name, streamed from the database in chunks (never a list of
    model objects: the index may hold hundreds of thousands of projects)."""
    return (
        visible_projects()
        .order_by("normalized_name")
        .values_list("name", "normalized_name", "last_serial")
        .iterator(chunk_size=chunk_size)
    )


@dataclass(frozen=True, slots=True)
class ServedFile:
    filename: str
    path: str
    packagetype: str
    python_version: str
    size: int
    sha256: str
    upload_time: datetime
    metadata_sha256: str
    version: str
    project: str  # normalized name


def find_served_file(path: str) -> ServedFile | None:
    """The file stored at ``path`` if its row exists and it is visible (a
    quarantined or pending project's files, and a quarantined release's, are not served)."""
    row = (
        visible_files().filter(path=path)
        .values_list(
            "filename", "path", "packagetype", "python_version", "size", "sha256_digest",
            "upload_time", "metadata_sha256", "release__version",
            "release__project__normalized_name",
        )
        .first()
    )
    return ServedFile(*row) if row is not None else None


def find_visible_file_path(project_name: str, filename: str, python_version: str) -> str | None:
    """Storage path of a visible project's file with this exact filename and
    python_version (``source`` for sdists): the "conveyor" predictable URLs."""
    return (
        visible_files().filter(
            filename=filename,
            python_version=python_version,
            release__project__normalized_name=normalize_name(project_name),
        )
        .values_list("path", flat=True)
        .first()
    )
