"""The upstream proxy (issue 12; rules in shared/spec/upstream.md): projects this
index does not hold are served from other simple-API indexes, kept, curated.

The API for the read side (views stay thin; everything here is plain functions):

Pages — ``packages.upstream.pages``
    ``resolve_project(name) -> Resolution`` decides who answers ``/simple/<name>/``.
    ``Resolution.source`` is "local" (serve local files only, as today; 404 when
    none), "upstream" (render ``Resolution.page``), "merged" (local files plus
    ``page``; a filename both have is the local one) or "none" (404).
    Raises ``UpstreamNotFound`` (404: blocked, awaiting approval, refused; the
    message is for the client), ``UpstreamUnavailable`` (502),
    ``UpstreamTimeout`` (504) or ``UpstreamBusy`` (503, with ``retry_after``),
    whose messages name the upstream. All are
    ``packages.errors.DomainError``: ``exc.status`` and ``exc.message``.

    ``UpstreamPage`` (``packages.upstream.filters``): ``upstream``, ``name``
    (normalized), ``status`` / ``status_reason`` (PEP 792, "active" by default),
    ``last_serial`` (the upstream's, for ``X-PyPI-Last-Serial``; may be None),
    ``versions`` (PEP 700, ascending, only versions with files), ``fetched_at``,
    ``stale`` (served while the upstream fails), ``files``: ``PageFile`` with
    ``filename``, ``path`` (this index's storage path; the URL is
    ``"/" + quote(path)``, ``url_path`` gives it), ``sha256``,
    ``requires_python``, ``yanked`` / ``yanked_reason``, ``size`` (None when an
    HTML upstream gave none and no copy is kept yet), ``upload_time`` (the
    upstream's, or None), ``metadata_sha256`` (PEP 658/714, "" = none),
    ``version``, ``kept``. Files are already filtered (blocks, cooldown) and
    sorted like local pages (version order, then filename). For caching a
    rendering (legacy/simple_pages.py): ``kept_token`` (the kept copy it comes
    from), ``fresh_until`` (when that copy is revalidated), ``changes_at`` (the
    next cooldown end of a file left out, or None).

    ``kept_project_names() -> list[str]``: upstream projects kept, for ``/simple/``.

Files — ``packages.upstream.files``
    Upstream files live at ``packages/upstream/<sha[:2]>/<sha[2:4]>/<sha[4:]>/<filename>``
    (and ``<that>.metadata``), served at "/" + that path: route
    ``^packages/upstream/.+$`` to a view that calls
    ``fetch_file(path, *, stream=True) -> KeptFile | FileStream``:
    ``KeptFile`` (``path``, ``filename``, ``is_metadata``, ``size``, ``sha256`` for
    the ETag, ``upload_time``, ``project``, ``version``, ``upstream``) is served
    exactly like a local file (open_stored / stored_url / X-Accel-Redirect).
    ``FileStream`` is the first download: pass it to ``StreamingHttpResponse``
    (``size`` for Content-Length when known, ``filename``, ``sha256``); it stores
    and checks the copy as it goes, holds back its last chunk until the sha256
    matched, and releases everything in ``close()``. ``stream=False`` fetches and
    checks the whole file first (a mismatch is then a clean 502 before any byte).
    Raises as ``resolve_project``. ``find_kept_file(path) -> KeptFile | None``
    looks a kept copy up without network; ``is_upstream_path(path)``.

Names — ``packages.upstream.protection``
    ``is_reserved(name) -> bool``; ``check_first_upload(name)`` raises
    ``UploadRejected`` when the name exists upstream (call it for a new project
    before it is created).

Purges — ``packages.upstream.purges``
    Upstream pages have no serial: every change of a curation row (signals), of
    a kept page or file, purges ``project/<name>``, ``all-projects`` when the
    kept list changes, or ``UPSTREAM_PAGES`` (carried by every upstream page)
    when any page may move (an upstream row, a reserved prefix).

Bounds — ``packages.upstream.fetch_slots``
    At most INDEX_UPSTREAM_MAX_CONCURRENT_FETCHES fetches per upstream and
    process (pages, first downloads until their stream ends); beyond, a request
    waits up to the upstream's timeout, then ``UpstreamBusy`` (503).

Admin actions and Celery tasks: ``packages.upstream.admin``, ``.tasks``.
The upstream from INDEX_UPSTREAM_URL is a row synced on first use (``config``).
"""
