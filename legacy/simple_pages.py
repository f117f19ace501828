"""Rendering and caching of the simple repository pages (PEP 503/691).

Pages are built by hand (no templates, no serializers): this is the hot path
pip and uv hit once per requirement. Rendered bytes are cached in the shared
cache and in this process's LRU (packages.http.shared_cache), keyed by what
determines them: the project's last journal serial and status (detail), the
index serial and the ``all-projects`` generation (index), or for a page of the
upstream proxy its kept copy, purge generations and clock deadlines (see
packages/upstream/renderings.py). A change writes a journal entry or is
purged, so the next request misses and re-renders; nothing has to be deleted.

HTML follows PyPI's template (attribute order and escaping as Jinja's
autoescape); JSON follows PyPI's renderer (sorted keys, compact, UTF-8, one
trailing newline), so bodies are byte-stable.
"""

import itertools
import json
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from urllib.parse import quote

from legacy.negotiation import TEXT_HTML, V1_HTML, V1_JSON
from packages.cache.keys import ALL_PROJECTS
from packages.http import shared_cache
from packages.http.pypi_json import render_json
from packages.queries import SimpleFile, SimpleProject, simple_index_rows, simple_project_files
from packages.upstream.renderings import (
    RenderingHit,
    RenderingMiss,
    find_rendering,
    keep_rendering,
)
from packages.versions import sort_key

API_VERSION = "1.4"
# Bump when the rendered bytes change for the same data (part of keys and ETags).
RENDER_VERSION = "2"  # 2: non-PEP 440 versions in packaging_legacy order

_KIND = {TEXT_HTML: "h", V1_HTML: "v", V1_JSON: "j"}

_HTML_ESCAPES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&#34;", "'": "&#39;"}
)
_json_string = json.encoder.encode_basestring  # the C implementation when available


_has_html_special = re.compile("[&<>\"']").search


def escape(text: str) -> str:
    """HTML-escape as markupsafe (Jinja autoescape) does."""
    return text.translate(_HTML_ESCAPES)


def file_url(path: str) -> str:
    """Root-relative URL of a stored file (PEP 503 allows relative URLs; links
    then follow the host the client used, and credentials given in the index
    URL apply to files too). /packages/ is served by legacy.files."""
    return "/" + quote(path, safe="/+!~@:")


def _upload_time(value) -> str:
    # PyPI: isoformat() of naive UTC plus "Z" (no fraction when microseconds are 0).
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat() + "Z"


def _sorted_files(files: list[SimpleFile]) -> list[SimpleFile]:
    # PyPI's version order (legacy strings first), each version parsed once per
    # page; equal versions (1.0, 1.0.0) by their text, so the bytes are stable.
    keys = {version: (sort_key(version), version) for version in {f.version for f in files}}
    return sorted(files, key=lambda f: (keys[f.version], f.filename))


def _versions(sorted_files: list[SimpleFile]) -> list[str]:
    # PEP 700 on PyPI: the versions that have files, ascending (the files' order).
    return list(dict.fromkeys(f.version for f in sorted_files))


# --- detail pages ---------------------------------------------------------------


def render_detail(project: SimpleProject, media_type: str) -> bytes:
    files = _sorted_files(simple_project_files(project.id))
    if media_type == V1_JSON:
        return _detail_json(project, files)
    return _detail_html(project, files)


def _detail_html(project: SimpleProject, files: list[SimpleFile]) -> bytes:
    name = escape(project.normalized_name)
    out = [
        "<!DOCTYPE html>\n<html lang=\"en\">\n  <head>\n"
        f'    <meta name="pypi:repository-version" content="{API_VERSION}">\n'
        f'    <meta name="pypi:project-status" content="{escape(project.status)}">\n'
    ]
    if project.status_reason:
        out.append(
            '    <meta name="pypi:project-status-reason" '
            f'content="{escape(project.status_reason)}">\n'
        )
    out.append(
        f"    <title>Links for {name}</title>\n  </head>\n  <body>\n"
        f"    <h1>Links for {name}</h1>\n"
    )
    for f in files:
        attrs = f'<a href="{escape(file_url(f.path))}#sha256={f.sha256}" '
        if f.requires_python:
            attrs += f'data-requires-python="{escape(f.requires_python)}" '
        if f.yanked:
            attrs += f'data-yanked="{escape(f.yanked_reason)}" '
        if f.metadata_sha256:
            attrs += (
                f'data-dist-info-metadata="sha256={f.metadata_sha256}" '
                f'data-core-metadata="sha256={f.metadata_sha256}"'
            )
        out.append(f"{attrs}>{escape(f.filename)}</a><br />\n")
    out.append("</body>\n</html>\n")
    if project.last_serial is not None:  # an upstream may send no serial
        out.append(f"<!--SERIAL {project.last_serial}-->")
    return "".join(out).encode()


