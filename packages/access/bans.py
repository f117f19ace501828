"""Consumer policy: admins prohibit a consumer, temporarily or for good, by client
address or network and/or by User-Agent pattern (PyPI's API policy: "PyPI may
temporarily or permanently prohibit a consumer for irresponsible activity").

Checking costs no query per request. Each process holds a compiled copy of the
active bans and, once per ``MEMO_SECONDS``, reads one row: the ban list's
version (``ConsumerBanListVersion``). Only a new version makes it read the list
again. Every change to the list moves the version in the change's transaction
(signals below, ``end_bans``), so a ban saved in any process (another gunicorn
worker, ``manage.py``, the admin) reaches every process within ``MEMO_SECONDS``,
whatever cache is configured, and the process that made it at once. A ban's end
time is compared on every request, so bans end on time with no admin action.

User-Agent patterns run on RE2, which matches in time linear in the User-Agent:
an admin's pattern such as ``^(a+)+$`` cannot make every request backtrack for
seconds. Patterns RE2 cannot run (backreferences, lookarounds) are refused by the
admin form."""

import ipaddress
import logging
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime

import re2
from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from packages.models import ConsumerBan, ConsumerBanListVersion

logger = logging.getLogger(__name__)

# How long a process trusts its copy before reading the version row again.
MEMO_SECONDS = 5.0

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Ban:
    network: Network | None
    user_agent: re2._Regexp | None  # from compile_user_agent_pattern()
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


# --- User-Agent patterns ------------------------------------------------------------

_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # refusals are reported to the admin, not to stderr


def compile_user_agent_pattern(pattern: str) -> re2._Regexp:
    """The pattern compiled for RE2 (searched, case-sensitive, as Python's ``re``
    would); ValueError with RE2's reason when RE2 cannot run it."""
    try:
        return re2.compile(pattern, _RE2_OPTIONS)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else "invalid pattern"
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise ValueError(reason) from None


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
#
# Why the database and not the cache carries the version: the database is the one
# thing every process shares for sure (with the embedded default's local-memory
# cache, two workers and ``manage.py`` share nothing else), and a version moved in
# the change's own transaction can neither get ahead of the change nor lose it (no
# eviction, flush, cache outage at save time, or ``on_commit`` that never ran).
# Reading it with or without a shared cache keeps one code path; the price is one
# primary-key lookup per process per MEMO_SECONDS, never one per request.


@dataclass
class _Memo:
    version: int | None
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
                    user_agent=compile_user_agent_pattern(pattern) if pattern else None,
                    reason=reason,
                    ends=ends,
                )
            )
        except ValueError:
            # The admin form refuses these; a row written some other way (or before
            # patterns ran on RE2) is skipped.
            logger.warning(
                "Ignoring consumer ban with invalid network or User-Agent pattern: %r, %r",
                network,
                pattern,
            )
    return bans


def _load_rows() -> list[tuple]:
    now = timezone.now()
    return list(
        ConsumerBan.objects.filter(Q(ends__isnull=True) | Q(ends__gt=now))
        .order_by("created", "id")
        .values_list("network", "user_agent_pattern", "reason", "ends")
    )


def _read_version() -> int | None:
    """None until the list first changes (the row is created then)."""
    return ConsumerBanListVersion.objects.filter(pk=1).values_list("version", flat=True).first()


def active_bans() -> list[Ban]:
    """The bans that had not ended when loaded (callers compare ``ends`` again)."""
    global _memo
    with _memo_lock:
        now = time.monotonic()
        if _memo is not None and now - _memo.checked_at < MEMO_SECONDS:
            return _memo.bans
        try:
            # The version first: rows read after it are at least as new, so a copy
            # is never older than the version it is kept under.
            version = _read_version()
            if _memo is not None and version == _memo.version:
                _memo.checked_at = now
                return _memo.bans
            bans = _compile(_load_rows())
        except DatabaseError:
            logger.warning("Consumer bans could not be read", exc_info=True)
            if _memo is None:
                # The request fails elsewhere anyway; nothing is remembered, so the
                # next request tries again.
                return []
            _memo.checked_at = now  # keep the copy; try again next memo period
            return _memo.bans
        _memo = _Memo(version=version, bans=bans, checked_at=now)
        return bans


def forget_memo() -> None:
    """Drop this process's copy (the next check reads the list)."""
    global _memo
    with _memo_lock:
        _memo = None


def bans_changed() -> None:
    """Record a change to the ban list, in the caller's transaction. Signals call it
    for saves and deletes; writes that send none (``QuerySet.update``,
    ``bulk_create``) must call it themselves, as ``end_bans`` does."""
    # A fresh random value rather than +1: a version moved by a transaction that
    # rolled back is never reused, so a process that read the uncommitted list
    # under it cannot mistake that list for a later committed one.
    ConsumerBanListVersion.objects.update_or_create(
        pk=1, defaults={"version": secrets.randbits(63)}
    )
    # This process sees the change at once (its next check reads the list inside
    # the transaction), and its other threads once it commits.
    forget_memo()
    transaction.on_commit(forget_memo)


@receiver(post_save, sender=ConsumerBan, dispatch_uid="consumer-ban-saved")
@receiver(post_delete, sender=ConsumerBan, dispatch_uid="consumer-ban-deleted")
def _on_ban_change(sender, **kwargs):
    bans_changed()


def end_bans(bans, *, at: datetime | None = None) -> int:
    """End the given bans (a queryset) now or at ``at``; returns how many."""
    with transaction.atomic():
        count = bans.update(ends=at or timezone.now())
        bans_changed()
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
