"""Which cached answers a change of the proxy's rows dirties, purged after commit.

Nothing here is journaled (an upstream page has no serial of this index), so a
rendered upstream page (legacy/simple_pages.py) and a CDN's copy only learn of
a change through a purge, kept as a PendingPurge until it is sent
(packages/cache/purge.py): ``project/<name>`` for a change about one name, the
index (``all-projects``) when the list of kept projects changes, and
``UPSTREAM_PAGES``, carried by every upstream page, for a change that may move
any of them (an upstream added, reordered, disabled, tuned; a reserved prefix,
which covers names not known in advance).

Curation rows (blocks, approvals, allowances, cooldown overrides, reserved
names, upstreams) are purged by model signals, whoever saves or deletes them
(the admin, a shell, a test); the kept pages and files by the functions that
change them (pages.py, files.py), and the admin's bulk ``update()`` of approvals
by the admin action itself (``update()`` sends no signal)."""

from collections.abc import Iterable

from django.db.models.signals import post_delete, post_save, pre_save

from packages.cache.keys import ALL_PROJECTS, project_key
from packages.cache.purge import purge_unjournaled_after_commit
from packages.upstream.models import (
    ApprovalState,
    ReservedName,
    Upstream,
    UpstreamAllowance,
    UpstreamApproval,
    UpstreamBlock,
    UpstreamCooldown,
)

# Carried in Surrogate-Key by every upstream and merged page (valid for the CDN's
# X-Purge-Key grammar); its generation is part of their cache keys.
UPSTREAM_PAGES = "upstream-pages"

_NAME_RULES = (ReservedName, UpstreamAllowance, UpstreamBlock, UpstreamCooldown)


def purge_names_after_commit(names: Iterable[str], *, listing: bool = False) -> None:
    """The pages of these (normalized) names; ``listing`` also the index."""
    keys = [project_key(name) for name in names]
    purge_unjournaled_after_commit(keys + ([ALL_PROJECTS] if listing else []))


def purge_every_upstream_page_after_commit(*, listing: bool = False) -> None:
    purge_unjournaled_after_commit([UPSTREAM_PAGES] + ([ALL_PROJECTS] if listing else []))


def _remember_stored_name(sender, instance, raw=False, **kwargs) -> None:
    """pre_save: the name (and prefix flag) as stored, so that a renamed rule
    purges the name it no longer applies to as well."""
    instance._purge_before = None
    if raw or instance.pk is None:
        return
    fields = ["normalized_name"] + (["is_prefix"] if sender is ReservedName else [])
    instance._purge_before = sender._default_manager.filter(pk=instance.pk).values(
        *fields).first()


def _name_rule_changed(sender, instance, raw=False, **kwargs) -> None:
    """post_save / post_delete of a block, allowance, cooldown or reserved name."""
    if raw:
        return
    before = getattr(instance, "_purge_before", None) or {}
    if getattr(instance, "is_prefix", False) or before.get("is_prefix"):
        # A namespace covers names nobody listed: every upstream page.
        purge_every_upstream_page_after_commit()
        return
    purge_names_after_commit({instance.normalized_name,
                              before.get("normalized_name") or instance.normalized_name})


def _approval_changed(sender, instance, created=False, raw=False, **kwargs) -> None:
    # A name newly queued (pending) shows as before: "awaits approval".
    if raw or (created and instance.state == ApprovalState.PENDING):
        return
    purge_names_after_commit([instance.normalized_name])


def _upstream_changed(sender, instance, raw=False, **kwargs) -> None:
    # Any field may move every page: priority, enabled, mode, cooldown, intervals.
    if not raw:
        purge_every_upstream_page_after_commit(listing=True)


def connect_purge_signals() -> None:
    """Called once from PackagesConfig.ready()."""
    for model in _NAME_RULES:
        uid = f"upstream-purge-{model._meta.label}"
        pre_save.connect(_remember_stored_name, sender=model, dispatch_uid=uid)
        post_save.connect(_name_rule_changed, sender=model, dispatch_uid=uid)
        post_delete.connect(_name_rule_changed, sender=model, dispatch_uid=uid)
    uid = "upstream-purge-approval"
    post_save.connect(_approval_changed, sender=UpstreamApproval, dispatch_uid=uid)
    post_delete.connect(_approval_changed, sender=UpstreamApproval, dispatch_uid=uid)
    uid = "upstream-purge-upstream"
    post_save.connect(_upstream_changed, sender=Upstream, dispatch_uid=uid)
    post_delete.connect(_upstream_changed, sender=Upstream, dispatch_uid=uid)
