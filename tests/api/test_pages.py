"""Project pages: where the JSON API's package_url/release_url and the RSS items point."""

import base64

import pytest

from packages.curation.projects import set_project_status
from packages.curation.release_states import quarantine_release
from packages.curation.yanking import yank_release
from packages.models import Project
from packages.uploads.descriptions import render_release_description
from tests.factories import create_project, create_user, publish


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
    assert "pip install --index-url http://testserver/simple/ page-proj</pre>" in page
    assert '<h1 id="user-content-newer">Newer' in page  # the rendered description
    assert "https://example.invalid/src" in page
    # Every file of the release with its hash, linked to its stored path.
    for file in project.releases.get(version="1.1").files.all():
        assert f'href="/{file.path}"' in page and file.sha256_digest in page


def test_version_page_and_history(client, project):
    page = client.get("/project/page-proj/1.0/").content.decode()
    assert "Page.Proj 1.0" in page
    assert "pip install --index-url http://testserver/simple/ page-proj==1.0</pre>" in page
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
    newest = page[page.index('id="newest"'):page.index('id="releases"')]
    assert newest.index("hidden-one") < newest.index("Page.Proj")
    releases = page[page.index('id="releases"'):]
    assert releases.index("hidden-one 1.0") < releases.index("Page.Proj 2.0rc1")
    assert "sus" not in newest and "sus" not in releases
    assert 'action="/search/"' in page
    assert "pip install --index-url http://testserver/simple/ PACKAGE" in page


def test_install_command_names_this_index_and_the_credentials_hint(client, project, settings):
    settings.INDEX_BASE_URL = "https://pkgs.example.test/base"
    page = client.get("/project/page-proj/").content.decode()
    assert "pip install --index-url https://pkgs.example.test/base/simple/ page-proj</pre>" in page
    assert "__token__" not in page
    settings.INDEX_READ_AUTH = "authenticated"
    create_user("reader", password="s3cret-password")
    auth = "Basic " + base64.b64encode(b"reader:s3cret-password").decode()
    page = client.get("/project/page-proj/", HTTP_AUTHORIZATION=auth).content.decode()
    assert "https://__token__:&lt;token&gt;@pkgs.example.test/base/simple/" in page


def test_quarantined_release_is_hidden_from_people_and_marked_for_staff(client, project):
    quarantine_release(project.releases.get(version="1.1"), reason="bad build")
    page = client.get("/project/page-proj/").content.decode()
    assert "Page.Proj 1.0</h1>" in page  # the latest visible release
    assert ">1.1<" not in page[page.index('id="history"'):]
    assert client.get("/project/page-proj/1.1/").status_code == 404

    client.force_login(create_user("curator", is_staff=True))
    page = client.get("/project/page-proj/1.1/").content.decode()
    assert "This release is quarantined: bad build" in page
    history = page[page.index('id="history"'):]
    assert '1.1</a> <span class="mark quarantined">quarantined</span>' in history
    assert '2.0rc1</a> <span class="mark">pre-release</span>' in history


def test_yanked_mark_in_history(client, project):
    yank_release(project.releases.get(version="1.0"), reason="")
    history = client.get("/project/page-proj/").content.decode().split('id="history"')[1]
    assert '1.0</a> <span class="mark yanked">yanked</span>' in history


@pytest.mark.parametrize("status", ["quarantined", "pending"])
def test_hidden_project_is_404_for_people_and_shown_to_staff(client, project, status):
    Project.objects.filter(pk=project.pk).update(status=status)
    assert client.get("/project/page-proj/").status_code == 404
    assert client.get("/project/page-proj/1.0/").status_code == 404
    client.force_login(create_user("curator", is_staff=True))
    page = client.get("/project/page-proj/").content.decode()
    assert 'id="status">This project is' in page


def test_files_dependencies_extras_and_api_links(client, db):
    release = publish("Deps", "1.0", requires_python=">=3.9",
                      requires_dist=["requests>=2", 'rich; extra == "fancy"'],
                      provides_extra=["fancy"])
    page = client.get("/project/deps/").content.decode()
    files = page[page.index('id="files"'):page.index('id="dependencies"')]
    for file in release.files.all():
        assert file.filename in files and file.sha256_digest in files
        assert file.md5_digest in files and file.blake2_256_digest in files
        assert file.upload_time.strftime("%Y-%m-%d %H:%M") in files
    assert files.count("&gt;=3.9") == release.files.count()
    assert "KB" in files or "bytes" in files
    assert "<code>requests&gt;=2</code>" in page
    assert "<code>rich; extra == &quot;fancy&quot;</code>" in page
    assert '<ul id="extras"><li><code>fancy</code></li></ul>' in page
    links = page[page.index('id="api-links"'):]
    for href in ("/simple/deps/", "/pypi/deps/json", "/rss/project/deps/releases.xml"):
        assert f'href="{href}"' in links
    assert client.get("/simple/deps/").status_code == 200
    assert client.get("/pypi/deps/json").status_code == 200


def test_projects_list_is_paginated_and_visible_only(client, db):
    for n in range(45):
        create_project(f"proj-{n:02d}")
    set_project_status(Project.objects.get(name="proj-03"), "quarantined")
    first = client.get("/projects/").content.decode()
    assert "44 projects" in first and "Page 1 of 3" in first
    assert ">proj-00<" in first and ">proj-20<" in first and ">proj-21<" not in first
    assert ">proj-03<" not in first
    last = client.get("/projects/?page=3").content.decode()
    assert ">proj-44<" in last and "Page 3 of 3" in last
    assert client.get("/projects/?page=zzz").status_code == 200
    assert client.get("/projects/?page=99999999999999999999").status_code == 200


def test_legacy_release_link_redirects_to_the_release_page(client, project):
    response = client.get("/legacy/Page_Proj/1.0/")
    assert response.status_code == 302
    assert response["Location"] == "/project/page-proj/1.0/"
    assert client.get(response["Location"]).status_code == 200


def test_index_name_setting_names_the_pages(client, project, settings):
    settings.INDEX_NAME = "Acme Packages"
    for url in ("/", "/projects/", "/search/?q=page", "/project/page-proj/"):
        page = client.get(url).content.decode()
        assert '<a class="brand" href="/">Acme Packages</a>' in page, url
    assert "<title>Acme Packages</title>" in client.get("/").content.decode()
    settings.INDEX_NAME = "indexsite"
    assert '<a class="brand" href="/">indexsite</a>' in client.get("/").content.decode()
