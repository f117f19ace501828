"""The purge tasks: keys in, safe to run twice (purges are idempotent by nature)."""

from celery import shared_task

from packages.cache.cdn import CdnPurgeFailed, purge_cdn
from packages.cache.models import PendingPurge
from packages.cache.purgers import purge_keys_now


# The name predates packages/cache/: queued tasks and worker routes keep it.
@shared_task(
    bind=True, name="packages.tasks.purge_cache_keys", acks_late=True, ignore_result=True,
    max_retries=3, default_retry_delay=30,
)
def purge_cache_keys(self, keys: list[str], nodes: list[str] | None = None,
                     pending: int | None = None) -> None:
    """Purge cached responses for these keys: everywhere, or (a retry) on the
    CDN ``nodes`` that failed. A node still failing after the retries is caught
    up by catch_up_cdn_purges: from the journal, or from the ``pending``
    PendingPurge row of a change the journal does not record, which is deleted
    here once every target took the keys and else left naming the failed nodes."""
    try:
        if nodes is None:
            purge_keys_now(keys)
        else:
            purge_cdn(keys, nodes=nodes)
    except CdnPurgeFailed as exc:
        if pending is not None:
            PendingPurge.objects.filter(pk=pending).update(targets=exc.nodes)
        raise self.retry(exc=exc, kwargs={"keys": keys, "nodes": exc.nodes,
                                          "pending": pending}) from exc
    if pending is not None:
        PendingPurge.objects.filter(pk=pending).delete()


@shared_task(name="packages.tasks.catch_up_cdn_purges", acks_late=True, ignore_result=True)
def catch_up_cdn_purges() -> None:
    """Periodic (celery beat, INDEX_CDN_CATCHUP_SECONDS): send again the keys of
    journal entries some node has not acknowledged, and of PendingPurge rows
    (packages/cache/catchup.py)."""
    from packages.cache.catchup import catch_up_purges

    catch_up_purges()
