"""PyPI's JSON API: ``/pypi/<name>/json`` and ``/pypi/<name>/<version>/json``.

Each response body is built once per project serial: the rendered bytes and
their ETag are cached under a key holding the project's ``last_serial`` (see
api/caching.py), so any journaled change (upload, yank, role change...) makes
the next request rebuild it. A rebuild costs a fixed number of queries whatever
the number of releases and files. A document already cached is answered on the
hot path (``cached_document_answer``, see api/urls.py), before DRF.
"""

from urllib.parse import quote

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.http import HttpResponsePermanentRedirect
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from packaging.utils import canonicalize_version
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.views import APIView

from api.caching import (
    PROJECT_ROUTE,
    Miss,
    cached_document,
    document_key,
    find_cached,
    release_route,
)
from api.renderers import PyPIJSONRenderer
from api.serializers import (
    NotFoundSerializer,
    ProjectDocumentSerializer,
    ReleaseDocumentSerializer,
    upstream_document,
)
from packages.cache.keys import project_key
from packages.errors import DomainError
from packages.http.cache_policy import JSON_DOCUMENT, apply_cache_policy, upstream_page_policy
from packages.http.conditional import conditional_response, md5_etag
from packages.http.cors import cors
from packages.http.errors import domain_error_response, not_found
from packages.http.pypi_json import render_json
from packages.models import File, Project, Release, Role
from packages.names import normalize_name
from packages.queries import find_simple_project, find_visible_project
from packages.storage import stored_url
from packages.upstream.errors import UpstreamNotFound
from packages.upstream.pages import resolve_project
from packages.upstream.purges import UPSTREAM_PAGES
from packages.upstream.renderings import RenderingHit, RenderingMiss, find_rendering, keep_rendering
from packages.versions import find_release, latest_index

NOT_FOUND_BODY = b'{"message": "Not Found"}'

FILE_COLUMNS = (
    "release_id",
    "filename",
    "packagetype",
    "python_version",
    "size",
    "md5_digest",
    "sha256_digest",
    "blake2_256_digest",
    "upload_time",
    "path",
    "comment_text",
    "metadata_sha256",
    "release__yanked",
    "release__yanked_reason",
    "release__requires_python",
)


def json_not_found():
    return not_found(body=NOT_FOUND_BODY, content_type="application/json")


def _file_url_builder():
    """Storage path -> public URL: the index's own /packages/ route for local
    storage, the storage's URL (possibly signed) for S3."""
    if settings.INDEX_STORAGE == "s3":
        return stored_url
    prefix = settings.INDEX_BASE_URL + "/"
    return lambda path: prefix + path


