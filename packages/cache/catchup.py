"""Catching up purges that were lost.

A purge leaves after commit as a Celery task (packages.cache.purge). It is lost
when the broker is down at that moment (the ``.delay`` fails and is only
logged) or when a CDN node stays unreachable through the task's retries. The
journal remembers every journaled change, in commit order (serials are handed
out under a lock held until commit, packages/journal.py), so a periodic task
sends again the keys of the entries a target has not acknowledged:

* for each target (every CDN node of INDEX_CDN_PURGE_URL, and ``shared-cache``,
  the index's own generations, which the lost task did not bump either) a
  CdnPurgeState row holds ``acked_serial``: every entry up to it is purged there;
* a run reads at most INDEX_CDN_CATCHUP_BATCH entries above the lowest acked
  serial, purges each target's share, and moves a target's serial to the last
  entry read only when that target took every key (so a failure is retried by
  the next run, and a long outage is worked off a batch per run).

Purges are idempotent, so entries already purged by the normal task are simply
purged once more (at most one extra miss per changed page and run).

Changes that write no journal entry (the upstream proxy's rows and pages, a role
holder renamed, see packages.cache.purge) leave a PendingPurge row, committed
with the change, which the normal task deletes once every target took its keys.
A run sends the rows still there (oldest first, at most INDEX_CDN_CATCHUP_BATCH
of those owed to every target and as many owed to failed nodes only) to the
targets each still names (every target when it names none), deletes a
row once all of them took its keys, and otherwise keeps only the targets that
failed, so a node that is back is not purged again. A row just committed may be
sent by a run and by its own task both: one extra miss, as above.

A target seen for the first time starts at the current serial: what it cached
before it was listed cannot be told from what it missed."""

import logging
from dataclasses import dataclass, field

from django.conf import settings

from packages.cache.cdn import CdnPurgeFailed, cdn_nodes, purge_node
from packages.cache.keys import keys_for_project_name
from packages.cache.models import CdnPurgeState, PendingPurge
from packages.http.shared_cache import bump_generations
from packages.journal import last_serial
from packages.models import JournalEntry

log = logging.getLogger(__name__)
SHARED_CACHE = "shared-cache"


@dataclass
class CatchUp:
    """What one run did: entries read, and per target the serial it reached."""

    entries: int = 0
    acked: dict[str, int] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)
    pending: int = 0  # PendingPurge rows read


def catch_up_purges(*, batch: int | None = None) -> CatchUp:
    batch = batch or settings.INDEX_CDN_CATCHUP_BATCH
    targets = [SHARED_CACHE, *cdn_nodes()]
    acked = _acked_serials(targets)
    result = CatchUp(acked=dict(acked))
    entries = list(
        JournalEntry.objects.filter(id__gt=min(acked.values()))
        .order_by("id").values_list("id", "name")[:batch]
    )
    result.entries = len(entries)
    for target in targets:
        mine = [(serial, name) for serial, name in entries if serial > acked[target]]
        if not mine:
            continue
        keys = sorted({key for _, name in mine for key in keys_for_project_name(name)})
        if not _send(target, keys, result):
            continue
        reached = mine[-1][0]
        # Only forward: a concurrent run may already have gone further.
        CdnPurgeState.objects.filter(node=target, acked_serial__lt=reached).update(
            acked_serial=reached)
        result.acked[target] = reached
    _send_pending(targets, batch, result)
    return result


def _send(target: str, keys: list[str], result: CatchUp) -> bool:
    """Purge ``keys`` on one target; False (and the target noted as failed) when
    it could not be reached, to be retried by the next run."""
    try:
        if target == SHARED_CACHE:
            bump_generations(keys)  # never raises
        else:
            purge_node(target, keys)
    except CdnPurgeFailed as exc:
        log.warning("purge catch-up: %s; retried in the next run", exc)
        if target not in result.failed:
            result.failed.append(target)
        return False
    return True


def _send_pending(targets: list[str], batch: int, result: CatchUp) -> None:
    # Rows still owed to every target (their task never ran: the broker was down)
    # apart from rows owed only to nodes that failed, so that a node down for long
    # does not hold the others' rows back behind its own.
    rows = [*PendingPurge.objects.filter(targets__isnull=True).order_by("id")[:batch],
            *PendingPurge.objects.filter(targets__isnull=False).order_by("id")[:batch]]
    result.pending = len(rows)
    if not rows:
        return
    # A target a row names but no longer listed (a node taken out) is dropped.
    owed = {row.pk: [t for t in (row.targets or targets) if t in targets] for row in rows}
    failed = set()
    for target in targets:
        keys = sorted({key for row in rows if target in owed[row.pk]
                       for key in row.keys.split()})
        # A node that just failed the journal's share is not waited for twice.
        if keys and (target in result.failed or not _send(target, keys, result)):
            failed.add(target)
    left: dict[tuple[str, ...], list[int]] = {}  # targets still owed -> rows
    for pk, owed_to in owed.items():
        left.setdefault(tuple(t for t in owed_to if t in failed), []).append(pk)
    for still_owed, pks in left.items():
        rows = PendingPurge.objects.filter(pk__in=pks)
        if still_owed:
            rows.update(targets=list(still_owed))
        else:
            rows.delete()


def _acked_serials(targets: list[str]) -> dict[str, int]:
    found = dict(
        CdnPurgeState.objects.filter(node__in=targets).values_list("node", "acked_serial"))
    missing = [target for target in targets if target not in found]
    if missing:
        serial = last_serial()
        for target in missing:
            state, _ = CdnPurgeState.objects.get_or_create(
                node=target, defaults={"acked_serial": serial})
            found[target] = state.acked_serial
    return found
