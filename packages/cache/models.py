"""What the CDN purge catch-up remembers (packages/cache/catchup.py)."""

from django.db import models
from django.utils import timezone

__all__ = ["CdnPurgeState", "PendingPurge"]


class CdnPurgeState(models.Model):
    """One row per purge target (a CDN node's purge URL, or ``shared-cache`` for
    the index's own generations): the highest journal serial below which every
    entry's keys are known purged there. Only the catch-up moves it, and only
    forward (journal serials are commit-ordered, packages/journal.py)."""

    node = models.CharField(max_length=1000, unique=True)
    acked_serial = models.BigIntegerField(default=0)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        app_label = "packages"
        verbose_name = "CDN purge state"

    def __str__(self):
        return f"{self.node} purged up to #{self.acked_serial}"


class PendingPurge(models.Model):
    """The keys of a change that writes no journal entry (the upstream proxy's
    rows and kept pages, a role holder renamed), written in the change's own
    transaction. The purge task deletes it once every target took the keys; what
    is left (the broker was down, a node stayed unreachable through the retries)
    is sent by the catch-up, which has no journal serial to find it by."""

    keys = models.TextField(help_text="Space-separated purge keys.")
    # The targets still to purge; null: every target (the shared cache and each
    # CDN node listed when it is sent).
    targets = models.JSONField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        app_label = "packages"

    def __str__(self):
        return f"pending purge of {self.keys}"
