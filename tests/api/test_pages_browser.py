"""A project page in a real browser: what a person following an RSS item or a
JSON ``release_url`` sees."""

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from packages.uploads.descriptions import render_release_description
from tests.client_env import BIN, client_env
from tests.dists import make_wheel
from tests.factories import create_user, publish


def test_project_page_in_chromium(live_server, browser_page, tmp_path):
    publish("Browse.Me", "1.0", description="Old text", description_content_type="text/plain")
    latest = publish("Browse.Me", "1.1", summary="Browsable",
                     description="# Welcome\n\nInstall and *enjoy*.",
                     description_content_type="text/markdown")
    render_release_description(latest.pk)
    page = browser_page
    page.goto(f"{live_server.url}/project/Browse_Me/")  # redirected to the normalized URL
    assert page.url == f"{live_server.url}/project/browse-me/"
    assert page.text_content("#title").strip() == "Browse.Me 1.1"
    assert page.text_content("#description h1").strip() == "Welcome"
    assert page.text_content("#install") == (  # the address the browser reached
        f"pip install --index-url {live_server.url}/simple/ browse-me"
    )
    page.screenshot(path=str(tmp_path / "project.png"), full_page=True)
    assert (tmp_path / "project.png").stat().st_size > 5_000

    page.click("#history >> text=1.0")
    assert page.text_content("#title").strip() == "Browse.Me 1.0"
    assert page.text_content("#install").endswith("/simple/ browse-me==1.0")
    # The file link downloads the stored wheel.
    wheel = latest.project.releases.get(version="1.0").files.get(packagetype="bdist_wheel")
    response = page.request.get(f"{live_server.url}/{wheel.path}")
    assert response.status == 200 and len(response.body()) == wheel.size


def artifacts_dir(request, tmp_path) -> Path:
    """Where a test keeps its screenshots: $INDEXSITE_TEST_ARTIFACTS/<test>/ when
    set (CI uploads that folder), else the test's tmp_path."""
    root = os.environ.get("INDEXSITE_TEST_ARTIFACTS")
    folder = Path(root) / request.node.name if root else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    print(f"screenshots in {folder}")
    return folder


@pytest.mark.clients
def test_developer_searches_opens_copies_and_installs(live_server, browser_page, settings,
                                                      request, tmp_path):
    settings.INDEX_BASE_URL = live_server.url
    publish("Findable.Widget", "1.0", summary="Widgets for finding")
    publish("Findable.Widget", "1.1", summary="Widgets for finding, again")
    publish("unrelated", "3.0", summary="Something else")
    artifacts = artifacts_dir(request, tmp_path)
    page = browser_page

    page.goto(f"{live_server.url}/")
    assert "Findable.Widget 1.1" in page.text_content("#releases")
    page.screenshot(path=str(artifacts / "home.png"), full_page=True)
    page.fill("#search-q", "widget")
    page.press("#search-q", "Enter")
    page.wait_for_url(f"{live_server.url}/search/?q=widget")
    assert page.text_content("#results >> a").strip() == "Findable.Widget"
    assert "unrelated" not in page.text_content("#results")
    page.click("#results >> text=Findable.Widget")
    page.wait_for_url(f"{live_server.url}/project/findable-widget/")
    assert page.text_content("#title").strip() == "Findable.Widget 1.1"
    page.screenshot(path=str(artifacts / "project.png"), full_page=True)

    # What a person copies: the selection after a triple click on the command.
    page.click("#install", click_count=3)
    copied = page.evaluate("window.getSelection().toString()").strip()
    assert copied == f"pip install --index-url {live_server.url}/simple/ findable-widget"
    command = shlex.split(copied)
    assert command[:2] == ["pip", "install"]

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    result = subprocess.run(
        [str(BIN / "python"), "-m", "pip", "--python", str(venv / "bin" / "python"),
         *command[1:]],
        env=client_env(), capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    installed = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import findable_widget; print(findable_widget.VERSION)"],
        check=True, capture_output=True, text=True,
    )
    assert installed.stdout.strip() == "1.1"
    for name in ("home.png", "project.png"):
        assert (artifacts / name).stat().st_size > 5_000


@pytest.mark.clients
def test_developer_creates_a_token_and_uploads_with_the_pypirc_snippet(
        live_server, browser_page, settings, request, tmp_path):
    settings.INDEX_BASE_URL = live_server.url
    owner = create_user("dev", password="dev-password-123")
    publish("token-demo", "1.0", owner=owner)
    artifacts = artifacts_dir(request, tmp_path)
    page = browser_page

    page.goto(f"{live_server.url}/")
    page.click("#nav-login")
    page.fill("#id_username", "dev")
    page.fill("#id_password", "dev-password-123")
    page.click("#login-form >> button")
    page.wait_for_url(f"{live_server.url}/account/tokens/")
    page.fill("#id_description", "ci upload")
    page.check("input[name=scope][value=selected]")
    page.select_option("#id_projects", label="token-demo")
    page.click("#create")
    secret = page.text_content("#token-secret").strip()
    assert secret.startswith("isk_")
    page.screenshot(path=str(artifacts / "tokens.png"), full_page=True)
    pypirc = page.locator("#new-token pre.snippet").first.text_content()
    assert f"password = {secret}" in pypirc

    # A reload shows the token but never the secret again.
    page.goto(f"{live_server.url}/account/tokens/")
    assert "ci upload" in page.text_content("#tokens")
    assert secret not in page.content()

    (tmp_path / "pypirc").write_text(pypirc)
    filename, content, _ = make_wheel("token-demo", "2.0")
    (tmp_path / filename).write_bytes(content)
    result = subprocess.run(
        [str(BIN / "twine"), "upload", "--config-file", str(tmp_path / "pypirc"),
         "-r", "indexsite", "--non-interactive", "--disable-progress-bar",
         str(tmp_path / filename)],
        env=client_env(), capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    page.goto(f"{live_server.url}/project/token-demo/")
    assert page.text_content("#title").strip() == "token-demo 2.0"
