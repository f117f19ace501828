"""Project pages: where the JSON API's package_url/release_url and the RSS items point."""

import pytest

from packages.curation.projects import set_project_status
from packages.curation.yanking import yank_release
from packages.uploads.descriptions import render_release_description
from tests.factories import publish


@pytest.fixture
def project(db):
    publish("Page.Proj", "1.0", description="# Hello\n\nSome *markdown*.",
            description_content_type="text/markdown")
    latest = publish("Page.Proj", "1.1", summary="<script>alert(1)</script>",
                     description="# Newer", description_content_type="text/markdown",
                     project_urls=["Source, https://example.invalid/src"])
    publish("Page.Proj", "2.0rc1")
    for release in latest.project.releases.all():
        render_release_description(release.pk)
    return latest.project


def test_latest_page_shows_the_latest_final_release(client, project):
    page = client.get("/project/page-proj/").content.decode()
    assert "<h1 id=\"title\">Page.Proj 1.1</h1>" in page
    assert "pip install page-proj</pre>" in page
    assert '<h1 id="user-content-newer">Newer' in page  # the rendered description
    assert "https://example.invalid/src" in page
    # Every file of the release with its hash, linked to its stored path.
    for file in project.releases.get(version="1.1").files.all():
        assert f'href="/{file.path}"' in page and file.sha256_digest in page


def test_version_page_and_history(client, project):
    page = client.get("/project/page-proj/1.0/").content.decode()
    assert "Page.Proj 1.0" in page and "pip install page-proj==1.0" in page
    assert "<em>markdown</em>" in page
    history = page[page.index('id="history"'):]
    assert history.index(">2.0rc1<") < history.index(">1.1<") < history.index(">1.0<")


def test_summary_is_escaped(client, project):
    page = client.get("/project/page-proj/").content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_yanked_release_shows_a_banner(client, project):
    yank_release(project.releases.get(version="1.0"), reason="broken wheel")
    page = client.get("/project/page-proj/1.0/").content.decode()
    assert "This release is yanked: broken wheel." in page


def test_other_spellings_redirect_and_unknowns_are_404(client, project):
    response = client.get("/project/Page_Proj/1.0/")
    assert response.status_code == 301 and response["Location"] == "/project/page-proj/1.0/"
    assert client.get("/project/nope/").status_code == 404
    assert client.get("/project/page-proj/9.9/").status_code == 404


def test_quarantined_project_has_no_page(client, project):
    set_project_status(project, "quarantined", reason="malware")
    assert client.get("/project/page-proj/").status_code == 404


def test_page_queries_do_not_grow_with_releases(client, project, django_assert_max_num_queries):
    for n in range(30):
        publish("Page.Proj", f"3.{n}", sdist=False)
    with django_assert_max_num_queries(5):
        assert client.get("/project/page-proj/").status_code == 200


def test_home_page_lists_recent_visible_projects(client, project):
    publish("hidden-one", "1.0")
    set_project_status(publish("sus", "1.0").project, "quarantined")
    page = client.get("/").content.decode()
    recent = page[page.index('id="recent"'):]
    assert recent.index("hidden-one") < recent.index("Page.Proj")
    assert "sus" not in recent
    assert "pip install --index-url http://127.0.0.1:8000/simple/ PACKAGE" in page
