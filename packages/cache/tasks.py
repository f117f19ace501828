"""The purge task: keys in, safe to run twice (purges are idempotent by nature)."""

from celery import shared_task

from packages.cache.cdn import CdnPurgeFailed
from packages.cache.purgers import purge_keys_now


# The name predates packages/cache/: queued tasks and worker routes keep it.
@shared_task(
    name="packages.tasks.purge_cache_keys", acks_late=True, ignore_result=True,
    autoretry_for=(CdnPurgeFailed,), max_retries=3, default_retry_delay=30,
)
def purge_cache_keys(keys: list[str]) -> None:
    """Purge cached responses for these keys."""
    purge_keys_now(keys)
