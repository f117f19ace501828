"""What the CDN purge catch-up remembers (packages/cache/catchup.py)."""

from django.db import models

__all__ = ["CdnPurgeState"]


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
