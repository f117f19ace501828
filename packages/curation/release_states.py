"""Quarantine of a single release: its files leave every API (simple pages, JSON,
feeds, XML-RPC) and are no longer served, while the rest of the project stays.
The project-wide states are packages.curation.projects's. Each change is journaled (the
serial moves, so cached pages refresh) and purged after commit."""

from packages.curation.release_flags import set_release_flag
from packages.models import Release


def quarantine_release(release: Release, *, reason: str = "", by=None) -> bool:
    """Hide one release; returns False when it already was, with this reason."""
    return set_release_flag(release, "quarantined", "quarantine_reason", on=True,
                            reason=reason, action="release quarantined", by=by)


def clear_release_quarantine(release: Release, *, by=None) -> bool:
    """Show a quarantined release again; returns False when it was not quarantined."""
    return set_release_flag(release, "quarantined", "quarantine_reason", on=False,
                            action="release quarantine cleared", by=by)
