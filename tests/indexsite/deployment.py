"""The parts of a production deployment, started for real by the multi-node
tests: an S3 server (moto in server mode), Varnish in front of several web
nodes (``deploy/varnish.vcl`` with a round-robin director), a Celery worker
process, and the clients (twine uploads, pip installs)."""

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import boto3
import pytest
import requests

from tests.client_env import BIN, client_env
from tests.conftest import require_external
from tests.gunicorn_server import ROOT, free_port

VARNISHD = shutil.which("varnishd") or "/usr/sbin/varnishd"
CLIENT_ENV = client_env()
S3_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}

# Python for a node's shell: a user with an upload token; prints the token.
UPLOADER_SETUP = """
from packages.curation.tokens import create_token
from tests.factories import create_user
print(create_token(create_user("uploader"))[1])
"""


def require_postgresql_pass() -> None:
    """Several processes share one database here, and a PostgreSQL database is
    what production nodes share: these tests run in the suite's PostgreSQL pass
    (DATABASE_URL, CACHE_URL and CELERY_BROKER_URL set, as .ci/run does) and are
    skipped in the SQLite pass, which has no database another process can share."""
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        pytest.skip("runs in the PostgreSQL pass only (DATABASE_URL is not PostgreSQL)")
    for name in ("CACHE_URL", "CELERY_BROKER_URL"):
        if not os.environ.get(name, "").startswith("redis://"):
            pytest.skip(f"runs in the PostgreSQL pass only ({name} is not a Redis URL)")


# --- S3 ---------------------------------------------------------------------------


@contextlib.contextmanager
def moto_s3():
    """An empty S3-compatible server (moto in server mode); yields its endpoint."""
    port = free_port()
    server = subprocess.Popen(
        [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(endpoint, timeout=5)
                break
            except (requests.ConnectionError, requests.Timeout):
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto_server did not start") from None
                time.sleep(0.1)
        yield endpoint
    finally:
        server.terminate()
        server.wait(10)


def s3_settings(endpoint: str, bucket: str) -> dict[str, str]:
    """The environment a node, a worker or the backup commands get for S3."""
    return {
        "INDEX_STORAGE": "s3",
        "AWS_STORAGE_BUCKET_NAME": bucket,
        "AWS_S3_ENDPOINT_URL": endpoint,
        "AWS_S3_REGION_NAME": "us-east-1",
        **S3_CREDENTIALS,
    }


def s3_client(endpoint: str):
    return boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id=S3_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=S3_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


def bucket_objects(endpoint: str, bucket: str) -> dict[str, bytes]:
    client = s3_client(endpoint)
    return {
        item["Key"]: client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
        for item in client.list_objects_v2(Bucket=bucket).get("Contents", [])
    }


# --- Varnish ------------------------------------------------------------------------


def round_robin_vcl(backends: list[str]) -> str:
    """deploy/varnish.vcl with its one backend replaced by ``backends`` behind a
    round-robin director. Only the backend block is touched, so whatever the
    shipped VCL does for PURGE (bans or xkey) is what runs here. Varnish
    concatenates several ``sub vcl_recv``: the director's comes first."""
    vcl = (ROOT / "deploy" / "varnish.vcl").read_text()
    nodes = []
    for index, url in enumerate(backends):
        address = urlsplit(url)
        nodes.append(
            f'backend node{index} {{\n    .host = "{address.hostname}";\n'
            f'    .port = "{address.port}";\n}}\n'
        )
    adds = "".join(f"    nodes.add_backend(node{index});\n" for index in range(len(backends)))
    replacement = (
        "import directors;\n\n" + "\n".join(nodes)
        + "\nsub vcl_init {\n    new nodes = directors.round_robin();\n" + adds + "}\n"
        + "\nsub vcl_recv {\n    set req.backend_hint = nodes.backend();\n}\n"
    )
    vcl, count = re.subn(r"backend default \{[^}]*\}\n", lambda _: replacement, vcl)
    assert count == 1, "deploy/varnish.vcl has no `backend default { ... }` block"
    return vcl


@contextlib.contextmanager
def varnish(tmp: Path, port: int, backends: list[str]):
    """varnishd on ``port`` (chosen before the nodes start: they purge it) in
    front of ``backends``; yields its URL."""
    require_external(Path(VARNISHD).exists(), "Debian's varnish (varnishd)")
    (tmp / "nodes.vcl").write_text(round_robin_vcl(backends))
    process = subprocess.Popen(
        [VARNISHD, "-F", "-j", "none", "-a", f"127.0.0.1:{port}", "-f", str(tmp / "nodes.vcl"),
         "-n", str(tmp / "varnish"), "-s", "malloc,32m", "-T", "none"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"varnishd did not start: {process.stdout.read().decode()}")
            time.sleep(0.1)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()


# --- Celery ---------------------------------------------------------------------------


@contextlib.contextmanager
def celery_worker(env: dict[str, str], log: Path):
    """``celery -A indexsite worker`` with a node's environment. ``--purge`` drops
    what earlier runs left on the broker's queue, so only this test's tasks run."""
    with log.open("w") as output:
        worker = subprocess.Popen(
            [str(BIN / "celery"), "-A", "indexsite", "worker", "--pool", "solo", "--purge",
             "--without-gossip", "--without-mingle", "--without-heartbeat",
             "--loglevel", "INFO"],
            cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
        )
        try:
            # Ready: the purge is done, and every task queued from now on is taken.
            wait_for(lambda: " ready." in log.read_text() or worker.poll() is not None,
                     "the Celery worker to start")
            assert worker.poll() is None, log.read_text()
            yield worker
        finally:
            worker.terminate()
            worker.wait(timeout=30)
    assert "Traceback" not in log.read_text(), log.read_text()


# --- clients ----------------------------------------------------------------------------


def twine_upload(node_url: str, token: str, *files: Path) -> None:
    result = subprocess.run(
        [str(BIN / "twine"), "upload", "--repository-url", f"{node_url}/legacy/",
         "--non-interactive", "--disable-progress-bar", *map(str, files)],
        env={**CLIENT_ENV, "TWINE_USERNAME": "__token__", "TWINE_PASSWORD": token},
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def pip_install(index_url: str, target: Path, *requirements: str, hashes: Path | None = None):
    """pip installs into a fresh virtual environment at ``target``; returns the
    version of the module it installed (``<module>.VERSION``) and pip's output.
    With ``hashes``, a requirements file, every download is hash-checked."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(target)], check=True)
    args = ["--require-hashes", "-r", str(hashes)] if hashes else list(requirements)
    result = subprocess.run(
        [str(BIN / "python"), "-m", "pip", "--python", str(target / "bin" / "python"),
         "install", "--index-url", index_url, *args],
        env=CLIENT_ENV, capture_output=True, text=True, timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def installed_version(target: Path, module: str) -> str:
    return subprocess.run(
        [str(target / "bin" / "python"), "-c", f"import {module}; print({module}.VERSION)"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()


def wait_for(predicate, what: str, *, timeout: float = 30.0, interval: float = 0.2):
    """Polls ``predicate`` until it returns something true (returned), or fails
    the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)
