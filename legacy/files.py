"""Serving distribution files and their PEP 658 ``.metadata`` under /packages/.

Only a file whose File row exists and whose project is visible is served (a
stray object in storage, a deleted file or a quarantined project gives 404).
How the bytes leave depends on the deployment:

* S3 storage: 302 to the storage URL (signed when AWS_QUERYSTRING_AUTH is on);
  a Python worker never streams the object.
* Local storage behind nginx (INDEX_FILES_ACCEL_REDIRECT set): an empty
  response with ``X-Accel-Redirect``; nginx sends the file, ranges included.
  See the nginx snippet in bench/README.md ("Serving files with nginx").
* Embedded default: streamed in chunks by Django, with single-range support
  (``bytes=a-b``, ``bytes=a-``, ``bytes=-n``): uv and pip read wheel metadata
  with ranges. Never Content-Encoding on distributions; always Content-Length.
"""

from urllib.parse import quote

from django.conf import settings
from django.http import (
    FileResponse,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseNotModified,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.utils.http import http_date

from packages.errors import DomainError
from packages.http.cache_policy import (
    FILE,
    FILE_PREDICTABLE_REDIRECT,
    FILE_STORAGE_REDIRECT,
    apply_cache_policy,
)
from packages.http.conditional import client_has
from packages.http.cors import FILE_CORS_HEADERS, cors
from packages.http.errors import domain_error_response, not_found
from packages.queries import ServedFile, find_served_file, find_visible_file_path
from packages.storage import open_stored, stored_url
from packages.upstream.errors import UpstreamNotFound
from packages.upstream.files import FileStream, fetch_file, find_kept_file

CHUNK_SIZE = 256 * 1024
METADATA_SUFFIX = ".metadata"


def content_type_for(filename: str) -> str:
    if filename.endswith(METADATA_SUFFIX):
        return "text/plain; charset=utf-8"
    if filename.endswith((".whl", ".zip", ".egg")):
        return "application/zip"
    if filename.endswith((".tar.gz", ".tgz")):
        return "application/gzip"
    if filename.endswith(".tar.bz2"):
        return "application/x-bzip2"
    return "application/octet-stream"


@cors(headers=FILE_CORS_HEADERS)
def serve(request, path: str):
    """GET/HEAD ``/packages/<path>``; OPTIONS answers a CORS preflight."""
    if request.method == "OPTIONS":
        return HttpResponse(status=204)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD", "OPTIONS"])
    stored_path = "packages/" + path
    served = _lookup(stored_path)
    if served is None:
        return not_found()
    file, is_metadata = served
    if is_metadata:
        size, digest, content_type = None, file.metadata_sha256, content_type_for(stored_path)
    else:
        size, digest, content_type = file.size, file.sha256, content_type_for(file.filename)
    headers = {"X-PyPI-File-Project": file.project, "X-PyPI-File-Version": file.version,
               "X-PyPI-File-Package-Type": file.packagetype,
               "X-PyPI-File-Python-Version": file.python_version}
    return _serve_stored(request, stored_path, size=size, digest=digest,
                         content_type=content_type, upload_time=file.upload_time,
                         headers=headers)


@cors(headers=FILE_CORS_HEADERS)
def serve_upstream(request, path: str):
    """GET/HEAD ``/packages/upstream/<path>``: a file of an upstream page (or its
    .metadata). A kept copy is served like a local file; the first download is
    streamed from the upstream while packages.upstream.files stores and checks it."""
    if request.method == "OPTIONS":
        return HttpResponse(status=204)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD", "OPTIONS"])
    stored_path = "packages/" + path
    try:
        found = fetch_file(stored_path) if request.method == "GET" else _kept_or_fetched(
            stored_path)
    except UpstreamNotFound:
        return not_found()
    except DomainError as exc:  # 502/503 (fetch slots taken)/504, naming the upstream
        return domain_error_response(exc)
    headers = {"X-PyPI-File-Project": found.project, "X-PyPI-File-Version": found.version}
    if isinstance(found, FileStream):
        response = StreamingHttpResponse(found, content_type=content_type_for(found.filename))
        if found.size is not None:
            response["Content-Length"] = str(found.size)
        _file_headers(response, f'"{found.sha256}"', found.upload_time, headers)
        return response
    content_type = content_type_for(found.path if found.is_metadata else found.filename)
    return _serve_stored(request, found.path, size=found.size, digest=found.sha256,
                         content_type=content_type, upload_time=found.upload_time,
                         headers=headers)


def _kept_or_fetched(stored_path: str):
    # HEAD has no body to stream: the file is fetched (and checked) whole first.
    return find_kept_file(stored_path) or fetch_file(stored_path, stream=False)


def _serve_stored(request, stored_path: str, *, size, digest: str, content_type: str,
                  upload_time, headers: dict):
    """A stored file (local or a kept upstream copy), as the deployment serves them."""
    etag = f'"{digest}"'
    if settings.INDEX_STORAGE == "s3":
        return apply_cache_policy(HttpResponseRedirect(stored_url(stored_path)),
                                  FILE_STORAGE_REDIRECT)

    if client_has(request, etag):
        response = HttpResponseNotModified()  # no Content-Type (see legacy.simple)
    elif settings.INDEX_FILES_ACCEL_REDIRECT:
        response = HttpResponse(content_type=content_type)
        prefix = settings.INDEX_FILES_ACCEL_REDIRECT.rstrip("/")
        response["X-Accel-Redirect"] = f"{prefix}/{quote(stored_path)}"
    else:
        try:
            handle = open_stored(stored_path)
        except FileNotFoundError:
            return not_found()
        if size is None:
            size = handle.size
        response = _file_response(request, handle, size, etag, content_type)
    _file_headers(response, etag, upload_time, headers)
    return response


@cors(headers=FILE_CORS_HEADERS)
def redirect_predictable(request, python_version: str, letter: str, project: str,
                         filename: str):
    """``/packages/<python_version>/<first letter>/<project>/<filename>``: 302 to the
    file's hashed URL (PyPI's "conveyor"; exact filename match, as PyPI's)."""
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    if filename.endswith(".asc"):
        return not_found(headers={"Reason": "missing signature file"})
    if letter not in (project[:1], project[:1].lower()):
        return not_found(headers={"Reason": "Incorrect project bucket"})
    path = find_visible_file_path(project, filename, python_version)
    if path is None:
        return not_found(headers={"Reason": "no file found"})
    return apply_cache_policy(HttpResponseRedirect("/" + quote(path)), FILE_PREDICTABLE_REDIRECT)


def _lookup(stored_path: str) -> tuple[ServedFile, bool] | None:
    file = find_served_file(stored_path)
    if file is not None:
        return file, False
    if stored_path.endswith(METADATA_SUFFIX):
        file = find_served_file(stored_path[: -len(METADATA_SUFFIX)])
        if file is not None and file.metadata_sha256:
            return file, True
    return None


def _file_headers(response, etag: str, upload_time, headers: dict) -> None:
    response.headers["ETag"] = etag
    response.headers["Last-Modified"] = http_date(upload_time.timestamp())
    apply_cache_policy(response, FILE)
    response.headers["Accept-Ranges"] = "bytes"
    for name, value in headers.items():
        response.headers[name] = value


def _file_response(request, handle, size: int, etag: str, content_type: str):
    byte_range = _requested_range(request, size, etag)
    if byte_range == "unsatisfiable":
        handle.close()
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return response
    if byte_range is None:
        response = FileResponse(handle, content_type=content_type)
        response["Content-Length"] = str(size)
        return response
    start, end = byte_range
    response = StreamingHttpResponse(
        _FileRange(handle, start, end - start + 1), status=206, content_type=content_type
    )
    response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Content-Length"] = str(end - start + 1)
    return response


def _requested_range(request, size: int, etag: str):
    """(first, last) byte positions of a single satisfiable range, None to send
    the whole file (no Range, a multi-range, a syntax we do not honour, or an
    If-Range that does not match), or "unsatisfiable"."""
    header = request.META.get("HTTP_RANGE", "").strip()
    if not header:
        return None
    if_range = request.META.get("HTTP_IF_RANGE")
    if if_range is not None and if_range.strip() != etag:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, sep, last = spec.strip().partition("-")
    if not sep:
        return None
    try:
        if first == "":  # suffix range: the last N bytes
            length = int(last)
            if length < 0:
                return None
            if length == 0 or size == 0:
                return "unsatisfiable"
            return max(size - length, 0), size - 1
        start = int(first)
        end = int(last) if last != "" else size - 1
    except ValueError:
        return None
    if start >= size:
        return "unsatisfiable"
    if start < 0 or end < start:
        return None
    return start, min(end, size - 1)


class _FileRange:
    """Iterate over ``length`` bytes of ``handle`` from ``start`` in chunks;
    Django calls close() when the response is done."""

    def __init__(self, handle, start: int, length: int):
        self._handle = handle
        self._start = start
        self._remaining = length

    def __iter__(self):
        self._handle.seek(self._start)
        while self._remaining > 0:
            chunk = self._handle.read(min(CHUNK_SIZE, self._remaining))
            if not chunk:
                break
            self._remaining -= len(chunk)
            yield chunk

    def close(self):
        self._handle.close()
