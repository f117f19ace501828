"""/pypi/<name>/json and /pypi/<name>/<version>/json against json-api.md."""

import json

from packages.curation.yanking import yank_release
from packages.http.conditional import md5_etag
from packages.models import Project, ProjectStatus
from tests.api.conftest import EXPECTED_TINYPROJ, TINYPROJ_SERIAL
from tests.factories import create_project, create_release, publish

CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": (
        "Content-Type, If-Match, If-Modified-Since, If-None-Match, If-Unmodified-Since"
    ),
    "Access-Control-Allow-Methods": "GET",
    "Access-Control-Max-Age": "86400",
    "Access-Control-Expose-Headers": "X-PyPI-Last-Serial",
}


def _spec_body_on_our_host() -> bytes:
    # The only value we cannot reproduce: PyPI serves files from another host.
    return EXPECTED_TINYPROJ.replace(
        b"https://files.pythonhosted.org/packages/", b"https://pypi.org/packages/"
    )


def test_spec_example_etag_is_md5_base64_of_its_bytes():
    assert len(EXPECTED_TINYPROJ) == 4977
    assert md5_etag(EXPECTED_TINYPROJ) == '"wnjBHTjNCu8d5p76HJ6JxA"'


def test_project_body_is_byte_for_byte_the_spec_example(client, tinyproj):
    response = client.get("/pypi/tinyproj/json")
    assert response.status_code == 200
    assert response.content == _spec_body_on_our_host()
    assert response["Content-Type"] == "application/json"
    assert response["Content-Length"] == str(len(response.content))
    assert response["ETag"] == md5_etag(response.content)
    assert response["X-PyPI-Last-Serial"] == str(TINYPROJ_SERIAL)
    assert response["Cache-Control"] == "max-age=900, public"
    assert response["Surrogate-Control"] == (
        "max-age=86400, stale-while-revalidate=300, stale-if-error=86400"
    )
    assert response["Surrogate-Key"] == "all-legacy-json project-legacy-json project/tinyproj"
    for header, value in CORS.items():
        assert response[header] == value
    assert not response.has_header("Vary")
    assert not response.has_header("Allow")


def test_version_route_serves_yanked_release_without_releases(client, tinyproj):
    response = client.get("/pypi/tinyproj/1.1.0/json")
    assert response.status_code == 200
    body = json.loads(response.content)
    assert sorted(body) == ["info", "last_serial", "ownership", "urls", "vulnerabilities"]
    assert body["info"]["version"] == "1.1.0"
    assert body["info"]["yanked"] is True
    assert body["info"]["yanked_reason"] == "broken import on Windows"
    assert body["info"]["requires_python"] == ">=3.10"
    assert body["info"]["release_url"] == "https://pypi.org/project/tinyproj/1.1.0/"
    assert [f["filename"] for f in body["urls"]] == ["tinyproj-1.1.0-py3-none-any.whl"]
    spec = json.loads(_spec_body_on_our_host())
    assert body["urls"] == spec["releases"]["1.1.0"]
    assert body["ownership"] == spec["ownership"]
    assert response["Surrogate-Key"] == "all-legacy-json project/tinyproj release-legacy-json"
    assert response.content.endswith(b"}\n") and b", " not in response.content[:100]


def test_version_route_accepts_other_spellings_and_reports_stored_version(client, tinyproj):
    for spelling in ["1.1", "1.1.0.0", "v1.1.0", "1.1.0"]:
        response = client.get(f"/pypi/tinyproj/{spelling}/json")
        assert response.status_code == 200, spelling
        assert json.loads(response.content)["info"]["version"] == "1.1.0"


def test_version_route_body_matches_project_route_for_latest(client, tinyproj):
    project_body = json.loads(client.get("/pypi/tinyproj/json").content)
    release_body = json.loads(client.get("/pypi/tinyproj/1.0/json").content)
    del project_body["releases"]
    assert release_body == project_body


def test_non_normalized_name_redirects_permanently_with_cache_headers(client, tinyproj):
    response = client.get("/pypi/TinyProj/json")
    assert response.status_code == 301
    assert response["Location"] == "https://pypi.org/pypi/tinyproj/json"
    assert response["Cache-Control"] == "max-age=900, public"
    assert "project/tinyproj" in response["Surrogate-Key"].split()
    assert response["Access-Control-Allow-Origin"] == "*"
    assert not response.has_header("X-PyPI-Last-Serial")
    assert not response.has_header("ETag")

    response = client.get("/pypi/Tiny_Proj/1.1/json")
    assert response.status_code == 404  # "tiny-proj" is another project

    project = Project.objects.get()
    project.name = "Tiny_Proj"
    project.save()
    response = client.get("/pypi/TINY.PROJ/1.1/json")
    assert response.status_code == 301
    assert response["Location"] == "https://pypi.org/pypi/tiny-proj/1.1/json"
    followed = client.get("/pypi/tiny-proj/1.1/json")
    assert followed.status_code == 200
    assert json.loads(followed.content)["info"]["name"] == "Tiny_Proj"


