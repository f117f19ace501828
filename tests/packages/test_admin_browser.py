"""The admin in a real browser (Debian's headless Chromium driven by Playwright)
against a live server, with real pip and twine: an admin creates a user, a project
with a role, and a token; a curator yanks, quarantines, approves and revokes
through the confirmation pages, and the clients see it; the dashboard's chart is
kept as screenshots (the folder is printed: $INDEXSITE_TEST_ARTIFACTS or the
test's tmp_path)."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from packages.curation.tokens import create_token, find_active_token
from packages.models import ApiToken, File, JournalEntry, Project, Release, Role
from tests.client_env import BIN, client_env
from tests.dists import make_wheel
from tests.factories import create_user, publish

CLIENT_ENV = client_env()


@pytest.fixture(autouse=True)
def _fresh_simple_pages():
    from packages.http.shared_cache import local_bodies

    local_bodies.clear()
    yield
    local_bodies.clear()


@pytest.fixture
def artifacts(tmp_path, request):
    """Where screenshots are kept: $INDEXSITE_TEST_ARTIFACTS/<test name>, else tmp_path."""
    base = os.environ.get("INDEXSITE_TEST_ARTIFACTS")
    folder = Path(base) / request.node.name if base else tmp_path / "artifacts"
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots of {request.node.name}: {folder}")
    return folder


def log_in(page, url, username="root", password="a-long-admin-password"):
    page.goto(f"{url}/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")


def run_action(page, url, model, action, obj, **form):
    """Tick ``obj`` on the changelist, run ``action``, read the confirmation page,
    fill ``form`` and confirm; returns the confirmation page's text."""
    page.goto(f"{url}/admin/packages/{model}/")
    page.check(f"input[name=_selected_action][value='{obj.pk}']")
    page.select_option("select[name=action]", action)
    page.click("button[name=index]")
    page.wait_for_selector("#planned-changes")
    planned = page.text_content("#planned-changes")
    for name, value in form.items():
        if page.locator(f"select#id_{name}").count():
            page.select_option(f"#id_{name}", value)
        else:
            page.fill(f"#id_{name}", value)
    page.click("#confirm-action")
    page.wait_for_selector(".messagelist")
    return planned


def pip_install(venv, url, *requirements):
    return subprocess.run(
        [str(BIN / "python"), "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
         "--index-url", f"{url}/simple/", *requirements],
        env=CLIENT_ENV, capture_output=True, text=True, timeout=120)


def installed_version(venv, module):
    return subprocess.run([str(venv / "bin" / "python"), "-c",
                           f"import {module}; print({module}.VERSION)"],
                          check=True, capture_output=True, text=True).stdout.strip()


