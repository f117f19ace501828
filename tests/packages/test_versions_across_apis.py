"""Every API answers from packages/versions.py: the simple pages, the JSON API,
the project pages, the feeds and XML-RPC order versions, pick the latest and
find a release alike, as PyPI does (packaging_legacy order, the trigger's
pre-release rule, canonical version look-up)."""

import json
import xmlrpc.client

import feedparser
import pytest
from packaging_legacy.version import parse as legacy_parse

from packages.models import Release
from tests.factories import add_file, create_project, create_release, create_user
from tests.packages.test_uploads import upload

pytestmark = pytest.mark.django_db

SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"


def imported(project, version: str, *, canonical: str | None = None, **fields) -> Release:
    """A release row as an import of old data writes it (no Release.save), e.g. a
    version that is not PEP 440, which no upload accepts any more."""
    (release,) = Release.objects.bulk_create([Release(
        project=project, version=version, canonical_version=canonical or version, **fields
    )])
    return release


def with_sdist(release: Release) -> Release:
    add_file(release, f"{release.project.name}-{release.version}.tar.gz",
             f"{release.project.name} {release.version}".encode())
    return release


def rpc(client, method: str, *params):
    body = xmlrpc.client.dumps(params, methodname=method, allow_none=True)
    response = client.post("/pypi", data=body, content_type="text/xml")
    assert response.status_code == 200, response.content[:300]
    return xmlrpc.client.loads(response.content)[0][0]


def test_simple_pages_order_legacy_versions_as_packaging_legacy(client):
    project = create_project("oldtimer")
    versions = ["r10", "1.0", "r9", "0.1dev-r123", "2004d", "r9.x"]
    for version in versions:
        with_sdist(imported(project, version))

    data = json.loads(client.get("/simple/oldtimer/", HTTP_ACCEPT=SIMPLE_JSON).content)
    expected = sorted(versions, key=legacy_parse)
    assert data["versions"] == expected == ["r9", "r9.x", "r10", "0.1dev-r123", "2004d", "1.0"]
    assert [f["filename"] for f in data["files"]] == [f"oldtimer-{v}.tar.gz" for v in expected]
    html = client.get("/simple/oldtimer/").content.decode()
    positions = [html.index(f">oldtimer-{v}.tar.gz<") for v in expected]
    assert positions == sorted(positions)


def test_newest_projects_feed_describes_the_highest_version_in_pypis_order(client):
    project = create_project("oldtimer")
    imported(project, "r10", summary="the tenth")
    imported(project, "r9", summary="the ninth")  # created after r10: a higher id
    feed = feedparser.parse(client.get("/rss/packages.xml").content)
    assert [e.description for e in feed.entries] == ["the tenth"]


def test_json_api_project_page_and_xmlrpc_agree_that_a_local_version_is_a_prerelease(client):
    # PyPI's trigger counts 1.1+cpu as a pre-release (PEP 440 does not).
    project = create_project("torchy")
    create_release(project, "1.0")
    create_release(project, "1.1+cpu")

    document = json.loads(client.get("/pypi/torchy/json").content)
    assert document["info"]["version"] == "1.0"
    assert rpc(client, "package_releases", "torchy") == ["1.0"]
    assert rpc(client, "package_releases", "torchy", True) == ["1.1+cpu", "1.0"]
    page = client.get("/project/torchy/").content.decode()
    assert "<title>torchy 1.0" in page


def test_json_api_and_project_page_find_the_same_release(client):
    project = create_project("imported")
    imported(project, "7.0.0", summary="seven")  # canonical form stored with its zeros
    create_release(project, "7.1")

    for spelling in ("7", "7.0", "7.0.0"):
        document = json.loads(client.get(f"/pypi/imported/{spelling}/json").content)
        assert document["info"]["version"] == "7.0.0"
        page = client.get(f"/project/imported/{spelling}/")
        assert page.status_code == 200
        assert "<title>imported 7.0.0" in page.content.decode()
    assert client.get("/pypi/imported/7.2/json").status_code == 404
    assert client.get("/project/imported/7.2/").status_code == 404


def test_an_upload_joins_the_release_the_json_api_serves_for_its_version(client):
    alice = create_user("alice")
    upload(alice, "hello", "7.0.0")
    Release.objects.update(canonical_version="7.0.0")  # as an old import stored it

    result = upload(alice, "hello", "7", sdist=True)

    assert result.created and result.file.release.version == "7.0.0"
    assert list(Release.objects.values_list("version", flat=True)) == ["7.0.0"]
    document = json.loads(client.get("/pypi/hello/7/json").content)
    assert document["info"]["version"] == "7.0.0" and len(document["urls"]) == 2