def _detail_json(project: SimpleProject, files: list[SimpleFile]) -> bytes:
    status = {"status": project.status}
    if project.status_reason:
        status["reason"] = project.status_reason
    meta = {"api-version": API_VERSION}
    if project.last_serial is not None:
        meta["_last-serial"] = project.last_serial
    data = {
        "meta": meta,
        "name": project.normalized_name,
        "project-status": status,
        "versions": _versions(files),
        "files": [
            {
                "filename": f.filename,
                "url": file_url(f.path),
                "hashes": {"sha256": f.sha256},
                "requires-python": f.requires_python or None,
                "size": f.size,
                **({"upload-time": _upload_time(f.upload_time)} if f.upload_time else {}),
                "yanked": (f.yanked_reason or True) if f.yanked else False,
                # PEP 714: the historic key stays for older clients; never the
                # key "dist-info-metadata" (older pip crashes on it).
                "core-metadata": {"sha256": f.metadata_sha256} if f.metadata_sha256 else False,
                "data-dist-info-metadata": (
                    {"sha256": f.metadata_sha256} if f.metadata_sha256 else False
                ),
                "provenance": None,
            }
            for f in files
        ],
    }
    return render_json(data)


# --- upstream and merged pages ----------------------------------------------------


@dataclass(frozen=True)
class PageHead:
    """What a page shows besides its files (a SimpleProject has the same fields)."""

    normalized_name: str
    status: str
    status_reason: str
    last_serial: int | None


def render_resolved(head, upstream_files: list, media_type: str, *,
                    local_project_id: int | None = None) -> bytes:
    """An upstream page (``upstream_files`` are PageFiles, already filtered and
    sorted), or a merged one: the local project's files plus the upstream files
    whose filename it does not have (the local file wins)."""
    files = list(upstream_files)
    if local_project_id is not None:
        local = simple_project_files(local_project_id)
        names = {f.filename for f in local}
        files = _sorted_files(local + [f for f in files if f.filename not in names])
    if media_type == V1_JSON:
        return _detail_json(head, files)
    return _detail_html(head, files)


def _detail_token(project: SimpleProject, media_type: str) -> str:
    # Everything the bytes depend on besides the files, which the serial covers.
    # The status is included because a curation change need not journal.
    reason = f"{zlib.crc32(project.status_reason.encode()):08x}" if project.status_reason else ""
    return (
        f"{project.last_serial}-{project.status}{reason}-{_KIND[media_type]}{RENDER_VERSION}"
    )


def detail_etag(project: SimpleProject, media_type: str) -> str:
    return f'"p{_detail_token(project, media_type)}"'


def detail_body(project: SimpleProject, media_type: str) -> bytes:
    """The rendered page, from this process's LRU, the shared cache, or rendered."""
    # The name is part of the key because SQLite may reuse ids after a rollback.
    name = f"{zlib.crc32(project.normalized_name.encode()):08x}"
    key = f"simple:d:{project.id}:{name}:{_detail_token(project, media_type)}"
    return shared_cache.cached_body(key, lambda: render_detail(project, media_type))


# --- cached upstream and merged pages ---------------------------------------------
#
# Kept by packages/upstream/renderings.py (what they depend on, how a hit is
# checked), under the representation and, for a merged page, the local project.


def _upstream_kind(media_type: str) -> str:
    return f"simple:{RENDER_VERSION}{_KIND[media_type]}"


def _local_token(project: SimpleProject | None) -> str:
    # A merged page shows the local project's files and status; an upstream page
    # is shown only while no visible local project has files (None, or local_only
    # false: then its serial moves when files come).
    if project is None:
        return "-"
    reason = f"{zlib.crc32(project.status_reason.encode()):08x}"
    return f"{project.id}.{project.last_serial}.{project.status}.{reason}"


def find_upstream_page(normalized_name: str, project: SimpleProject | None,
                       media_type: str) -> RenderingHit | RenderingMiss:
    """The cached rendering of this name's upstream (or merged) page, if it is
    still current: one round trip of the shared cache, no query."""
    return find_rendering(normalized_name, _upstream_kind(media_type), _local_token(project))


