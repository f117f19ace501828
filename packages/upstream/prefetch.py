"""Keeping a project's offered files before anyone asks (the admin's "prefetch")."""

import logging

from packages.errors import DomainError
from packages.upstream.files import fetch_file
from packages.upstream.filters import filter_page
from packages.upstream.pages import refresh_project

logger = logging.getLogger(__name__)


def prefetch_project(upstream_project_id: int) -> int:
    """Refresh the page, then fetch and check each offered file not yet kept
    (with its .metadata). Returns how many files were fetched; a file that fails
    is logged and skipped, the others still come."""
    kept = refresh_project(upstream_project_id)
    if kept is None or kept.gone:
        return 0
    try:
        page = filter_page(kept.upstream, kept, queue=False)
    except DomainError as exc:
        logger.warning("prefetch of %s skipped: %s", kept.normalized_name, exc.message)
        return 0
    fetched = 0
    for file in page.files if page else []:
        paths = [file.path] + ([file.path + ".metadata"] if file.metadata_sha256 else [])
        for path in paths:
            try:
                if not file.kept or path.endswith(".metadata"):
                    fetch_file(path, stream=False)
                    fetched += not path.endswith(".metadata")
            except DomainError as exc:
                logger.warning("prefetch of %s failed: %s", path, exc.message)
    return fetched
