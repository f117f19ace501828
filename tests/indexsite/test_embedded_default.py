"""The embedded default as `make serve` runs it, and gunicorn alone as a small
deployment runs it: the admin is styled, links name the address served on, and
eager tasks log no broker noise."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.gunicorn_server import free_port, start_gunicorn

ROOT = Path(__file__).resolve().parents[2]


def _env(tmp_path, **extra):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DJANGO_", "PYTEST_", "DATABASE_", "CACHE_", "CELERY_"))}
    env.pop("INDEX_BASE_URL", None)
    return {**env, "INDEX_DATA_DIR": str(tmp_path / "data"), **extra}


def test_gunicorn_alone_serves_the_admin_styles(tmp_path):
    server = start_gunicorn(tmp_path)
    try:
        response = requests.get(f"{server.url}/static/admin/css/base.css", timeout=10)
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("text/css")
        login = requests.get(f"{server.url}/admin/login/", timeout=10)
        assert "/static/admin/css/base.css" in login.text
    finally:
        server.stop()


def test_make_serve_prints_the_address_it_serves_on(tmp_path):
    port = free_port()
    process = subprocess.Popen(
        ["make", "serve", f"PORT={port}"], cwd=ROOT, env=_env(tmp_path),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    try:
        deadline, lines = time.monotonic() + 120, []
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            lines.append(line)
            if line.startswith("Admin: log in at"):
                break
        assert f"http://127.0.0.1:{port}/admin/" in lines[-1], "".join(lines)
        for _ in range(100):
            try:
                home = requests.get(f"http://127.0.0.1:{port}/pypi/nothing/json", timeout=5)
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        assert home.status_code == 404
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
        process.stdout.close()


def test_eager_tasks_log_no_broker_hostname_warning(tmp_path):
    env = _env(tmp_path, DEBUG="1")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env,
                   check=True, timeout=120)
    code = ("from tests.factories import publish\n"
            "from packages.curation.yanking import yank_release\n"
            "yank_release(publish('demo', '1.0'), reason='broken')\n")
    result = subprocess.run([sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "No hostname was supplied" not in result.stderr + result.stdout