def twine_upload(url, token, path):
    env = {**CLIENT_ENV, "TWINE_USERNAME": "__token__", "TWINE_PASSWORD": token}
    return subprocess.run(
        [str(BIN / "twine"), "upload", "--repository-url", f"{url}/legacy/",
         "--non-interactive", "--disable-progress-bar", str(path)],
        env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def venv(tmp_path):
    path = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    return path


@pytest.fixture
def curator(live_server, browser_page):
    User.objects.create_superuser("root", "", "a-long-admin-password")
    log_in(browser_page, live_server.url)
    return browser_page


def test_admin_creates_user_project_role_and_token(live_server, browser_page, tmp_path):
    User.objects.create_superuser("root", "", "a-long-admin-password")
    page = browser_page
    log_in(page, live_server.url)

    page.goto(f"{live_server.url}/admin/auth/user/add/")
    page.fill("#id_username", "carol")
    if page.locator("#id_usable_password_0").count():
        page.check("#id_usable_password_0")
    page.fill("#id_password1", "carol-has-a-long-password")
    page.fill("#id_password2", "carol-has-a-long-password")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist")
    carol = User.objects.get(username="carol")

    page.goto(f"{live_server.url}/admin/packages/project/add/")
    page.fill("#id_name", "Browser.Made")
    page.select_option("#id_roles-0-role_name", "Owner")
    # The user field is an autocomplete widget; its underlying <select> takes the id.
    page.evaluate(
        "([id]) => { const s = document.querySelector('#id_roles-0-user');"
        " s.add(new Option('carol', id, true, true)); }", [str(carol.pk)])
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist")
    project = Project.objects.get(normalized_name="browser-made")
    assert Role.objects.filter(project=project, user=carol, role_name="Owner").exists()

    page.goto(f"{live_server.url}/admin/packages/apitoken/add/")
    page.evaluate(
        "([id]) => { const s = document.querySelector('#id_user');"
        " s.add(new Option('carol', id, true, true)); }", [str(carol.pk)])
    page.fill("#id_description", "laptop")
    page.click("input[name=_save]")
    token_text = page.text_content("#new-token")
    page.screenshot(path=str(tmp_path / "token.png"))
    token = find_active_token(token_text)
    assert token is not None and token.user == carol and token.description == "laptop"
    # The page shows the token once; its list never does.
    page.goto(f"{live_server.url}/admin/packages/apitoken/")
    assert token_text not in page.content()


@pytest.mark.clients
def test_a_curator_yanks_a_release_and_pip_skips_it(live_server, curator, venv):
    publish("Yank.Flow", "1.0")
    newest = publish("Yank.Flow", "2.0")

    planned = run_action(curator, live_server.url, "release", "yank_selected", newest,
                         reason="broken build")

    assert "yank_flow-2.0-py3-none-any.whl" in planned
    assert JournalEntry.objects.latest("id").action == "yank release"
    result = pip_install(venv, live_server.url, "Yank.Flow")
    assert result.returncode == 0, result.stdout + result.stderr
    assert installed_version(venv, "yank_flow") == "1.0"


@pytest.mark.clients
def test_a_curator_quarantines_one_release_and_it_leaves_simple(live_server, curator, venv):
    publish("Quiet.Flow", "1.0")
    bad = publish("Quiet.Flow", "2.0")
    # Through the page's request context, not the browser's tab: the tab would keep
    # the first answer in its HTTP cache for the page's max-age, as any client may.
    simple = f"{live_server.url}/simple/quiet-flow/"
    assert "quiet_flow-2.0-py3-none-any.whl" in curator.request.get(simple).text()

    run_action(curator, live_server.url, "release", "quarantine_selected", bad,
               reason="malware")

    page = curator.request.get(simple).text()
    assert "quiet_flow-1.0-py3-none-any.whl" in page
    assert "quiet_flow-2.0" not in page
    assert pip_install(venv, live_server.url, "Quiet.Flow==2.0").returncode != 0
    result = pip_install(venv, live_server.url, "Quiet.Flow")
    assert result.returncode == 0, result.stdout + result.stderr
    assert installed_version(venv, "quiet_flow") == "1.0"


@pytest.mark.clients
def test_a_curator_approves_a_pending_project_and_pip_installs_it(
    live_server, curator, venv, settings, tmp_path
):
    settings.INDEX_PROJECT_CREATION = "moderated"
    _, token = create_token(create_user("alice"))
    filename, content, _ = make_wheel("Wait.Flow", "1.0")
    (tmp_path / filename).write_bytes(content)
    uploaded = twine_upload(live_server.url, token, tmp_path / filename)
    assert uploaded.returncode == 0, uploaded.stdout + uploaded.stderr
    project = Project.objects.get()
    assert project.status == "pending"
    assert pip_install(venv, live_server.url, "Wait.Flow").returncode != 0

    curator.goto(f"{live_server.url}/admin/packages/project/?pending=yes")
    assert "Wait.Flow" in curator.content()
    run_action(curator, live_server.url, "project", "approve_selected", project)

    assert Project.objects.get().status == "active"
    result = pip_install(venv, live_server.url, "Wait.Flow")
    assert result.returncode == 0, result.stdout + result.stderr
    assert installed_version(venv, "wait_flow") == "1.0"


@pytest.mark.clients
def test_a_curator_revokes_a_token_and_twine_fails_with_it(live_server, curator, tmp_path):
    alice = create_user("alice")
    publish("Token.Flow", "1.0", owner=alice)
    token, plaintext = create_token(alice, description="ci")
    filename, content, _ = make_wheel("Token.Flow", "2.0")
    (tmp_path / filename).write_bytes(content)

    curator.goto(f"{live_server.url}/admin/auth/user/{alice.pk}/change/")
    assert token.identifier in curator.content()
    planned = run_action(curator, live_server.url, "apitoken", "revoke_selected", token)

    assert "Revoked at once" in planned
    assert ApiToken.objects.get().revoked is not None
    result = twine_upload(live_server.url, plaintext, tmp_path / filename)
    assert result.returncode != 0
    assert "403" in result.stdout + result.stderr
    assert not Release.objects.filter(version="2.0").exists()


def test_the_dashboard_chart_opens_and_is_kept_as_screenshots(live_server, curator, artifacts):
    for version in ("1.0", "1.1", "2.0"):
        publish("Chart.Flow", version)
    # Spread the first two releases' files over earlier days, so that the chart has shape.
    for days, version in ((40, "1.0"), (12, "1.1")):
        File.objects.filter(release__version=version).update(
            upload_time=timezone.now() - timedelta(days=days))

    curator.goto(f"{live_server.url}/admin/")
    curator.click("#dashboard-link a")
    curator.wait_for_selector("#uploads-chart")

    assert curator.locator("#uploads-chart rect.bar").count() == 90
    chart = curator.inner_html("#uploads-chart")
    assert chart.count("2 upload(s)") == 3 and "6 in all" in chart
    assert "chart_flow-2.0.tar.gz" in curator.text_content("#recent-uploads")
    curator.screenshot(path=str(artifacts / "dashboard.png"), full_page=True)
    curator.locator("#uploads-chart").screenshot(path=str(artifacts / "dashboard-chart.png"))
    assert (artifacts / "dashboard.png").stat().st_size > 10_000
