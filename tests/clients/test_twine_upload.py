"""Real clients publishing to the live server: twine 7 (the venv's), twine 6.1
with --skip-existing (its own virtualenv, cached), and uv publish."""

import os
import subprocess
import sys

import pytest
import requests
from django.contrib.auth.models import Group

from packages.curation.roles import add_role
from packages.curation.tokens import create_token
from packages.models import File, JournalEntry, Project, Release, RoleName
from tests.client_env import BIN, CACHE, client_env
from tests.dists import make_sdist, make_wheel
from tests.factories import create_project, create_user

CLIENT_ENV = client_env(UV_NO_CACHE=None, UV_CACHE_DIR=str(CACHE / "uv"))

pytestmark = [pytest.mark.clients, pytest.mark.django_db(transaction=True)]



@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    """Wheels and sdists of two versions, built once for the module."""
    folder = tmp_path_factory.mktemp("dist")
    for version in ("1.0", "2.0"):
        filename, content, _ = make_wheel("twine-demo", version)
        (folder / filename).write_bytes(content)
        filename, content = make_sdist("twine-demo", version)
        (folder / filename).write_bytes(content)
    return folder


@pytest.fixture(scope="module")
def twine61():
    """twine 6.1 in its own virtualenv (6.2+ refuses --skip-existing off PyPI)."""
    venv = CACHE / "twine-6.1.0"
    twine = venv / "bin" / "twine"
    if not twine.exists():
        # Installing needs the machine's network settings (proxy, CA bundle).
        env = {**os.environ, "UV_CACHE_DIR": str(CACHE / "uv")}
        env.pop("VIRTUAL_ENV", None)
        subprocess.run([BIN / "uv", "venv", "--python", sys.executable, str(venv)],
                       check=True, env=env, capture_output=True)
        subprocess.run([BIN / "uv", "pip", "install", "--python", str(venv / "bin" / "python"),
                        "twine==6.1.0"], check=True, env=env, capture_output=True)
    return twine


def twine(url, token, *files, executable=None, extra=()):
    args = [str(executable or BIN / "twine"), "upload", "--repository-url", f"{url}/legacy/",
            "--non-interactive", "--disable-progress-bar", *extra, *map(str, files)]
    env = dict(CLIENT_ENV)
    if token is not None:
        env.update(TWINE_USERNAME="__token__", TWINE_PASSWORD=token)
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)


def uv_publish(url, token, *files, extra=()):
    args = [str(BIN / "uv"), "publish", "--publish-url", f"{url}/legacy/",
            "--trusted-publishing", "never", "--keyring-provider", "disabled",
            *extra, *map(str, files)]
    env = dict(CLIENT_ENV)
    if token is not None:
        env["UV_PUBLISH_TOKEN"] = token
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)


def output(result) -> str:
    return " ".join((result.stdout + result.stderr).split())


def test_twine_uploads_wheel_and_sdist_for_two_versions(live_server, dist):
    token = create_token(create_user("alice"))[1]

    result = twine(live_server.url, token, *sorted(dist.iterdir()))

    assert result.returncode == 0, output(result)
    assert sorted(File.objects.values_list("filename", flat=True)) == sorted(
        p.name for p in dist.iterdir())
    assert sorted(Release.objects.values_list("version", flat=True)) == ["1.0", "2.0"]
    assert Project.objects.get().name == "twine-demo"


def test_twine_reupload_of_identical_files_succeeds_without_changes(live_server, dist):
    token = create_token(create_user("alice"))[1]
    assert twine(live_server.url, token, *dist.iterdir()).returncode == 0
    serial = JournalEntry.objects.latest("id").id

    again = twine(live_server.url, token, *dist.iterdir())

    assert again.returncode == 0, output(again)
    assert JournalEntry.objects.latest("id").id == serial
    assert File.objects.count() == 4


def test_twine_61_skip_existing_skips_a_file_already_there(live_server, dist, twine61,
                                                         tmp_path):
    token = create_token(create_user("alice"))[1]
    wheel = dist / "twine_demo-1.0-py3-none-any.whl"
    assert twine(live_server.url, token, wheel).returncode == 0
    # Same filename, other bytes: the index answers "File already exists".
    _, other, _ = make_wheel("twine-demo", "1.0", modules={"twine_demo/x.py": "X = 1\n"})
    rebuilt = tmp_path / wheel.name
    rebuilt.write_bytes(other)
    sdist = dist / "twine_demo-1.0.tar.gz"

    without = twine(live_server.url, token, rebuilt, executable=twine61)
    skipping = twine(live_server.url, token, rebuilt, sdist, executable=twine61,
                     extra=["--skip-existing"])

    assert without.returncode == 1
    assert "File already exists" in output(without)
    assert skipping.returncode == 0, output(skipping)
    assert "Skipping twine_demo-1.0-py3-none-any.whl because it appears to already exist" in (
        output(skipping))
    assert set(File.objects.values_list("filename", flat=True)) == {wheel.name, sdist.name}


def test_uv_publish_uploads_and_check_url_skips_files_already_there(live_server, dist):
    token = create_token(create_user("alice"))[1]
    files = sorted(dist.glob("*1.0*"))

    first = uv_publish(live_server.url, token, *files)
    assert first.returncode == 0, output(first)
    serial = JournalEntry.objects.latest("id").id
    second = uv_publish(live_server.url, token, *sorted(dist.iterdir()),
                        extra=["--check-url", f"{live_server.url}/simple/"])

    assert first.returncode == 0, output(first)
    assert second.returncode == 0, output(second)
    assert "File twine_demo-1.0-py3-none-any.whl already exists, skipping" in output(second)
    assert File.objects.count() == 4
    # Only the two new files were journaled.
    assert JournalEntry.objects.filter(id__gt=serial, action__startswith="add ").count() == 2


