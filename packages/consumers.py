"""Consumer policy: admins prohibit a consumer, temporarily or for good, by client
address or network and/or by User-Agent pattern (PyPI's API policy: "PyPI may
temporarily or permanently prohibit a consumer for irresponsible activity").

Checking costs no query per request. The active bans are kept three ways:

* each process holds a compiled copy for ``MEMO_SECONDS``;
* then it reads one small cache key, the ban list's *version*, and keeps its
  copy when the version has not moved;
* only a new version makes it read the list: from the cache, or from the
  database once per version for the whole site.

Saving or deleting a ban moves the version (signals below, immediately and
again after commit), so a change reaches every process within ``MEMO_SECONDS``
and the process that made it at once. When the cache loses the version (restart,
eviction), a process holding a copy publishes it under a new version instead of
querying; with the cache down, the database is read once per memo period. A
ban's end time is compared on every request, so bans end on time with no admin
action."""

import ipaddress
import logging
import re
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from packages.models import ConsumerBan

logger = logging.getLogger(__name__)

# How long a process trusts its copy before looking at the version key.
MEMO_SECONDS = 5.0
VERSION_KEY = "consumer-bans:version"
LIST_KEY = "consumer-bans:list:{version}"
LIST_TIMEOUT = 24 * 3600

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Ban:
    network: Network | None
    user_agent: re.Pattern | None
    reason: str
    ends: datetime | None

    def is_active(self, now: datetime) -> bool:
        return self.ends is None or now < self.ends

    def matches(self, address: Address | None, user_agent: str) -> bool:
        """A ban names an address, a User-Agent, or both (then both must match)."""
        if self.network is None and self.user_agent is None:
            return False
        if self.network is not None and (address is None or address not in self.network):
            return False
        return self.user_agent is None or self.user_agent.search(user_agent) is not None


# --- client address --------------------------------------------------------------


def parse_address(value: str) -> Address | None:
    """An IP address from REMOTE_ADDR or an X-Forwarded-For entry (ports and
    brackets tolerated); IPv4-mapped IPv6 addresses become IPv4."""
    value = value.strip()
    candidates = [value]
    if value.startswith("[") and "]" in value:  # [2001:db8::1]:443
        candidates.append(value[1 : value.index("]")])
    elif value.count(":") == 1:  # 203.0.113.7:51234
        candidates.append(value.split(":")[0])
    for candidate in candidates:
        try:
            address = ipaddress.ip_address(candidate)
        except ValueError:
            continue
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            return address.ipv4_mapped
        return address
    return None


def client_address(request) -> Address | None:
    """The client's address. With INDEX_TRUSTED_PROXY_HOPS = N > 0, each of the N
    trusted proxies appends the address it received the request from to
    X-Forwarded-For, so the client is the Nth entry from the right; anything
    further left was written by the client and is never believed. With 0 hops
    the header is ignored."""
    remote = request.META.get("REMOTE_ADDR", "")
    hops = settings.INDEX_TRUSTED_PROXY_HOPS
    if hops > 0:
        forwarded = [
            entry.strip()
            for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if entry.strip()
        ]
        if forwarded:
            # Fewer entries than hops: a proxy was bypassed; the leftmost entry
            # was still written by a trusted proxy.
            return parse_address(forwarded[-min(hops, len(forwarded))])
    return parse_address(remote)


# --- the ban list ----------------------------------------------------------------


@dataclass
class _Memo:
    version: str | None
    rows: list[tuple]
    bans: list[Ban]
    checked_at: float


_memo: _Memo | None = None
_memo_lock = threading.Lock()


def _compile(rows) -> list[Ban]:
    bans = []
    for network, pattern, reason, ends in rows:
        try:
            bans.append(
                Ban(
                    network=ipaddress.ip_network(network, strict=False) if network else None,
                    user_agent=re.compile(pattern) if pattern else None,
                    reason=reason,
                    ends=ends,
                )
            )
        except (ValueError, re.error):
            # The admin form refuses these; a row written some other way is skipped.
            logger.warning("Ignoring consumer ban with invalid network or pattern: %r", network)
    return bans


