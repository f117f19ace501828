"""Celery tasks: ids or keys in, one domain call, safe to run twice."""

from celery import shared_task

from packages.cdn import CdnPurgeFailed


@shared_task(
    acks_late=True, ignore_result=True, autoretry_for=(CdnPurgeFailed,), max_retries=3,
    default_retry_delay=30,
)
def purge_cache_keys(keys: list[str]) -> None:
    """Purge cached responses for these keys; purges are idempotent by nature."""
    from packages.caching import purge_keys_now

    purge_keys_now(keys)


@shared_task(acks_late=True, ignore_result=True)
def render_description(release_id: int) -> None:
    """Render a release's long description to HTML (a no-op when already done)."""
    from packages.descriptions import render_release_description

    render_release_description(release_id)
