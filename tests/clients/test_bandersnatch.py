"""A real bandersnatch mirror run against the live server: XML-RPC for the
package list and the changelog, then JSON, simple pages and files."""

import re
import subprocess
import sys
from pathlib import Path
from xmlrpc import ratelimit

import pytest

from packages.models import JournalEntry, Project
from tests.factories import create_user, publish

pytestmark = pytest.mark.clients

BANDERSNATCH = Path(sys.executable).parent / "bandersnatch"


def _config(tmp_path: Path, master: str) -> Path:
    config = tmp_path / "bandersnatch.conf"
    config.write_text(f"""\
[mirror]
directory = {tmp_path / "mirror"}
master = {master}
allow-non-https = true
json = true
release-files = true
cleanup = false
timeout = 20
global-timeout = 120
workers = 1
hash-index = false
simple-format = ALL
stop-on-error = true
storage-backend = filesystem
verifiers = 1
compare-method = hash

[plugins]
enabled =
    allowlist_project

[allowlist]
packages =
    tinyproj
""")
    return config


def _mirror(config: Path) -> str:
    """Run one `bandersnatch mirror`; returns its log output."""
    done = subprocess.run(
        [str(BANDERSNATCH), "--config", str(config), "mirror"],
        capture_output=True, text=True, timeout=120,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    return output


def _fetched(output: str) -> list[str]:
    return sorted(Path(url).name for url in re.findall(r"Downloading: (\S+)", output))


@pytest.fixture
def mirror(tmp_path, live_server, transactional_db, settings):
    # An IPv4 literal: "localhost" makes aiohttp try ::1 first, which costs seconds.
    origin = live_server.url.replace("://localhost:", "://127.0.0.1:")
    # File URLs in the JSON API point at the origin clients see: the live server.
    settings.INDEX_BASE_URL = origin
    ratelimit.clear("127.0.0.1")
    yield _config(tmp_path, origin), tmp_path / "mirror"
    ratelimit.clear("127.0.0.1")


def test_bandersnatch_mirrors_a_project_then_fetches_only_the_change(mirror):
    config, directory = mirror
    owner = create_user()
    publish("TinyProj", "1.0", owner=owner)
    publish("ignored", "1.0", owner=owner)  # not in the allowlist

    first = _mirror(config)

    assert _fetched(first) == ["tinyproj-1.0-py3-none-any.whl", "tinyproj-1.0.tar.gz"]
    web = directory / "web"
    files = sorted(p.name for p in (web / "packages").rglob("*") if p.is_file())
    assert files == ["tinyproj-1.0-py3-none-any.whl", "tinyproj-1.0.tar.gz"]
    assert (web / "simple" / "tinyproj" / "index.html").is_file()
    assert (web / "json" / "tinyproj").is_file()
    assert not (web / "simple" / "ignored").exists()
    serial = int((directory / "status").read_text())
    assert serial == JournalEntry.objects.latest("id").id
    old_files = {p: p.stat().st_mtime_ns for p in (web / "packages").rglob("*") if p.is_file()}

    publish("TinyProj", "1.1", owner=owner)
    second = _mirror(config)

    assert _fetched(second) == ["tinyproj-1.1-py3-none-any.whl", "tinyproj-1.1.tar.gz"]
    files = sorted(p.name for p in (web / "packages").rglob("*") if p.is_file())
    assert files == ["tinyproj-1.0-py3-none-any.whl", "tinyproj-1.0.tar.gz",
                     "tinyproj-1.1-py3-none-any.whl", "tinyproj-1.1.tar.gz"]
    assert all(p.stat().st_mtime_ns == mtime for p, mtime in old_files.items())
    assert int((directory / "status").read_text()) == Project.objects.get(
        name="TinyProj").last_serial
    simple = (web / "simple" / "tinyproj" / "index.html").read_text()
    assert "tinyproj-1.1.tar.gz" in simple and "tinyproj-1.0.tar.gz" in simple
    print("--- first run ---\n" + first + "--- second run ---\n" + second)
