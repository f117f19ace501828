"""Settings of the upstream proxy and the upstream configured by environment.

INDEX_UPSTREAM_URL configures a default upstream without the admin. It is kept
as an ordinary Upstream row (``from_environment``), created or updated the first
time a process needs the upstream list: kept pages and files need a row to
point at, the admin shows it like the others, and an admin can still tune its
other fields (credentials, priority, timeouts). Its URL, mode and cooldown
follow the environment; removing INDEX_UPSTREAM_URL disables the row (its kept
pages stay until an admin drops them). No variable, no row: the embedded
default works offline."""

import logging
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction

from packages.upstream.models import Upstream, UpstreamMode

logger = logging.getLogger(__name__)

ENV_UPSTREAM_NAME = "default"


@dataclass(frozen=True)
class Limits:
    """The effective bounds for one upstream (its fields, else the settings)."""

    timeout: float
    connect_timeout: float
    max_page_bytes: int
    revalidate_seconds: int
    max_stale_seconds: int  # 0 = stale pages are served whatever their age
    cooldown_seconds: int


def limits_for(upstream: Upstream) -> Limits:
    timeout = upstream.timeout_seconds or float(settings.INDEX_UPSTREAM_TIMEOUT)
    connect = upstream.connect_timeout_seconds or min(5.0, timeout)
    return Limits(
        timeout=timeout,
        connect_timeout=min(connect, timeout),
        max_page_bytes=upstream.max_page_bytes
        or int(settings.INDEX_UPSTREAM_MAX_PAGE_BYTES),
        revalidate_seconds=_first_set(upstream.revalidate_seconds,
                                      settings.INDEX_UPSTREAM_REVALIDATE),
        max_stale_seconds=_first_set(upstream.max_stale_seconds,
                                     settings.INDEX_UPSTREAM_MAX_STALE),
        cooldown_seconds=_first_set(upstream.cooldown_seconds,
                                    settings.INDEX_UPSTREAM_COOLDOWN),
    )


def _first_set(value, default) -> int:
    return int(value) if value is not None else int(default)


def max_file_bytes() -> int:
    return int(settings.INDEX_UPSTREAM_MAX_FILE_BYTES)


# --- the upstream from the environment ------------------------------------------

_synced: tuple | None = None
_sync_lock = threading.Lock()


def enabled_upstreams() -> list[Upstream]:
    """The upstreams to ask, in priority order (the environment's row included)."""
    sync_environment_upstream()
    return list(Upstream.objects.filter(enabled=True).order_by("priority", "name"))


def sync_environment_upstream() -> None:
    """Make the ``from_environment`` row match INDEX_UPSTREAM_*; once per process
    and per value, so a request pays one comparison."""
    global _synced
    wanted = (
        settings.INDEX_UPSTREAM_URL.strip(),
        settings.INDEX_UPSTREAM_MODE,
        settings.INDEX_UPSTREAM_COOLDOWN,
    )
    if _synced == wanted:
        return
    with _sync_lock:
        if _synced == wanted:
            return
        _apply_environment(*wanted)
        _synced = wanted


def _apply_environment(url: str, mode: str, cooldown) -> None:
    if mode not in UpstreamMode.values:
        logger.error("INDEX_UPSTREAM_MODE=%r is not one of %s; using 'approval'",
                     mode, ", ".join(UpstreamMode.values))
        mode = UpstreamMode.APPROVAL  # the careful reading of a typo
    if not url:
        Upstream.objects.filter(from_environment=True, enabled=True).update(enabled=False)
        return
    if not url.endswith("/"):
        url += "/"
    fields = {"simple_url": url, "mode": mode, "enabled": True,
              "cooldown_seconds": int(cooldown) if int(cooldown) else None}
    if urlsplit(url).hostname == "pypi.org":
        # PyPI's pages link files to its files host.
        fields["files_hosts"] = "files.pythonhosted.org"
    try:
        with transaction.atomic():
            updated = Upstream.objects.filter(from_environment=True).update(**fields)
            if not updated:
                Upstream.objects.create(name=_free_name(), from_environment=True, priority=0,
                                        **fields)
    except IntegrityError:  # another process created it meanwhile
        Upstream.objects.filter(from_environment=True).update(**fields)


def _free_name() -> str:
    name, n = ENV_UPSTREAM_NAME, 1
    while Upstream.objects.filter(name=name).exists():
        n += 1
        name = f"{ENV_UPSTREAM_NAME}-{n}"
    return name


def forget_environment_sync() -> None:
    """Tests change the settings between cases; the next call syncs again."""
    global _synced
    _synced = None
