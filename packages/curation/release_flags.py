"""A release's on/off flags with a reason (yanked, quarantined): one transaction
that sets the flag, journals the change and purges after commit."""

from django.db import transaction

from packages.cache.purge import purge_project_after_commit
from packages.journal import record_journal_entry
from packages.models import Release


def set_release_flag(release: Release, flag: str, reason_field: str, *, on: bool,
                     reason: str = "", action: str, by=None) -> bool:
    """Set ``flag`` (and its ``reason_field``) on the release; returns False, with
    nothing recorded, when it already was so."""
    reason = reason if on else ""
    with transaction.atomic():
        release = Release.objects.select_for_update().select_related("project").get(pk=release.pk)
        if getattr(release, flag) == on and getattr(release, reason_field) == reason:
            return False
        setattr(release, flag, on)
        setattr(release, reason_field, reason)
        release.save(update_fields=[flag, reason_field])
        record_journal_entry(release.project, action, version=release.version, by=by)
        purge_project_after_commit(release.project)
    return True
