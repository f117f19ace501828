# ruff: noqa: F811 (real_upstream is an imported fixture, requested by name)
"""Real pip and uv with one ``--index-url``: this index (the live server) in front
of an upstream that is another instance of this index under gunicorn, on its own
database. Nothing reaches the internet."""

import subprocess
import sys
from pathlib import Path

import pytest
import requests
from django.contrib.auth.models import User
from django.urls import reverse

from packages.models import Release
from packages.upstream.models import (
    ApprovalState,
    Upstream,
    UpstreamApproval,
    UpstreamBlock,
    UpstreamFile,
    UpstreamProject,
)
from tests.client_env import BIN, client_env
from tests.dists import core_metadata, make_wheel
from tests.factories import add_file, create_project, create_release, publish
from tests.gunicorn_server import start_gunicorn
from tests.packages.upstream.conftest import real_upstream  # noqa: F401 (a fixture)
from tests.packages.upstream.servers import Reply, ScriptedServer

CLIENT_ENV = client_env()

pytestmark = [pytest.mark.clients, pytest.mark.django_db(transaction=True)]

UPSTREAM_SETUP = """
from datetime import timedelta
from django.utils import timezone
from packages.models import File
from tests.factories import publish
long_ago = timezone.now() - timedelta(days=3)
for name, version in [("deplib", "1.0"), ("shared", "9.0"), ("aged", "1.0"), ("aged", "2.0"),
                      ("blocky", "1.0"), ("blocky", "2.0"), ("gated", "1.0")]:
    publish(name, version, sdist=False)
# Everything is old enough for a cooldown except aged 2.0, uploaded just now.
File.objects.exclude(release__project__name="aged", release__version="2.0").update(
    upload_time=long_ago)
"""


@pytest.fixture(scope="module")
def real_index(tmp_path_factory):
    """Overrides the domain tests' upstream (their ``real_upstream`` proxies to it)."""
    server = start_gunicorn(tmp_path_factory.mktemp("upstream"), workers=2, setup=UPSTREAM_SETUP)
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _settings(settings):
    from packages.http.shared_cache import local_bodies
    from packages.upstream.config import forget_environment_sync

    settings.INDEX_UPSTREAM_URL = ""
    settings.INDEX_UPSTREAM_TIMEOUT = 5
    forget_environment_sync()
    local_bodies.clear()
    yield
    local_bodies.clear()
    forget_environment_sync()


@pytest.fixture
def index_url(live_server):
    return f"{live_server.url}/simple/"


@pytest.fixture
def venv(tmp_path) -> Path:
    path = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    return path


def use_upstream(server, **fields) -> Upstream:
    return Upstream.objects.create(name="upper", simple_url=f"{server.url}/simple/", **fields)


def install(client: str, venv: Path, index_url: str, *requirements: str):
    python = str(venv / "bin" / "python")
    if client == "pip":
        command = [str(BIN / "python"), "-m", "pip", "--python", python, "install",
                   "--index-url", index_url, *requirements]
    else:
        command = [str(BIN / "uv"), "pip", "install", "--python", python,
                   "--index-url", index_url, *requirements]
    result = subprocess.run(command, env=CLIENT_ENV, capture_output=True, text=True,
                            timeout=180)
    print(f"$ {client} install {' '.join(requirements)}\n{result.stdout}{result.stderr}")
    return result


def installed(venv: Path) -> dict[str, str]:
    out = subprocess.run(
        [str(venv / "bin" / "python"), "-c",
         "import importlib.metadata as m\n"
         "for d in m.distributions(): print(d.metadata['Name'], d.version)"],
        check=True, capture_output=True, text=True,
    ).stdout
    return dict(line.split() for line in out.splitlines())


def publish_with_dependency(name: str, version: str, dependency: str) -> None:
    release = create_release(create_project(name), version)
    metadata = core_metadata(name, version, extra=[("Requires-Dist", dependency)])
    filename, content, metadata = make_wheel(name, version, metadata=metadata)
    add_file(release, filename, content, metadata=metadata)


@pytest.mark.parametrize("client", ["pip", "uv"])
def test_private_package_with_a_dependency_only_upstream(client, index_url, venv, real_upstream):
    use_upstream(real_upstream)
    publish_with_dependency("private-app", "1.0", "deplib")
    result = install(client, venv, index_url, "private-app")
    assert result.returncode == 0, result.stdout + result.stderr
    assert installed(venv) == {"private-app": "1.0", "deplib": "1.0"}
    # deplib came through this index: page and file fetched once, the copy kept.
    assert UpstreamFile.objects.get(project__normalized_name="deplib").path
    assert real_upstream.paths("/simple/private-app/") == []  # local names never go upstream


@pytest.mark.parametrize("client", ["pip", "uv"])
def test_local_name_wins_over_a_higher_upstream_version(client, index_url, venv, real_upstream):
    use_upstream(real_upstream)
    publish("shared", "1.0", sdist=False)
    result = install(client, venv, index_url, "shared")
    assert result.returncode == 0, result.stdout + result.stderr
    assert installed(venv) == {"shared": "1.0"}  # not the upstream's 9.0
    assert real_upstream.paths("/simple/shared/") == []