def keep_upstream_page(miss: RenderingMiss, project: SimpleProject | None, page,
                       media_type: str, *, body: bytes, etag: str, serial) -> None:
    """Store a page rendered after ``miss``; ``page`` is its UpstreamPage."""
    keep_rendering(miss, page, _upstream_kind(media_type), _local_token(project),
                   body=body, etag=etag, serial=serial)


# --- the index ----------------------------------------------------------------


def index_generation(upstream_names: list[str] = ()) -> str:
    """Bumped by a purge of ``all-projects`` (a change that shows in the index
    without a journal entry, e.g. a curation change), so the index re-renders;
    with a checksum of the kept upstream names, which change without either."""
    purged = shared_cache.generation(ALL_PROJECTS) or 0
    if not upstream_names:
        return str(purged)
    return f"{purged}u{zlib.crc32(chr(10).join(upstream_names).encode()):08x}"


def index_etag(serial: int, generation: str, media_type: str) -> str:
    return f'"i{serial}.{generation}-{_KIND[media_type]}{RENDER_VERSION}"'


def index_key(serial: int, generation: str, media_type: str) -> str:
    return f"simple:i:{RENDER_VERSION}:{_KIND[media_type]}:{serial}:{generation}"


def cached_index(key: str) -> bytes | None:
    return shared_cache.find_body(key)


def stream_index(key: str, serial: int, media_type: str,
                 upstream_names: list[str] = ()) -> Iterator[bytes]:
    """Render the index from a streamed query, yielding chunks as they are
    built; the complete body is cached once the last chunk is out. The kept
    upstream projects a local one does not shadow come after the local ones."""
    chunks: list[bytes] = []
    for chunk in _index_chunks(serial, media_type, upstream_names):
        chunks.append(chunk)
        yield chunk
    shared_cache.keep_body(key, b"".join(chunks))


def _index_chunks(serial: int, media_type: str, upstream_names: list[str] = (),
                  per_chunk: int = 20000) -> Iterator[bytes]:
    """The index body in chunks of ``per_chunk`` projects. At 700,000 projects
    the per-row Python work is what a cold render costs beyond the query, so
    each chunk is one list comprehension over a batch of rows, and the HTML
    escaping (a ``str.translate`` per name: 2.4 s of 6.9) only runs for a
    batch that has a character to escape (a valid project name has none)."""
    rows = simple_index_rows(chunk_size=per_chunk)
    if upstream_names:
        rows = _with_upstream(rows, upstream_names)
    batches = iter(lambda: list(itertools.islice(rows, per_chunk)), [])
    if media_type == V1_JSON:
        meta = render_json({"_last-serial": serial, "api-version": API_VERSION}).rstrip(b"\n")
        head = '{"meta":' + meta.decode() + ',"projects":['
        sep = ""
        for batch in batches:
            entries = ",".join([
                f'{{"name":{_json_string(name)}}}' if last_serial is None
                else f'{{"_last-serial":{last_serial},"name":{_json_string(name)}}}'
                for name, _normalized, last_serial in batch
            ])
            yield (head + sep + entries).encode()
            head, sep = "", ","
        yield (head + "]}\n").encode()
        return
    head = (
        "<!DOCTYPE html>\n<html lang=\"en\">\n  <head>\n"
        f'    <meta name="pypi:repository-version" content="{API_VERSION}">\n'
        "    <title>Simple index</title>\n  </head>\n  <body>\n"
    )
    for batch in batches:
        if _has_html_special("".join([name + normalized for name, normalized, _ in batch])):
            lines = [f'<a href="/simple/{escape(normalized)}/">{escape(name)}</a>\n'
                     for name, normalized, _ in batch]
        else:
            lines = [f'<a href="/simple/{normalized}/">{name}</a>\n'
                     for name, normalized, _ in batch]
        yield (head + "".join(lines)).encode()
        head = ""
    yield (head + "</body>\n</html>\n").encode()


def _with_upstream(rows, upstream_names: list[str]) -> Iterator[tuple]:
    """The local rows, then (name, name, None) for each kept upstream project
    whose name no local project has (no serial of this index to show)."""
    shadowed, wanted = set(), set(upstream_names)  # never a set of every local name
    for row in rows:
        if row[1] in wanted:
            shadowed.add(row[1])
        yield row
    for name in upstream_names:
        if name not in shadowed:
            yield name, name, None
