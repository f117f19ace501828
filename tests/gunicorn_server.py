"""The index under gunicorn, as production runs it, on a database of its own.

Some findings only show through a real server: gunicorn takes ``SCRIPT_NAME``
from a request header, and several workers are several processes that share
nothing but the database (and the cache, when one is configured). The test
database of pytest-django is invisible to another process on SQLite (it lives
in memory), so each server gets its own database, migrated by ``manage.py``:
a SQLite file in a temporary folder, or a fresh PostgreSQL database when the
suite runs on PostgreSQL. Tests set data up through ``server.shell(code)``,
which runs code in a ``manage.py shell`` against the server's database.
Several servers can share one database (``database_url=``: another server's
``env["DATABASE_URL"]``, or one the test made), as the web nodes of one index do.
"""

import os
import secrets
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import requests

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
GUNICORN = str(Path(sys.executable).parent / "gunicorn")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _postgres_admin_url(database_url: str) -> str:
    parts = urlsplit(database_url)
    return urlunsplit(parts._replace(path="/postgres"))


def _run_psql(admin_url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql)


@dataclass
class GunicornServer:
    tmp: Path
    env_overrides: dict = field(default_factory=dict)
    workers: int = 1
    port: int = 0
    process: subprocess.Popen | None = None
    env: dict = field(default_factory=dict)
    _pg_database: str | None = None
    _pg_admin_url: str | None = None
    setup_output: str = ""
    # A database to use as it is (neither created nor dropped by this server).
    database_url: str | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _environment(self) -> dict:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DJANGO_", "PYTEST_"))
        }
        env.update(
            DJANGO_SETTINGS_MODULE="indexsite.settings",
            DEBUG="0",
            SECRET_KEY=secrets.token_urlsafe(32),
            INDEX_DATA_DIR=str(self.tmp / "data"),
            INDEX_FILES_DIR=str(self.tmp / "files"),
            LOG_LEVEL="WARNING",
        )
        database_url = os.environ.get("DATABASE_URL", "")
        if self.database_url is not None:
            env["DATABASE_URL"] = self.database_url
        elif database_url.startswith(("postgres://", "postgresql://", "pgsql://")):
            self._pg_database = f"indexsite_gunicorn_{uuid.uuid4().hex[:12]}"
            self._pg_admin_url = _postgres_admin_url(database_url)
            _run_psql(self._pg_admin_url, f'CREATE DATABASE "{self._pg_database}"')
            parts = urlsplit(database_url)
            env["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{self._pg_database}"))
        else:
            env.pop("DATABASE_URL", None)
        for key, value in self.env_overrides.items():
            if value is None:
                env.pop(key, None)  # e.g. CACHE_URL=None: no shared cache
            else:
                env[key] = value
        return env

    def manage(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(
            [PYTHON, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True,
            text=True, timeout=timeout, check=True,
        )

    def shell(self, code: str, timeout: float = 120) -> str:
        """Run Python code with Django set up against the server's database; its
        standard output is returned."""
        return self.manage("shell", "--no-imports", "-c", code, timeout=timeout).stdout

    def start(self, setup: str = "") -> "GunicornServer":
        self.env = self._environment()
        self.manage("migrate", "--noinput")
        if setup:
            # Before the server runs: its processes start with this data loaded.
            self.setup_output = self.shell(setup)
        self.port = free_port()
        self.process = subprocess.Popen(
            [
                GUNICORN, "indexsite.wsgi:application",
                "--bind", f"127.0.0.1:{self.port}",
                "--workers", str(self.workers),
                "--timeout", "30",
                # gunicorn's own default: loopback clients may set SCRIPT_NAME and
                # X-Forwarded-* headers, as a local reverse proxy would.
                "--forwarded-allow-ips", "127.0.0.1,::1",
            ],
            cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.process.stderr.read().decode()}")
            try:
                requests.get(f"{self.url}/simple/", timeout=5)
                return self
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.2)  # workers still loading Django
        raise RuntimeError("gunicorn did not answer within 30 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process is not None and self.process.stderr is not None:
            self.process.stderr.close()
        if self._pg_database:
            _run_psql(
                self._pg_admin_url,
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                f"WHERE datname = '{self._pg_database}'",
            )
            _run_psql(self._pg_admin_url, f'DROP DATABASE IF EXISTS "{self._pg_database}"')
            self._pg_database = None


def start_gunicorn(tmp: Path, *, workers: int = 1, setup: str = "",
                   database_url: str | None = None, **env: str | None) -> GunicornServer:
    """A started server; the caller stops it (``server.stop()``). ``setup`` is
    Python run against its database before it starts (its output is kept in
    ``server.setup_output``). ``database_url`` names an existing database to share
    (migrated again, a no-op when it is; never dropped by this server) instead of
    a new one. Keyword arguments are environment variables for it; None removes one."""
    server = GunicornServer(tmp=tmp, env_overrides=env, workers=workers,
                            database_url=database_url)
    try:
        return server.start(setup)
    except BaseException:
        server.stop()
        raise
