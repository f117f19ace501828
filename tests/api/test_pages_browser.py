"""A project page in a real browser: what a person following an RSS item or a
JSON ``release_url`` sees."""

from packages.uploads.descriptions import render_release_description
from tests.factories import publish


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
    assert page.text_content("#install") == "pip install browse-me"
    page.screenshot(path=str(tmp_path / "project.png"), full_page=True)
    assert (tmp_path / "project.png").stat().st_size > 5_000

    page.click("#history >> text=1.0")
    assert page.text_content("#title").strip() == "Browse.Me 1.0"
    assert page.text_content("#install") == "pip install browse-me==1.0"
    # The file link downloads the stored wheel.
    wheel = latest.project.releases.get(version="1.0").files.get(packagetype="bdist_wheel")
    response = page.request.get(f"{live_server.url}/{wheel.path}")
    assert response.status == 200 and len(response.body()) == wheel.size
