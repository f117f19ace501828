"""Every Celery task of the index, for the worker to find (Celery's autodiscovery
imports this module): ids or keys in, one domain call, safe to run twice."""

from celery import shared_task

from packages.cache.tasks import catch_up_cdn_purges, purge_cache_keys  # noqa: F401
from packages.upstream.tasks import (  # noqa: F401
    prefetch_upstream_project,
    refresh_upstream_project,
)


@shared_task(acks_late=True, ignore_result=True)
def render_description(release_id: int) -> None:
    """Render a release's long description to HTML (a no-op when already done)."""
    from packages.uploads.descriptions import render_release_description

    render_release_description(release_id)


@shared_task(acks_late=True, ignore_result=True)
def remove_stored_files(paths: list[str]) -> None:
    """Remove deleted files' stored objects (and their ``.metadata``) once the
    delete has committed. Objects a committed row still points at are kept."""
    from packages.storage import remove_unreferenced

    remove_unreferenced(paths)
