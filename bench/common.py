"""Scaffolding shared by the benchmark scripts of this folder.

The scripts run as ``.venv/bin/python bench/<name>.py``, so this folder is on
``sys.path`` and they import from here with ``from common import ...``.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
SECRET_KEY = "bench-only-secret-key"

# wrk's ``done`` hook: one machine-readable line, read back by run_wrk().
WRK_DONE = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.status + e.timeout))
end
"""

# Debian packages of the command-line tools the benchmarks need.
PACKAGES = {"wrk": "wrk", "nginx": "nginx", "psql": "postgresql-client",
            "redis-cli": "redis-tools"}


def server_env(*, data_dir: str | Path, database_url: str | None = None,
               cache_url: str | None = None, **extra: str | None) -> dict[str, str]:
    """The environment of manage.py and gunicorn: os.environ with the settings
    module, a bench-only secret key, DEBUG off and loopback hosts.

    ``data_dir`` is INDEX_DATA_DIR, a folder name under the temporary directory
    or an absolute path. Without ``database_url`` / ``cache_url`` the variable is
    removed (SQLite in the data folder, in-process cache); CELERY_BROKER_URL and
    INDEX_STORAGE are always removed (eager tasks, local files). ``extra`` sets
    more variables; a None value removes one.
    """
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "indexsite.settings",
        "SECRET_KEY": SECRET_KEY,
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "INDEX_DATA_DIR": str(Path(tempfile.gettempdir()) / data_dir),
    }
    for key in ("CELERY_BROKER_URL", "INDEX_STORAGE"):
        env.pop(key, None)
    extra = {"DATABASE_URL": database_url, "CACHE_URL": cache_url, **extra}
    for key, value in extra.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def run(cmd: list, env: dict, **kwargs) -> subprocess.CompletedProcess:
    """``cmd`` in the project's folder with ``env``; raises on failure unless check=False."""
    kwargs.setdefault("check", True)
    return subprocess.run([str(part) for part in cmd], env=env, cwd=ROOT, **kwargs)


def manage(env: dict, *args: str, **kwargs) -> subprocess.CompletedProcess:
    return run([BIN / "python", "manage.py", *args], env, **kwargs)


def require_tools(*tools: str) -> None:
    for tool in tools:
        if shutil.which(tool) is None:
            packages = " ".join(PACKAGES[t] for t in tools)
            sys.exit(f"{tool} not found: apt-get install {packages}")


def recreate_database(database_url: str) -> None:
    """Drops and creates the PostgreSQL database of ``database_url`` (empty)."""
    base, _, name = database_url.rpartition("/")
    subprocess.run([str(BIN / "python"), "-c", (
        "import psycopg\n"
        f"with psycopg.connect({base + '/postgres'!r}, autocommit=True) as c:\n"
        f"    c.execute('DROP DATABASE IF EXISTS \"{name}\"')\n"
        f"    c.execute('CREATE DATABASE \"{name}\"')\n")], check=True)


def reset_database(env: dict) -> None:
    """A fresh, migrated database at env["DATABASE_URL"]."""
    recreate_database(env["DATABASE_URL"])
    manage(env, "migrate", "-v", "0")


def setup_django(env: dict) -> None:
    """Django in this process, with ``env`` (to fill the database with the ORM)."""
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def flush_redis(cache_url: str) -> None:
    """FLUSHDB on the local Redis database number that ends ``cache_url``."""
    cache_db = cache_url.rsplit("/", 1)[1]
    subprocess.run(["redis-cli", "-n", cache_db, "FLUSHDB"], check=True, capture_output=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).read(1)
            return
        except urllib.error.HTTPError:
            return  # any HTTP answer means the server is up
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


def start_gunicorn(port: int, env: dict, *options: str, ready_path: str = "/") -> subprocess.Popen:
    """gunicorn serving indexsite on 127.0.0.1:``port`` (warnings only logged),
    with more command-line ``options``; returns once ``ready_path`` answers."""
    process = subprocess.Popen(
        [str(BIN / "gunicorn"), "indexsite.wsgi", "-b", f"127.0.0.1:{port}", *options,
         "--log-level", "warning"],
        env=env, cwd=ROOT,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}{ready_path}")
    except BaseException:
        stop_gunicorn(process)
        raise
    return process


def stop_gunicorn(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)


def run_wrk(port: int, script: Path, connections: int, duration: int, timeout: str,
            variables: dict[str, str]) -> dict:
    """wrk (``min(connections, 2)`` threads) with a Lua ``script`` ending in
    WRK_DONE and ``variables`` in its environment; requests/s, p50/p99 in ms,
    socket and HTTP errors and the number of requests."""
    out = subprocess.run(
        ["wrk", "-t", str(min(connections, 2)), "-c", str(connections), "-d", f"{duration}s",
         "--timeout", timeout, "-s", str(script), f"http://127.0.0.1:{port}"],
        check=True, capture_output=True, text=True, env={**os.environ, **variables},
    ).stdout
    line = next(line for line in out.splitlines() if line.startswith("RESULT"))
    requests, duration_us, p50, p99, errors = (int(x) for x in line.split()[1:])
    return {"rps": requests / (duration_us / 1e6), "p50_ms": p50 / 1000, "p99_ms": p99 / 1000,
            "errors": errors, "requests": requests}
