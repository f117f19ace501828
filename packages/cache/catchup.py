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
purged once more (at most one extra miss per changed page and run). Changes
that write no journal entry (a role holder renamed, see packages.cache.purge)
are purged best-effort, by the normal task only: nothing here knows of them.

A target seen for the first time starts at the current serial: what it cached
before it was listed cannot be told from what it missed."""

import logging
from dataclasses import dataclass, field

from django.conf import settings

from packages.cache.cdn import CdnPurgeFailed, cdn_nodes, purge_node
from packages.cache.keys import keys_for_project_name
from packages.cache.models import CdnPurgeState
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
        try:
            if target == SHARED_CACHE:
                bump_generations(keys)  # never raises
            else:
                purge_node(target, keys)
        except CdnPurgeFailed as exc:
            log.warning("purge catch-up: %s; retried in the next run", exc)
            result.failed.append(target)
            continue
        reached = mine[-1][0]
        # Only forward: a concurrent run may already have gone further.
        CdnPurgeState.objects.filter(node=target, acked_serial__lt=reached).update(
            acked_serial=reached)
        result.acked[target] = reached
    return result


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
