"""Turn DATABASE_URL into Django's DATABASES entry (PostgreSQL or SQLite)."""

from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from indexsite.env import env_int


def database_from_url(url: str, *, sqlite_default: Path) -> dict:
    if not url:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(sqlite_default),
            # Concurrent uploads on the embedded default wait for the write lock
            # instead of failing at once with "database is locked".
            "OPTIONS": {"timeout": 30, "transaction_mode": "IMMEDIATE"},
        }
    parts = urlsplit(url)
    if parts.scheme in {"postgres", "postgresql", "pgsql"}:
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parts.path.lstrip("/")),
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "OPTIONS": _postgresql_options(parts.query),
            # Persistent connections; 0 closes each at the end of its request.
            "CONN_MAX_AGE": env_int("DATABASE_CONN_MAX_AGE", 60),
            "CONN_HEALTH_CHECKS": True,
        }
    if parts.scheme == "sqlite":
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": unquote(parts.path) or str(sqlite_default),
            "OPTIONS": {"timeout": 30, "transaction_mode": "IMMEDIATE"},
        }
    raise ValueError(f"DATABASE_URL scheme {parts.scheme!r} is not supported (postgresql or sqlite)")


def _postgresql_options(query: str) -> dict:
    """libpq options from the URL's query string, plus a statement timeout
    (DATABASE_STATEMENT_TIMEOUT_MS, 0 = none) so that no query, and so no
    request, can hold a worker and a connection for long. Migrations that build
    large indexes lift it for their own transaction."""
    options = dict(parse_qsl(query))
    timeout_ms = env_int("DATABASE_STATEMENT_TIMEOUT_MS", 5000)
    if timeout_ms > 0:
        setting = f"-c statement_timeout={timeout_ms}"
        options["options"] = f"{options['options']} {setting}" if "options" in options else setting
    return options