def test_trailing_slash_serves_the_same_document(client, tinyproj):
    assert client.get("/pypi/tinyproj/json/").content == _spec_body_on_our_host()
    with_slash = client.get("/pypi/tinyproj/1.1/json/")
    assert with_slash.status_code == 200
    assert with_slash.content == client.get("/pypi/tinyproj/1.1/json").content


def _assert_not_found(response):
    assert response.status_code == 404
    assert response.content == b'{"message": "Not Found"}'
    assert response["Content-Type"] == "application/json"
    assert response["Access-Control-Allow-Origin"] == "*"
    for header in ["Cache-Control", "ETag", "Surrogate-Key", "X-PyPI-Last-Serial"]:
        assert not response.has_header(header), header


def test_unknown_project_and_version_are_json_404(client, tinyproj):
    _assert_not_found(client.get("/pypi/nope/json"))
    _assert_not_found(client.get("/pypi/nope/1.0/json"))
    _assert_not_found(client.get("/pypi/tinyproj/9.9/json"))
    _assert_not_found(client.get("/pypi/tinyproj/not a version/json"))


def test_project_without_releases_is_404(client, db):
    create_project("empty")
    _assert_not_found(client.get("/pypi/empty/json"))


def test_quarantined_project_is_404_on_both_routes(client, tinyproj):
    assert client.get("/pypi/tinyproj/json").status_code == 200  # now cached
    Project.objects.filter(pk=tinyproj.pk).update(status=ProjectStatus.QUARANTINED)
    _assert_not_found(client.get("/pypi/tinyproj/json"))
    _assert_not_found(client.get("/pypi/tinyproj/1.0.0/json"))
    _assert_not_found(client.get("/pypi/TinyProj/json"))