def test_wrong_token_fails_with_403_and_the_message(live_server, dist):
    create_user("alice")

    result = twine(live_server.url, "isk_unknown_secret", dist / "twine_demo-1.0.tar.gz")

    assert result.returncode == 1
    assert "403" in output(result)
    assert "Invalid or non-existent authentication information" in output(result)
    assert not Project.objects.exists()


def test_missing_token_fails_with_401_and_the_message(live_server, dist):
    sdist = dist / "twine_demo-1.0.tar.gz"

    result = uv_publish(live_server.url, None, sdist)
    # uv reports the server's 401 challenge as missing credentials; the same
    # request from a plain HTTP client shows the status and the challenge.
    with sdist.open("rb") as content:
        direct = requests.post(f"{live_server.url}/legacy/", files={"content": content},
                               data={":action": "file_upload"}, timeout=30)

    assert result.returncode != 0
    assert f"Missing credentials for: {live_server.url}/legacy/" in output(result)
    assert direct.status_code == 401
    assert direct.headers["WWW-Authenticate"] == 'Basic realm="indexsite"'
    assert "__token__" in direct.reason
    assert not Project.objects.exists()


def test_token_for_another_project_fails_with_403_and_the_message(live_server, dist):
    alice = create_user("alice")
    create_project("twine-demo", owner=alice)
    other = create_project("other-project", owner=alice)
    token = create_token(alice, projects=[other])[1]

    result = twine(live_server.url, token, dist / "twine_demo-1.0.tar.gz")

    assert result.returncode == 1
    assert "403" in output(result)
    assert "isn't allowed to upload to project 'twine-demo'" in output(result)
    assert "scoped to other-project" in output(result)
    assert not File.objects.exists()


def test_user_without_role_fails_with_403_and_the_message(live_server, dist):
    create_project("twine-demo", owner=create_user("alice"))
    token = create_token(create_user("mallory"))[1]

    result = twine(live_server.url, token, dist / "twine_demo-1.0.tar.gz")

    assert result.returncode == 1
    assert "403" in output(result)
    assert "The user 'mallory' isn't allowed to upload to project 'twine-demo'" in (
        output(result))
    assert not File.objects.exists()


def test_maintainer_through_a_team_uploads_a_new_version(live_server, dist):
    alice = create_user("alice")
    owner_token = create_token(alice)[1]
    assert twine(live_server.url, owner_token, *sorted(dist.glob("*1.0*"))).returncode == 0
    bob = create_user("bob")
    team = Group.objects.create(name="release-team")
    bob.groups.add(team)
    add_role(Project.objects.get(), role_name=RoleName.MAINTAINER, group=team, by=alice)
    token = create_token(bob, projects=[Project.objects.get()])[1]

    result = twine(live_server.url, token, *sorted(dist.glob("*2.0*")))

    assert result.returncode == 0, output(result)
    release = Release.objects.get(version="2.0")
    assert release.uploader == bob
    assert sorted(release.files.values_list("filename", flat=True)) == [
        "twine_demo-2.0-py3-none-any.whl", "twine_demo-2.0.tar.gz"]
    assert set(release.files.values_list("uploader__username", flat=True)) == {"bob"}
    assert JournalEntry.objects.filter(version="2.0", submitted_by="bob").count() == 3
    # The simple page shows the new version's files at once.
    page = requests.get(f"{live_server.url}/simple/twine-demo/",
                        headers={"Accept": "application/vnd.pypi.simple.v1+json"}, timeout=30)
    assert {f["filename"] for f in page.json()["files"]} >= {
        "twine_demo-2.0-py3-none-any.whl", "twine_demo-2.0.tar.gz"}
    assert not Project.objects.get().roles.filter(user=bob).exists()


@pytest.mark.parametrize("path", ["/", "/simple/"])
def test_twine_and_uv_given_the_wrong_url_are_told_the_upload_url(live_server, dist, settings,
                                                                  path):
    token = create_token(create_user("alice"))[1]
    sdist = str(dist / "twine_demo-1.0.tar.gz")
    hint = ("This URL does not accept uploads or other POST requests. Upload with twine "
            f"(--repository-url) or uv publish (--publish-url) to {settings.INDEX_BASE_URL}"
            "/legacy/")

    with_twine = subprocess.run(
        [str(BIN / "twine"), "upload", "--repository-url", f"{live_server.url}{path}",
         "--non-interactive", "--disable-progress-bar", sdist],
        env={**CLIENT_ENV, "TWINE_USERNAME": "__token__", "TWINE_PASSWORD": token},
        capture_output=True, text=True, timeout=120)
    with_uv = subprocess.run(
        [str(BIN / "uv"), "publish", "--publish-url", f"{live_server.url}{path}",
         "--trusted-publishing", "never", "--keyring-provider", "disabled", sdist],
        env={**CLIENT_ENV, "UV_PUBLISH_TOKEN": token},
        capture_output=True, text=True, timeout=120)

    assert with_twine.returncode == 1
    # twine prints the status line and, below it, the reason phrase.
    assert f"HTTPError: 403 Forbidden from {live_server.url}{path} {hint}" in output(with_twine)
    # uv prints the body.
    assert with_uv.returncode != 0
    assert f"Server returned status code 403 Forbidden. Server says: {hint}" in output(with_uv)
    assert not File.objects.exists()
