"""The admin in a real browser (Debian's headless Chromium driven by Playwright):
an admin logs in, creates a user, a project with a role, and a token."""

from django.contrib.auth.models import User

from packages.models import Project, Role
from packages.tokens import find_active_token


def test_admin_creates_user_project_role_and_token(live_server, browser_page, tmp_path):
    User.objects.create_superuser("root", "", "a-long-admin-password")
    page = browser_page
    page.goto(f"{live_server.url}/admin/")
    page.fill("#id_username", "root")
    page.fill("#id_password", "a-long-admin-password")
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")

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