def test_if_none_match_gets_304_with_headers_and_no_body(client, tinyproj):
    etag = client.get("/pypi/tinyproj/json")["ETag"]
    response = client.get("/pypi/tinyproj/json", HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag
    assert response["X-PyPI-Last-Serial"] == str(TINYPROJ_SERIAL)
    assert response["Access-Control-Allow-Origin"] == "*"
    listed = client.get("/pypi/tinyproj/json", HTTP_IF_NONE_MATCH=f'"other", {etag}')
    assert listed.status_code == 304
    stale = client.get("/pypi/tinyproj/json", HTTP_IF_NONE_MATCH='"RYj/N5e3jYGdhY+jvdgrCQ"')
    assert stale.status_code == 200


def test_head_has_the_get_headers(client, tinyproj):
    get = client.get("/pypi/tinyproj/json")
    head = client.head("/pypi/tinyproj/json")
    assert head.status_code == 200
    assert head["ETag"] == get["ETag"]
    assert head["X-PyPI-Last-Serial"] == get["X-PyPI-Last-Serial"]


def test_answers_json_whatever_the_accept_header(client, tinyproj):
    response = client.get("/pypi/tinyproj/json", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert response.content == _spec_body_on_our_host()
    response = client.get("/pypi/tinyproj/json?format=api")
    assert response.content == _spec_body_on_our_host()


def test_cached_body_is_served_in_one_query_until_the_serial_moves(
    client, tinyproj, django_assert_num_queries
):
    first = client.get("/pypi/tinyproj/json")
    with django_assert_num_queries(1):
        again = client.get("/pypi/tinyproj/json")
    assert again.content == first.content

    yank_release(tinyproj.releases.get(version="1.0.0"), reason="bad")
    after = json.loads(client.get("/pypi/tinyproj/json").content)
    assert after["last_serial"] != TINYPROJ_SERIAL  # the yank journaled
    # Both releases are yanked now: the newest final one is shown.
    assert after["info"]["version"] == "1.1.0"
    assert after["releases"]["1.0.0"][0]["yanked_reason"] == "bad"
    assert client.get("/pypi/tinyproj/json")["ETag"] != first["ETag"]


def test_latest_skips_prereleases_and_falls_back_as_pypi(client, db):
    publish("pick", "1.0", wheel=False)
    publish("pick", "1.10", wheel=False)
    publish("pick", "1.9", wheel=False)
    publish("pick", "2.0rc1", wheel=False)
    publish("pick", "1.11+cpu", wheel=False)  # PyPI's regex: a pre-release
    body = json.loads(client.get("/pypi/pick/json").content)
    assert body["info"]["version"] == "1.10"
    assert list(body["releases"]) == ["1.0", "1.10", "1.11+cpu", "1.9", "2.0rc1"]
    assert [f["filename"] for f in body["urls"]] == ["pick-1.10.tar.gz"]

    publish("pre", "1.0a1", wheel=False)
    publish("pre", "1.0b2", wheel=False)
    assert json.loads(client.get("/pypi/pre/json").content)["info"]["version"] == "1.0b2"


def test_release_without_files_is_listed_empty(client, db):
    publish("partial", "1.0", wheel=False)
    create_release(Project.objects.get(name="partial"), "2.0")
    body = json.loads(client.get("/pypi/partial/json").content)
    assert body["releases"]["2.0"] == []
    assert body["info"]["version"] == "2.0"
    assert body["urls"] == []


def test_empty_metadata_follows_pypi_null_conventions(client, db):
    publish(
        "bare", "1.0", wheel=False, summary="", author="", description="",
        description_content_type="", keywords="", license="", home_page="", download_url="",
    )
    info = json.loads(client.get("/pypi/bare/json").content)["info"]
    for key in [
        "author", "author_email", "bugtrack_url", "description_content_type", "docs_url",
        "download_url", "dynamic", "home_page", "keywords", "license", "license_expression",
        "license_files", "maintainer", "maintainer_email", "platform", "project_urls",
        "provides_extra", "requires_dist", "requires_python", "summary", "yanked_reason",
    ]:
        assert info[key] is None, key
    assert info["description"] == ""
    assert info["classifiers"] == []
    assert info["downloads"] == {"last_day": -1, "last_month": -1, "last_week": -1}
    file = json.loads(client.get("/pypi/bare/json").content)["urls"][0]
    assert file["comment_text"] is None and file["requires_python"] is None
    assert file["core-metadata"] is False and file["has_sig"] is False
    assert file["downloads"] == -1


def test_metadata_fields_keep_pypi_names_and_order(client, db):
    publish(
        "full", "1.0", requires_python=">=3.11",
        author="Zoë Ünicode", home_page="https://home.example", download_url="https://dl.example",
        project_urls=["Homepage, https://home.example", "Docs, https://docs.example",
                      "Bug Tracker, https://bugs.example"],
        classifiers=["Programming Language :: Python :: 3", "Development Status :: 5 - Production/Stable"],
        dynamic=["Requires-Dist"], provides_extra=["cli"], platforms=["linux", "win32"],
        keywords="a, b",
    )
    response = client.get("/pypi/full/json")
    assert "Zoë Ünicode".encode() in response.content  # raw UTF-8, not \u escapes
    info = json.loads(response.content)["info"]
    assert info["project_urls"] == {
        "Bug Tracker": "https://bugs.example", "Docs": "https://docs.example",
        "Download": "https://dl.example", "Homepage": "https://home.example",
    }
    assert info["classifiers"] == [
        "Development Status :: 5 - Production/Stable", "Programming Language :: Python :: 3",
    ]
    assert info["dynamic"] == ["Requires-Dist"]
    assert info["provides_extra"] == ["cli"]
    assert info["platform"] == "linux"
    assert info["keywords"] == "a, b"
    assert info["requires_python"] == ">=3.11"
    files = json.loads(response.content)["urls"]
    assert [f["packagetype"] for f in files] == ["bdist_wheel", "sdist"]
    assert [f["python_version"] for f in files] == ["py3", "source"]
    wheel = files[0]
    assert wheel["core-metadata"] == {"sha256": wheel["core-metadata"]["sha256"]}
    assert wheel["url"].startswith("http://127.0.0.1:8000/packages/")
    assert wheel["url"].endswith("/full-1.0-py3-none-any.whl")
    assert wheel["digests"]["md5"] == wheel["md5_digest"]


def test_only_get_and_head_are_served(client, tinyproj):
    for method in (client.post, client.put, client.delete, client.options):
        response = method("/pypi/tinyproj/json")
        assert response.status_code == 405, method
        assert response["Content-Type"] == "application/json"