def test_release_in_its_cooldown_is_skipped(index_url, venv, real_upstream):
    use_upstream(real_upstream, cooldown_seconds=3600)
    result = install("pip", venv, index_url, "aged")
    assert result.returncode == 0, result.stdout + result.stderr
    assert installed(venv) == {"aged": "1.0"}


def test_blocked_version_is_skipped(index_url, venv, real_upstream):
    use_upstream(real_upstream)
    UpstreamBlock.objects.create(name="blocky", specifier="==2.0", reason="CVE")
    result = install("uv", venv, index_url, "blocky")
    assert result.returncode == 0, result.stdout + result.stderr
    assert installed(venv) == {"blocky": "1.0"}


def test_project_awaiting_approval_installs_once_approved(index_url, venv, real_upstream,
                                                           client):
    use_upstream(real_upstream, mode="approval")
    refused = install("pip", venv, index_url, "gated")
    assert refused.returncode != 0  # pip prints no 404's reason; the page carries it
    page = requests.get(index_url + "gated/", timeout=30)
    assert page.status_code == 404 and "awaits approval" in page.reason
    approval = UpstreamApproval.objects.get()
    assert approval.normalized_name == "gated" and approval.state == ApprovalState.PENDING
    # A curator approves it in the admin (the changelist's action).
    client.force_login(User.objects.create_superuser("curator", "", "pw-curator-123"))
    approved = client.post(reverse("admin:packages_upstreamapproval_changelist"),
                           {"action": "approve", "_selected_action": [str(approval.pk)]})
    assert approved.status_code == 302
    result = install("pip", venv, index_url, "gated")
    assert result.returncode == 0, result.stdout + result.stderr
    assert installed(venv) == {"gated": "1.0"}


@pytest.mark.parametrize("client", ["pip", "uv"])
def test_what_was_fetched_installs_after_the_upstream_is_gone(client, index_url, tmp_path,
                                                               real_upstream):
    # Revalidate on every request: with the upstream gone the kept page is served stale.
    use_upstream(real_upstream, revalidate_seconds=0)
    first = tmp_path / "first"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(first)], check=True)
    assert install(client, first, index_url, "deplib").returncode == 0
    real_upstream.stop()
    second = tmp_path / "second"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(second)], check=True)
    result = install(client, second, index_url, "deplib")
    assert result.returncode == 0, result.stdout + result.stderr
    assert installed(second) == {"deplib": "1.0"}
    # Something never fetched is a clear 502 naming the upstream.
    response = requests.get(index_url + "blocky/", timeout=30)
    assert response.status_code == 502
    assert response.reason == "Upstream 'upper' could not be reached."


def test_a_file_with_the_wrong_hash_is_502_and_nothing_installed(index_url, venv):
    hostile = ScriptedServer()
    try:
        _, wheel, _ = make_wheel("evil", "1.0")
        page = ('{"meta": {"api-version": "1.1"}, "name": "evil", "files": [{"filename": '
                '"evil-1.0-py3-none-any.whl", "url": "/f/evil-1.0-py3-none-any.whl", '
                '"hashes": {"sha256": "' + "cd" * 32 + '"}}]}')
        hostile.routes["/simple/evil/"] = Reply(
            200, page.encode(), {"Content-Type": "application/vnd.pypi.simple.v1+json"})
        hostile.routes["/f/evil-1.0-py3-none-any.whl"] = Reply(200, wheel)
        use_upstream(hostile)
        result = install("pip", venv, index_url, "evil")
        assert result.returncode != 0
        url = requests.get(index_url + "evil/", timeout=30,
                           headers={"Accept": "application/vnd.pypi.simple.v1+json"}
                           ).json()["files"][0]["url"]
        # HEAD checks the whole file before answering (a GET's stream is cut short).
        response = requests.head(index_url.removesuffix("/simple/") + url, timeout=30)
        assert response.status_code == 502
        assert response.reason.startswith("Upstream 'upper' refused")
        assert UpstreamFile.objects.get().path == ""
        assert "evil" not in installed(venv)
    finally:
        hostile.stop()


def test_journal_rss_and_xmlrpc_describe_local_packages_only(live_server, real_upstream):
    import xmlrpc.client

    use_upstream(real_upstream)
    publish("mine", "1.0", sdist=False)
    assert requests.get(f"{live_server.url}/simple/deplib/", timeout=30).status_code == 200
    assert UpstreamProject.objects.filter(normalized_name="deplib").exists()
    rpc = xmlrpc.client.ServerProxy(f"{live_server.url}/pypi")
    assert rpc.list_packages() == ["mine"]
    assert {entry[0] for entry in rpc.changelog_since_serial(0)} == {"mine"}
    for feed in ("/rss/updates.xml", "/rss/packages.xml"):
        assert b"deplib" not in requests.get(live_server.url + feed, timeout=30).content
    assert Release.objects.count() == 1  # an upstream release is never a Release row
