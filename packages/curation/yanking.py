"""Yank and unyank releases (PEP 592)."""

from django.db import transaction

from packages.cache.purge import purge_project_after_commit
from packages.journal import record_journal_entry
from packages.models import Release


def yank_release(release: Release, *, reason: str = "", by=None) -> bool:
    """Mark a release yanked; returns False when it already was (nothing recorded)."""
    with transaction.atomic():
        release = Release.objects.select_for_update().select_related("project").get(pk=release.pk)
        if release.yanked and release.yanked_reason == reason:
            return False
        release.yanked = True
        release.yanked_reason = reason
        release.save(update_fields=["yanked", "yanked_reason"])
        record_journal_entry(release.project, "yank release", version=release.version, by=by)
        purge_project_after_commit(release.project)
    return True


def unyank_release(release: Release, *, by=None) -> bool:
    """Clear a release's yank; returns False when it was not yanked."""
    with transaction.atomic():
        release = Release.objects.select_for_update().select_related("project").get(pk=release.pk)
        if not release.yanked:
            return False
        release.yanked = False
        release.yanked_reason = ""
        release.save(update_fields=["yanked", "yanked_reason"])
        record_journal_entry(release.project, "unyank release", version=release.version, by=by)
        purge_project_after_commit(release.project)
    return True