def _load_rows() -> list[tuple]:
    now = timezone.now()
    return list(
        ConsumerBan.objects.filter(Q(ends__isnull=True) | Q(ends__gt=now))
        .order_by("created", "id")
        .values_list("network", "user_agent_pattern", "reason", "ends")
    )


def _read_version(memo: _Memo | None) -> str:
    """The ban list's version. When the cache has lost it (restart, eviction) but
    this process holds a copy, nothing says the bans changed: the copy is
    published under a new version rather than read again from the database."""
    version = cache.get(VERSION_KEY)
    if version is None:
        candidate = uuid.uuid4().hex
        rows = memo.rows if memo is not None else _load_rows()
        cache.set(LIST_KEY.format(version=candidate), rows, LIST_TIMEOUT)
        cache.add(VERSION_KEY, candidate, None)
        version = cache.get(VERSION_KEY) or candidate
    return version


def _fetch(version: str) -> list[tuple]:
    key = LIST_KEY.format(version=version)
    rows = cache.get(key)
    if rows is None:
        rows = _load_rows()
        cache.set(key, rows, LIST_TIMEOUT)
    return rows


def active_bans() -> list[Ban]:
    """The bans that had not ended when loaded (callers compare ``ends`` again)."""
    global _memo
    with _memo_lock:
        now = time.monotonic()
        if _memo is not None and now - _memo.checked_at < MEMO_SECONDS:
            return _memo.bans
        try:
            version = _read_version(_memo)
            if _memo is not None and version == _memo.version:
                _memo.checked_at = now
                return _memo.bans
            rows = _fetch(version)
        except Exception:
            # The cache is down: read the database, at most once per memo period.
            logger.warning("Consumer ban cache unavailable; reading bans from the database")
            version = None
            try:
                rows = _load_rows()
            except Exception:
                # No database either: the request fails elsewhere anyway; do not
                # remember this so that the next request tries again.
                logger.exception("Consumer bans could not be read")
                return _memo.bans if _memo is not None else []
        _memo = _Memo(version=version, rows=rows, bans=_compile(rows), checked_at=now)
        return _memo.bans


def forget_memo() -> None:
    """Drop this process's copy (the next check reads the version key)."""
    global _memo
    with _memo_lock:
        _memo = None


def bump_bans_version() -> None:
    """Make every process reload the ban list at its next check."""
    forget_memo()
    try:
        cache.set(VERSION_KEY, uuid.uuid4().hex, None)
    except Exception:
        logger.warning("Could not move the consumer ban version; other processes catch up later")


def _bans_changed() -> None:
    # Now, so that this process sees the change at once, and after commit, so that
    # a process that reloaded before the commit (and cached the old list under the
    # new version) reloads again.
    bump_bans_version()
    transaction.on_commit(bump_bans_version)


@receiver(post_save, sender=ConsumerBan, dispatch_uid="consumer-ban-saved")
@receiver(post_delete, sender=ConsumerBan, dispatch_uid="consumer-ban-deleted")
def _on_ban_change(sender, **kwargs):
    _bans_changed()


def end_bans(bans, *, at: datetime | None = None) -> int:
    """End the given bans (a queryset) now or at ``at``; returns how many."""
    with transaction.atomic():
        count = bans.update(ends=at or timezone.now())
        _bans_changed()
    return count


# --- the policy --------------------------------------------------------------------


def find_ban(address: Address | None, user_agent: str, *, now: datetime | None = None):
    """The first active ban matching this consumer, or None."""
    now = now or timezone.now()
    for ban in active_bans():
        if ban.is_active(now) and ban.matches(address, user_agent):
            return ban
    return None


def prohibition_for(request) -> Ban | None:
    """The ban that prohibits this request's consumer, or None."""
    return find_ban(client_address(request), request.META.get("HTTP_USER_AGENT", ""))
