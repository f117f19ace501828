"""Turn DATABASE_URL into Django's DATABASES entry (PostgreSQL or SQLite), with
dj-database-url's reading of the URL (``sqlite:///relative.db``,
``sqlite:////absolute/path.db``, ``postgresql://user:pass@host:5432/name``)."""

from pathlib import Path

import dj_database_url

from indexsite.env import env_int

# Concurrent uploads on the embedded default wait for the write lock instead of
# failing at once with "database is locked".
_SQLITE_OPTIONS = {"timeout": 30, "transaction_mode": "IMMEDIATE"}


def database_from_url(url: str, *, sqlite_default: Path) -> dict:
    if not url:
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": str(sqlite_default),
                "OPTIONS": dict(_SQLITE_OPTIONS)}
    try:
        config = dj_database_url.parse(url)
    except ValueError as exc:
        raise ValueError(f"DATABASE_URL is not usable: {exc}") from None
    engine = config["ENGINE"]
    if engine == "django.db.backends.sqlite3":
        config["OPTIONS"] = {**_SQLITE_OPTIONS, **config.get("OPTIONS", {})}
    elif engine == "django.db.backends.postgresql":
        # Persistent connections; 0 closes each at the end of its request.
        config["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 60)
        config["CONN_HEALTH_CHECKS"] = True
        config["OPTIONS"] = _with_statement_timeout(config.get("OPTIONS", {}))
    else:
        raise ValueError(f"DATABASE_URL engine {engine} is not supported (postgresql or sqlite)")
    return config


def _with_statement_timeout(options: dict) -> dict:
    """libpq options plus a statement timeout (DATABASE_STATEMENT_TIMEOUT_MS,
    0 = none) so that no query, and so no request, can hold a worker and a
    connection for long. Migrations that build large indexes lift it for their
    own transaction."""
    options = dict(options)
    timeout_ms = env_int("DATABASE_STATEMENT_TIMEOUT_MS", 5000)
    if timeout_ms > 0:
        setting = f"-c statement_timeout={timeout_ms}"
        options["options"] = f"{options['options']} {setting}" if "options" in options else setting
    return options
