"""Real pip and uv against the live server's simple API: install into fresh
virtual environments, download with hash verification, Requires-Python and
yank handling (PEP 503/592/691)."""

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from packages.curation.yanking import yank_release
from packages.models import File
from packages.storage import distributions_storage
from tests.client_env import BIN, client_env
from tests.factories import publish

CLIENT_ENV = client_env()

pytestmark = [pytest.mark.clients, pytest.mark.django_db(transaction=True)]



@pytest.fixture(autouse=True)
def _fresh_simple_pages():
    from packages.http.shared_cache import local_bodies

    local_bodies.clear()
    yield
    local_bodies.clear()


@pytest.fixture
def index_url(live_server):
    return f"{live_server.url}/simple/"


@pytest.fixture
def venv(tmp_path) -> Path:
    """A fresh virtual environment without pip (created in a fraction of a second);
    pip and uv install into it from the outside."""
    path = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    return path


def pip(*args, timeout=120):
    return subprocess.run(
        [str(BIN / "python"), "-m", "pip", *args], env=CLIENT_ENV, capture_output=True,
        text=True, timeout=timeout,
    )


def uv(*args, timeout=120):
    return subprocess.run(
        [str(BIN / "uv"), *args], env=CLIENT_ENV, capture_output=True, text=True,
        timeout=timeout,
    )


def installed_version(venv: Path, module: str) -> str:
    return subprocess.run(
        [str(venv / "bin" / "python"), "-c", f"import {module}; print({module}.VERSION)"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()


def test_pip_installs_into_a_fresh_venv(index_url, venv):
    publish("Demo.Pkg", "1.0")
    publish("Demo.Pkg", "1.1")
    result = pip("--python", str(venv / "bin" / "python"), "install",
                 "--index-url", index_url, "Demo.Pkg==1.0")
    assert result.returncode == 0, result.stdout + result.stderr
    assert installed_version(venv, "demo_pkg") == "1.0"


def test_uv_pip_installs_into_a_fresh_venv(index_url, venv):
    publish("uv-demo", "1.0")
    publish("uv-demo", "2.0")
    result = uv("pip", "install", "--python", str(venv / "bin" / "python"),
                "--index-url", index_url, "uv-demo==1.0")
    assert result.returncode == 0, result.stdout + result.stderr
    assert installed_version(venv, "uv_demo") == "1.0"
    result = uv("pip", "install", "--python", str(venv / "bin" / "python"),
                "--index-url", index_url, "--upgrade", "uv-demo")
    assert result.returncode == 0, result.stdout + result.stderr
    assert installed_version(venv, "uv_demo") == "2.0"


def test_pip_download_gets_the_file_and_verifies_its_hash(index_url, tmp_path):
    publish("dl-demo", "1.0", sdist=False)
    wheel = File.objects.get()
    result = pip("download", "--no-deps", "--index-url", index_url, "-d", str(tmp_path / "d"),
                 "dl-demo==1.0")
    assert result.returncode == 0, result.stdout + result.stderr
    downloaded = tmp_path / "d" / wheel.filename
    assert hashlib.sha256(downloaded.read_bytes()).hexdigest() == wheel.sha256_digest
    # pip checks the #sha256 fragment: bytes that do not match are refused.
    storage_path = Path(distributions_storage().path(wheel.path))
    content = storage_path.read_bytes()
    storage_path.write_bytes(b"tampered" + content[8:])
    result = pip("download", "--no-deps", "--index-url", index_url,
                 "-d", str(tmp_path / "again"), "dl-demo==1.0")
    assert result.returncode != 0
    assert "HASHES" in result.stderr.upper() or "hash" in result.stderr.lower()


def test_pip_skips_a_release_requiring_a_newer_python(index_url, tmp_path):
    publish("rp-demo", "1.0", requires_python=">=3.8")
    publish("rp-demo", "2.0", requires_python=">=3.99")
    result = pip("download", "--no-deps", "--index-url", index_url, "-d", str(tmp_path / "a"),
                 "rp-demo")
    assert result.returncode == 0, result.stdout + result.stderr
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["rp_demo-1.0-py3-none-any.whl"]
    pinned = pip("download", "--no-deps", "--index-url", index_url, "-d", str(tmp_path / "b"),
                 "rp-demo==2.0")
    assert pinned.returncode != 0
    assert "Requires-Python" in pinned.stderr or "requires a different Python" in pinned.stderr


def test_yanked_release_is_skipped_unless_pinned(index_url, tmp_path):
    publish("yank-demo", "1.0", sdist=False)
    bad = publish("yank-demo", "2.0", sdist=False)
    yank_release(bad, reason="broken")
    result = pip("download", "--no-deps", "--index-url", index_url, "-d", str(tmp_path / "a"),
                 "yank-demo")
    assert result.returncode == 0, result.stdout + result.stderr
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["yank_demo-1.0-py3-none-any.whl"]
    pinned = pip("download", "--no-deps", "--index-url", index_url, "-d", str(tmp_path / "b"),
                 "yank-demo==2.0")
    assert pinned.returncode == 0, pinned.stdout + pinned.stderr
    assert [p.name for p in (tmp_path / "b").iterdir()] == ["yank_demo-2.0-py3-none-any.whl"]
    assert "yanked" in (pinned.stdout + pinned.stderr).lower()


def test_pip_with_its_http_cache_finds_files_after_a_304(index_url, tmp_path):
    # pip revalidates index pages (If-None-Match) and merges the 304's headers
    # into its cached response: a 304 must not carry a Content-Type of its own.
    publish("cached-pkg", "1.0")
    env = {key: value for key, value in CLIENT_ENV.items() if key != "PIP_NO_CACHE_DIR"}
    # pip caches only for HTTPS and trusted hosts (the live server is plain HTTP).
    host = index_url.split("/")[2].split(":")[0]
    for run in ("first", "second"):
        result = subprocess.run(
            [str(BIN / "python"), "-m", "pip", "download", "--no-deps",
             "--cache-dir", str(tmp_path / "pip-cache"), "--trusted-host", host,
             "--index-url", index_url,
             "-d", str(tmp_path / run), "cached-pkg==1.0"],
            env=env, capture_output=True, text=True, timeout=120,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert sorted(p.name for p in (tmp_path / run).iterdir()) == [
            "cached_pkg-1.0-py3-none-any.whl"
        ]