def _cache_timeout():
    # Signed S3 URLs expire: never keep a body longer than half their lifetime.
    if settings.INDEX_STORAGE == "s3" and getattr(settings, "AWS_QUERYSTRING_AUTH", False):
        return max(60, settings.AWS_QUERYSTRING_EXPIRE // 2)
    return DEFAULT_TIMEOUT


def _roles(project) -> list[tuple[str, str | None, str | None]]:
    """(role name, username, team name) of every role on the project, in one query."""
    username = f"user__{get_user_model().USERNAME_FIELD}"
    return list(
        Role.objects.filter(project=project).values_list("role_name", username, "group__name")
    )


def _file_rows(**filters) -> list[dict]:
    rows = list(File.objects.filter(**filters).order_by().values(*FILE_COLUMNS))
    # Byte (code point) order, whatever the database collation.
    rows.sort(key=lambda row: row["filename"])
    return rows


def _load_release(project, pk) -> Release:
    release = Release.objects.defer("description_html").get(pk=pk)
    release.project = project
    return release


def project_document(project) -> dict | None:
    """Everything /pypi/<name>/json shows, in five queries; None without releases."""
    # A quarantined release is hidden from every API (its project is visible).
    releases = list(Release.objects.filter(project=project, quarantined=False).order_by()
                    .values_list("id", "version", "yanked"))
    if not releases:
        return None
    latest = latest_index([(version, yanked) for _, version, yanked in releases])
    return {
        "release": _load_release(project, releases[latest][0]),
        "last_serial": project.last_serial,
        "roles": _roles(project),
        "versions": {pk: version for pk, version, _ in releases},
        "files": _file_rows(release__project=project, release__quarantined=False),
    }


def release_document(project, version: str) -> dict | None:
    release = find_release(project, version)
    if release is None or release.quarantined:
        return None
    return {
        "release": release,
        "last_serial": project.last_serial,
        "roles": _roles(project),
        "files": _file_rows(release=release),
    }


def _cache_headers(response, normalized_name: str, surrogate_keys):
    return apply_cache_policy(
        response, JSON_DOCUMENT, [*surrogate_keys, project_key(normalized_name)]
    )


def document_response(request, body, etag, *, last_serial, normalized_name, surrogate_keys):
    """The 200 (or the 304) of a document; ``body`` None when already known to be a 304."""
    response = conditional_response(
        request, body, etag=etag, content_type=PyPIJSONRenderer.media_type
    )
    response["X-PyPI-Last-Serial"] = str(last_serial)
    # As XFrameOptionsMiddleware would: the hot path answers before it.
    response["X-Frame-Options"] = "DENY"
    return _cache_headers(response, normalized_name, surrogate_keys)


PROJECT_SURROGATE_KEYS = ("all-legacy-json", "project-legacy-json")
RELEASE_SURROGATE_KEYS = ("all-legacy-json", "release-legacy-json")


@cors
def cached_document_answer(request, name: str, version: str | None = None, slash: str = ""):
    """The hot path (packages.http.hot_path): a document already in the cache is
    answered with one indexed query (the project row: serial and visibility) and
    one small cache read, skipping the session/CSRF/auth/messages middleware and
    DRF's request machinery that these responses never use. The bytes and
    headers are the view's; None (a miss, a redirect, a 404) goes to the view."""
    if normalize_name(name) != name:
        return None  # the view redirects
    project = find_simple_project(name)
    if project is None:
        # A kept upstream project's document, when its rendering is cached.
        cached = find_rendering(name, _upstream_kind(version))
        return _rendering_answer(request, cached, name) if isinstance(cached, RenderingHit) \
            else None
    route = PROJECT_ROUTE if version is None else release_route(version)
    found = find_cached(
        document_key(project.id, project.last_serial, route), project.normalized_name,
        if_none_match=request.META.get("HTTP_IF_NONE_MATCH", ""),
    )
    if isinstance(found, Miss):
        request.json_api_project = project  # the view builds without looking it up again
        return None
    body, etag = found
    return document_response(
        request, body, etag, last_serial=project.last_serial,
        normalized_name=project.normalized_name,
        surrogate_keys=PROJECT_SURROGATE_KEYS if version is None else RELEASE_SURROGATE_KEYS,
    )


def _visible_project(request, name: str) -> Project | None:
    """The visible project named ``name`` (any spelling); the row the hot path
    already read when it missed the cache, as a read-only instance."""
    row = getattr(request, "json_api_project", None)
    if row is not None and row.normalized_name == name:
        project = Project(
            id=row.id, name=row.name, normalized_name=row.normalized_name,
            last_serial=row.last_serial, status=row.status, status_reason=row.status_reason,
        )
        project._state.adding = False
        return project
    return find_visible_project(name)


# Part of the key of a cached upstream document: bump when its bytes change for
# the same page.
UPSTREAM_JSON_RENDER = "1"


def upstream_json(request, name: str, version: str | None = None):
    """The document of a kept upstream project (no local one has the name), from
    its page as the simple API serves it: the same filters (blocks, approval,
    cooldown, quarantine), and the same cache of renderings: kept until a purge,
    its revalidation or a cooldown's end (packages/upstream/renderings.py)."""
    normalized = normalize_name(name)
    kind = _upstream_kind(version)
    cached = find_rendering(normalized, kind)
    if isinstance(cached, RenderingHit):
        if name != normalized:
            return _upstream_json_redirect(normalized, version)
        if (response := _rendering_answer(request, cached, normalized)) is not None:
            return response
        cached = RenderingMiss(cached.generations)  # the body was evicted
    try:
        resolution = resolve_project(normalized)
    except UpstreamNotFound:
        return json_not_found()
    except DomainError as exc:  # 502/503 (fetch slots taken)/504, naming the upstream
        return domain_error_response(exc)
    page = resolution.page
    if resolution.source != "upstream" or not page.versions:
        return json_not_found()
    if name != normalized:
        return _upstream_json_redirect(normalized, version)
    whole_project = version is None
    if whole_project:
        yanked = [all(f.yanked for f in page.files if f.version == v) for v in page.versions]
        shown = page.versions[latest_index(list(zip(page.versions, yanked, strict=True)))]
    else:
        wanted = canonicalize_version(version)
        shown = next((v for v in page.versions
                      if v == version or canonicalize_version(v) == wanted), None)
        if shown is None:
            return json_not_found()
    body = render_json(upstream_document(page, shown, base_url=settings.INDEX_BASE_URL,
                                         project=whole_project))
    etag = md5_etag(body)
    if whole_project or shown == version:
        # Another spelling of the version is not kept: URLs cannot grow the cache.
        keep_rendering(cached, page, kind, body=body, etag=etag, serial=page.last_serial)
    return _upstream_json_response(request, body, etag=etag, serial=page.last_serial,
                                   name=normalized, shown_until=page.shown_until)


def _upstream_kind(version: str | None) -> str:
    return (f"json:{UPSTREAM_JSON_RENDER}:{settings.INDEX_BASE_URL}:"
            f"{'' if version is None else version}")


def _rendering_answer(request, cached: RenderingHit, normalized: str):
    """The cached document (or a 304); None when its body was evicted."""
    found, body = cached.reply(request)
    if not found:
        return None
    return _upstream_json_response(request, body, etag=cached.etag, serial=cached.serial,
                                   name=normalized, shown_until=cached.shown_until)


def _upstream_json_redirect(normalized: str, version: str | None):
    tail = "json" if version is None else f"{quote(version, safe='!+~')}/json"
    return HttpResponsePermanentRedirect(f"{settings.INDEX_BASE_URL}/pypi/{normalized}/{tail}")


def _upstream_json_response(request, body, *, etag, serial, name, shown_until):
    response = conditional_response(request, body, etag=etag,
                                    content_type=PyPIJSONRenderer.media_type)
    if serial is not None:
        response["X-PyPI-Last-Serial"] = str(serial)
    response["X-Frame-Options"] = "DENY"
    # UPSTREAM_PAGES too, as on its simple page: a change that may move every
    # upstream page (an upstream reordered, a reserved prefix) purges it.
    return apply_cache_policy(response, upstream_page_policy(shown_until),
                              [project_key(name), UPSTREAM_PAGES])


class _NoNegotiation(BaseContentNegotiation):
    """PyPI answers JSON whatever the Accept header says (never a 406)."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


_NAME = OpenApiParameter(
    "name",
    str,
    OpenApiParameter.PATH,
    required=True,
    pattern=r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$",
    description="Project name, any spelling; non-normalized spellings redirect.",
    examples=[OpenApiExample("sampleproject", value="sampleproject")],
)
_VERSION = OpenApiParameter(
    "version",
    str,
    OpenApiParameter.PATH,
    required=True,
    pattern=r"^[A-Za-z0-9!+._-]+$",
    description="Version, any spelling with the same canonical form (1 = 1.0 = 1.0.0).",
    examples=[OpenApiExample("1.0.0", value="1.0.0")],
)
_HEADERS = [
    OpenApiParameter(
        "X-PyPI-Last-Serial", OpenApiTypes.INT, OpenApiParameter.HEADER, response=[200, 304],
        description="The project's last journal serial.",
    ),
    OpenApiParameter(
        "ETag", str, OpenApiParameter.HEADER, response=[200, 304],
        description="Quoted base64 MD5 of the body; send it back in If-None-Match.",
    ),
    OpenApiParameter(
        "Cache-Control", str, OpenApiParameter.HEADER, response=[200, 301, 304],
    ),
]
_ERRORS = {
    301: OpenApiResponse(description="The name is not normalized; Location has the URL."),
    304: OpenApiResponse(description="If-None-Match matched the current ETag."),
    404: OpenApiResponse(NotFoundSerializer, description='Always {"message": "Not Found"}.'),
}


class _PyPIJSONView(APIView):
    renderer_classes = [PyPIJSONRenderer]
    content_negotiation_class = _NoNegotiation
    authentication_classes: list = []
    permission_classes: list = []
    throttle_classes: list = []
    metadata_class = None  # no OPTIONS body: only GET/HEAD are offered
    surrogate_keys: tuple[str, ...] = ()
    serializer_class = None

    @property
    def default_response_headers(self):
        return {}

    def _redirect(self, project, path: str):
        response = HttpResponsePermanentRedirect(settings.INDEX_BASE_URL + path)
        return _cache_headers(response, project.normalized_name, self.surrogate_keys)

    def _serve(self, request, project, route: str, build):
        """The cached body for ``route`` at the project's serial, or a 404."""

        def render():
            document = build()
            if document is None:
                return None
            serializer = self.serializer_class(
                document,
                context={"base_url": settings.INDEX_BASE_URL, "file_url": _file_url_builder()},
            )
            body = PyPIJSONRenderer().render(serializer.data)
            return body, md5_etag(body)

        found = cached_document(
            document_key(project.pk, project.last_serial, route),
            normalized_name=project.normalized_name,
            if_none_match=request.headers.get("If-None-Match", ""),
            build=render,
            timeout=_cache_timeout(),
        )
        if found is None:
            return json_not_found()
        body, etag = found
        return document_response(
            request, body, etag, last_serial=project.last_serial,
            normalized_name=project.normalized_name, surrogate_keys=self.surrogate_keys,
        )


class ProjectJSONView(_PyPIJSONView):
    serializer_class = ProjectDocumentSerializer
    surrogate_keys = PROJECT_SURROGATE_KEYS

    @extend_schema(
        operation_id="project_json",
        summary="A project, its latest release and every release's files",
        parameters=[_NAME, *_HEADERS],
        responses={200: ProjectDocumentSerializer, **_ERRORS},
    )
    def get(self, request, name: str, slash: str = ""):
        project = _visible_project(request, name)
        if project is None:
            return upstream_json(request, name)
        if name != project.normalized_name:
            return self._redirect(project, f"/pypi/{project.normalized_name}/json{slash}")
        return self._serve(request, project, PROJECT_ROUTE, lambda: project_document(project))


class ReleaseJSONView(_PyPIJSONView):
    serializer_class = ReleaseDocumentSerializer
    surrogate_keys = RELEASE_SURROGATE_KEYS

    @extend_schema(
        operation_id="release_json",
        summary="One release of a project and its files",
        parameters=[_NAME, _VERSION, *_HEADERS],
        responses={200: ReleaseDocumentSerializer, **_ERRORS},
    )
    def get(self, request, name: str, version: str, slash: str = ""):
        project = _visible_project(request, name)
        if project is None:
            return upstream_json(request, name, version)
        if name != project.normalized_name:
            return self._redirect(
                project,
                f"/pypi/{project.normalized_name}/{quote(version, safe='!+~')}/json{slash}",
            )
        return self._serve(
            request, project, release_route(version), lambda: release_document(project, version)
        )
