"""Celery tasks of the proxy: ids in, one domain call, safe to run twice."""

from celery import shared_task


@shared_task(acks_late=True, ignore_result=True)
def refresh_upstream_project(upstream_project_id: int) -> None:
    """Revalidate a kept page now (a no-op when the row was dropped)."""
    from packages.upstream.pages import refresh_project

    refresh_project(upstream_project_id)


@shared_task(acks_late=True, ignore_result=True)
def prefetch_upstream_project(upstream_project_id: int) -> None:
    """Revalidate a kept page and keep every file it offers (already kept files
    are skipped, so running it twice costs one page request)."""
    from packages.upstream.prefetch import prefetch_project

    prefetch_project(upstream_project_id)
