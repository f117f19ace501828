"""Yank and unyank releases (PEP 592)."""

from packages.curation.release_flags import set_release_flag
from packages.models import Release


def yank_release(release: Release, *, reason: str = "", by=None) -> bool:
    """Mark a release yanked; returns False when it already was (nothing recorded)."""
    return set_release_flag(release, "yanked", "yanked_reason", on=True, reason=reason,
                            action="yank release", by=by)


def unyank_release(release: Release, *, by=None) -> bool:
    """Clear a release's yank; returns False when it was not yanked."""
    return set_release_flag(release, "yanked", "yanked_reason", on=False,
                            action="unyank release", by=by)
