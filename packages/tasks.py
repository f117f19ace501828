"""Celery tasks: ids or keys in, one domain call, safe to run twice."""

from celery import shared_task


@shared_task(acks_late=True, ignore_result=True)
def purge_cache_keys(keys: list[str]) -> None:
    """Purge cached responses for these keys; purges are idempotent by nature."""
    from packages.caching import purge_keys_now

    purge_keys_now(keys)
