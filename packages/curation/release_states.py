"""Quarantine of a single release: its files leave every API (simple pages, JSON,
feeds, XML-RPC) and are no longer served, while the rest of the project stays.
The project-wide states are packages.curation.projects's. Each change is journaled (the
serial moves, so cached pages refresh) and purged after commit."""

from django.db import transaction

from packages.cache.purge import purge_project_after_commit
from packages.journal import record_journal_entry
from packages.models import Release


def quarantine_release(release: Release, *, reason: str = "", by=None) -> bool:
    """Hide one release; returns False when it already was, with this reason."""
    with transaction.atomic():
        release = Release.objects.select_for_update().select_related("project").get(pk=release.pk)
        if release.quarantined and release.quarantine_reason == reason:
            return False
        release.quarantined = True
        release.quarantine_reason = reason
        release.save(update_fields=["quarantined", "quarantine_reason"])
        record_journal_entry(release.project, "release quarantined", version=release.version,
                             by=by)
        purge_project_after_commit(release.project)
    return True


def clear_release_quarantine(release: Release, *, by=None) -> bool:
    """Show a quarantined release again; returns False when it was not quarantined."""
    with transaction.atomic():
        release = Release.objects.select_for_update().select_related("project").get(pk=release.pk)
        if not release.quarantined:
            return False
        release.quarantined = False
        release.quarantine_reason = ""
        release.save(update_fields=["quarantined", "quarantine_reason"])
        record_journal_entry(release.project, "release quarantine cleared",
                             version=release.version, by=by)
        purge_project_after_commit(release.project)
    return True
