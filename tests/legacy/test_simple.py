"""The simple repository API: PEP 503 HTML and PEP 691 JSON pages, headers,
redirects, caching and the query count of the hot path."""

import hashlib
import html
import json
import re

import pytest
from django.db import transaction

from packages.cache.purgers import purge_keys_now
from packages.curation.yanking import yank_release
from packages.journal import last_serial, record_journal_entry
from packages.models import File, Project, ProjectStatus
from tests.dists import make_wheel
from tests.factories import add_file, create_project, create_release, publish

JSON = "application/vnd.pypi.simple.v1+json"
V1_HTML = "application/vnd.pypi.simple.v1+html"


def get_json(client, url, **extra):
    response = client.get(url, HTTP_ACCEPT=JSON, **extra)
    assert response["Content-Type"] == JSON
    return response, json.loads(response.content)


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def anchors(content: bytes) -> list[dict]:
    """Every <a> of a page as a dict of its (unescaped) attributes plus its text."""
    found = []
    for attrs, text in re.findall(r"<a ([^>]*)>([^<]*)</a>", content.decode()):
        entry = {k: html.unescape(v) for k, v in re.findall(r'([\w-]+)="([^"]*)"', attrs)}
        entry["text"] = html.unescape(text)
        found.append(entry)
    return found


# --- project pages -------------------------------------------------------------


def test_html_page_lists_every_file_with_hash_fragment_and_pep658_attributes(client, db):
    release = publish("Example.Pkg", "1.0", requires_python=">=3.8")
    project = release.project
    project.refresh_from_db()
    response = client.get("/simple/example-pkg/")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=UTF-8"
    content = response.content
    assert b'<meta name="pypi:repository-version" content="1.4">' in content
    assert b'<meta name="pypi:project-status" content="active">' in content
    assert b"<title>Links for example-pkg</title>" in content
    assert content.endswith(f"<!--SERIAL {project.last_serial}-->".encode())
    links = {a["text"]: a for a in anchors(content)}
    assert set(links) == {f.filename for f in File.objects.all()}
    for file in File.objects.all():
        link = links[file.filename]
        assert link["href"] == f"/{file.path}#sha256={file.sha256_digest}"
        assert link["data-requires-python"] == ">=3.8"
        if file.filename.endswith(".whl"):
            assert link["data-core-metadata"] == f"sha256={file.metadata_sha256}"
            assert link["data-dist-info-metadata"] == f"sha256={file.metadata_sha256}"
        else:
            assert "data-core-metadata" not in link
            assert "data-dist-info-metadata" not in link
        assert "data-yanked" not in link


def test_v1_html_is_the_same_page_with_its_own_content_type(client, db):
    publish("Same", "1.0")
    plain = client.get("/simple/same/")
    v1 = client.get("/simple/same/", HTTP_ACCEPT=V1_HTML)
    assert v1["Content-Type"] == V1_HTML
    assert v1.content == plain.content
    assert v1["ETag"] != plain["ETag"]


def test_json_page_carries_pep691_700_714_792_fields(client, db):
    publish("Example.Pkg", "1.0", requires_python=">=3.8")
    publish("Example.Pkg", "1.1", sdist=False)
    project = Project.objects.get()
    response, data = get_json(client, "/simple/example-pkg/")
    assert data["meta"] == {"api-version": "1.4", "_last-serial": project.last_serial}
    assert data["name"] == "example-pkg"
    assert data["project-status"] == {"status": "active"}
    assert data["versions"] == ["1.0", "1.1"]
    assert "alternate-locations" not in data and "tracks" not in data
    assert [f["filename"] for f in data["files"]] == [
        "example_pkg-1.0-py3-none-any.whl", "example_pkg-1.0.tar.gz",
        "example_pkg-1.1-py3-none-any.whl",
    ]
    for entry in data["files"]:
        file = File.objects.get(filename=entry["filename"])
        assert entry["url"] == f"/{file.path}"
        assert entry["hashes"] == {"sha256": file.sha256_digest}
        assert entry["size"] == file.size
        assert entry["upload-time"].endswith("Z")
        assert entry["yanked"] is False
        assert "dist-info-metadata" not in entry  # crashes older pip (PEP 714)
        expected = {"sha256": file.metadata_sha256} if file.metadata_sha256 else False
        assert entry["core-metadata"] == entry["data-dist-info-metadata"] == expected
    assert data["files"][0]["requires-python"] == ">=3.8"
    assert data["files"][2]["requires-python"] is None
    # Byte-stable serialization: sorted keys, compact, one trailing newline.
    assert response.content == (
        json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"
    ).encode()


def test_files_are_ordered_by_parsed_version_then_filename(client, db):
    for version in ["1.10", "1.9", "1.0rc1", "1.0"]:
        publish("order", version)
    _, data = get_json(client, "/simple/order/")
    assert data["versions"] == ["1.0rc1", "1.0", "1.9", "1.10"]
    assert [f["filename"] for f in data["files"]][:2] == [
        "order-1.0rc1-py3-none-any.whl", "order-1.0rc1.tar.gz",
    ]
    assert data["files"][-1]["filename"] == "order-1.10.tar.gz"


def test_project_without_files_is_an_empty_page(client, db):
    create_project("Empty")
    _, data = get_json(client, "/simple/empty/")
    assert data["files"] == [] and data["versions"] == []
    assert client.get("/simple/empty/").status_code == 200


def test_yanked_release_is_flagged_with_its_reason_in_both_representations(client, db):
    release = publish("yanky", "1.0")
    publish("yanky", "2.0")
    yank_release(release, reason='Broken "import" on <3.10')
    _, data = get_json(client, "/simple/yanky/")
    by_name = {f["filename"]: f for f in data["files"]}
    assert by_name["yanky-1.0.tar.gz"]["yanked"] == 'Broken "import" on <3.10'
    assert by_name["yanky-2.0.tar.gz"]["yanked"] is False
    content = client.get("/simple/yanky/").content
    assert b'data-yanked="Broken &#34;import&#34; on &lt;3.10"' in content
    links = {a["text"]: a for a in anchors(content)}
    assert links["yanky-1.0-py3-none-any.whl"]["data-yanked"] == 'Broken "import" on <3.10'
    assert "data-yanked" not in links["yanky-2.0-py3-none-any.whl"]


def test_yank_without_reason_is_empty_attribute_and_json_true(client, db):
    release = publish("yanky2", "1.0", wheel=False)
    yank_release(release, reason="")
    assert b'data-yanked="" >' in client.get("/simple/yanky2/").content
    _, data = get_json(client, "/simple/yanky2/")
    assert data["files"][0]["yanked"] is True


def test_hostile_requires_python_and_filename_are_escaped(client, db):
    project = create_project("evil")
    hostile = '"><script>alert(1)</script>'
    release = create_release(project, "1.0", requires_python=hostile)
    _, content, metadata = make_wheel("evil", "1.0")
    filename = "evil-1.0-py3-none-any.whl<img src=x onerror=alert(1)>'\".whl"
    add_file(release, filename, content, requires_python=hostile)
    page = client.get("/simple/evil/").content
    assert b"<script>" not in page and b"<img" not in page
    assert b"&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page
    (link,) = anchors(page)
    assert link["data-requires-python"] == hostile
    assert link["text"] == filename
    _, data = get_json(client, "/simple/evil/")
    assert data["files"][0]["requires-python"] == hostile
    assert data["files"][0]["filename"] == filename
    # The URL of a strange filename is percent-encoded and still served.
    assert "<" not in data["files"][0]["url"] and '"' not in data["files"][0]["url"]
    served = client.get(data["files"][0]["url"])
    assert served.status_code == 200
    assert hashlib.sha256(body_of(served)).hexdigest() == data["files"][0]["hashes"]["sha256"]


def test_archived_and_deprecated_projects_show_their_status(client, db):
    publish("old", "1.0")
    Project.objects.filter(name="old").update(
        status=ProjectStatus.ARCHIVED, status_reason="Moved to <new>"
    )
    _, data = get_json(client, "/simple/old/")
    assert data["project-status"] == {"status": "archived", "reason": "Moved to <new>"}
    page = client.get("/simple/old/").content
    assert b'<meta name="pypi:project-status" content="archived">' in page
    assert b'content="Moved to &lt;new&gt;"' in page
    assert len(data["files"]) == 2  # still installable


def test_quarantined_project_is_hidden_everywhere(client, db):
    publish("visible", "1.0")
    release = publish("hidden", "1.0")
    url = f"/{release.files.first().path}"
    assert client.get(url).status_code == 200
    Project.objects.filter(name="hidden").update(status=ProjectStatus.QUARANTINED)
    assert client.get("/simple/hidden/").status_code == 404
    assert client.get("/simple/Hidden/").status_code == 404
    assert client.get(url).status_code == 404
    assert client.get(url + ".metadata").status_code == 404
    index = body_of(client.get("/simple/"))
    assert b"/simple/visible/" in index and b"hidden" not in index


# --- redirects and 404 ----------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("/simple/Foo.Bar/", "/simple/foo-bar/"),
        ("/simple/FOO__bar/", "/simple/foo-bar/"),
        ("/simple/foo_bar/?format=text/html", "/simple/foo-bar/?format=text/html"),
        ("/simple", "/simple/"),
        ("/simple/foo-bar", "/simple/foo-bar/"),
    ],
)
def test_redirects_permanently_on_same_origin(client, db, path, location):
    publish("Foo.Bar", "1.0")
    response = client.get(path)
    assert response.status_code == 301
    assert response["Location"] == location
    assert response["Access-Control-Allow-Origin"] == "*"


def test_redirect_never_leaves_the_host(client, db):
    publish("foo", "1.0")
    # A name that looks like a host must not become a protocol-relative URL.
    response = client.get("/simple//evil.example/")
    assert response.status_code in (301, 404)
    if response.status_code == 301:
        assert response["Location"].startswith("/simple/")
        assert not response["Location"].startswith("//")
    response = client.get("/simple/Foo/", HTTP_HOST="127.0.0.1")
    assert response["Location"] == "/simple/foo/"


def test_non_normalized_redirect_chain_ends_on_the_page(client, db):
    publish("Foo.Bar", "1.0")
    response = client.get("/simple/Foo.Bar", follow=True)
    assert response.redirect_chain == [("/simple/Foo.Bar/", 301), ("/simple/foo-bar/", 301)]
    assert response.status_code == 200


@pytest.mark.parametrize("path", ["/simple/nope/", "/simple/No.Pe/", "/simple/%E2%98%83/"])
def test_unknown_project_is_404_plain_text(client, db, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "text/plain; charset=UTF-8"
    assert response.content == b"404 Not Found"


def test_write_methods_are_refused(client, db):
    publish("foo", "1.0")
    assert client.post("/simple/foo/").status_code == 405
    assert client.delete("/simple/").status_code == 405


# --- headers, conditional requests, HEAD --------------------------------------


def test_project_page_headers(client, db):
    project = publish("Foo", "1.0").project
    project.refresh_from_db()
    response = client.get("/simple/foo/")
    assert response["X-PyPI-Last-Serial"] == str(project.last_serial)
    assert response["Cache-Control"] == "max-age=600, public"
    assert response["Vary"] == "Accept"
    assert response["Surrogate-Key"] == "project/foo"
    assert response["Access-Control-Expose-Headers"] == "X-PyPI-Last-Serial"
    assert re.fullmatch(r'"[^"]+"', response["ETag"])  # strong
    assert response["Content-Length"] == str(len(response.content))


def test_index_headers_carry_the_index_serial(client, db):
    publish("a", "1.0")
    publish("b", "1.0")
    response = client.get("/simple/")
    assert response["X-PyPI-Last-Serial"] == str(last_serial())
    assert response["Surrogate-Key"] == "all-projects"
    assert response["Cache-Control"] == "max-age=600, public"


def test_matching_if_none_match_gets_304_with_headers(client, db):
    publish("cond", "1.0")
    first = client.get("/simple/cond/", HTTP_ACCEPT=JSON)
    etag = first["ETag"]
    again = client.get("/simple/cond/", HTTP_ACCEPT=JSON, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag
    assert again["X-PyPI-Last-Serial"] == first["X-PyPI-Last-Serial"]
    assert again["Vary"] == "Accept"
    # pip's cache copies a 304's headers onto the cached page: no Content-Type here.
    assert not again.has_header("Content-Type")
    # Another representation has another validator.
    html_page = client.get("/simple/cond/", HTTP_IF_NONE_MATCH=etag)
    assert html_page.status_code == 200
    assert client.get("/simple/cond/", HTTP_IF_NONE_MATCH=f'"x", W/{etag}').status_code == 200
    assert client.get(
        "/simple/cond/", HTTP_ACCEPT=JSON, HTTP_IF_NONE_MATCH=f'"x", W/{etag}'
    ).status_code == 304


def test_etag_changes_after_a_new_upload(client, db):
    publish("cond", "1.0")
    etag = client.get("/simple/cond/")["ETag"]
    publish("cond", "2.0")
    response = client.get("/simple/cond/", HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert b"cond-2.0.tar.gz" in response.content


def test_index_304(client, db):
    publish("a", "1.0")
    etag = client.get("/simple/")["ETag"]
    assert client.get("/simple/", HTTP_IF_NONE_MATCH=etag).status_code == 304
    publish("b", "1.0")
    assert client.get("/simple/", HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_head_has_headers_and_no_body(client, db):
    publish("heady", "1.0")
    get = client.get("/simple/heady/")
    head = client.head("/simple/heady/")
    assert head.status_code == 200
    assert head.content == b""
    for header in ("ETag", "Content-Type", "X-PyPI-Last-Serial", "Content-Length"):
        assert head[header] == get[header]
    index = client.head("/simple/")
    assert index.status_code == 200 and body_of(index) == b""


# --- caching --------------------------------------------------------------------


def test_change_is_visible_on_the_next_request(client, db):
    release = publish("fresh", "1.0")
    _, before = get_json(client, "/simple/fresh/")
    assert before["files"][0]["yanked"] is False
    yank_release(release, reason="bad")
    _, after = get_json(client, "/simple/fresh/")
    assert after["files"][0]["yanked"] == "bad"
    assert after["meta"]["_last-serial"] > before["meta"]["_last-serial"]


def test_status_change_without_journal_entry_is_visible(client, db):
    publish("curated", "1.0")
    client.get("/simple/curated/")
    Project.objects.filter(name="curated").update(status=ProjectStatus.DEPRECATED)
    assert b'content="deprecated"' in client.get("/simple/curated/").content


def test_cached_page_is_served_with_one_query(client, db, django_assert_num_queries):
    publish("hot", "1.0")
    client.get("/simple/hot/", HTTP_ACCEPT=JSON)
    with django_assert_num_queries(1):
        response = client.get("/simple/hot/", HTTP_ACCEPT=JSON)
        assert response.status_code == 200
    with django_assert_num_queries(1):
        assert client.get("/simple/hot/", HTTP_ACCEPT=JSON).status_code == 200


def test_page_with_500_files_renders_in_two_queries(client, db, django_assert_max_num_queries):
    project = create_project("big")
    with transaction.atomic():
        for v in range(250):
            release = create_release(project, f"1.{v}", requires_python=">=3.8")
            for filename in (f"big-1.{v}-py3-none-any.whl", f"big-1.{v}.tar.gz"):
                digest = hashlib.sha256(filename.encode()).hexdigest()
                File.objects.create(
                    release=release, filename=filename, python_version="py3",
                    packagetype="bdist_wheel" if filename.endswith(".whl") else "sdist",
                    size=1, md5_digest=digest[:32], sha256_digest=digest,
                    blake2_256_digest=digest, path=f"packages/{digest[:2]}/{digest[2:4]}/"
                    f"{digest[4:]}/{filename}", metadata_sha256=digest,
                )
        record_journal_entry(project, "bulk")
    client.get("/simple/other/")  # warms per-process state (e.g. the consumer policy)
    for accept in ("text/html", JSON):
        with django_assert_max_num_queries(2):
            response = client.get("/simple/big/", HTTP_ACCEPT=accept)
        assert response.status_code == 200
    assert len(json.loads(response.content)["files"]) == 500
    assert len(anchors(client.get("/simple/big/").content)) == 500


# --- the index -------------------------------------------------------------------


def test_index_lists_visible_projects_by_normalized_name(client, db):
    for name in ["zope.interface", "Example.Pkg", "a_b"]:
        create_project(name)
    content = body_of(client.get("/simple/"))
    assert b'<meta name="pypi:repository-version" content="1.4">' in content
    assert [(a["href"], a["text"]) for a in anchors(content)] == [
        ("/simple/a-b/", "a_b"),
        ("/simple/example-pkg/", "Example.Pkg"),
        ("/simple/zope-interface/", "zope.interface"),
    ]
    response = client.get("/simple/", HTTP_ACCEPT=JSON)
    data = json.loads(body_of(response))
    assert data["meta"] == {"_last-serial": last_serial(), "api-version": "1.4"}
    serials = dict(Project.objects.values_list("name", "last_serial"))
    assert data["projects"] == [
        {"name": n, "_last-serial": serials[n]} for n in ["a_b", "Example.Pkg", "zope.interface"]
    ]


def test_index_escapes_display_names(client, db):
    Project.objects.create(name='x"<b>')
    content = body_of(client.get("/simple/"))
    assert b"<b>" not in content and b"x&#34;&lt;b&gt;" in content
    data = json.loads(body_of(client.get("/simple/", HTTP_ACCEPT=JSON)))
    assert data["projects"][0]["name"] == 'x"<b>'


def test_index_is_streamed_then_cached(client, db, django_assert_max_num_queries):
    for i in range(30):
        create_project(f"p{i}")
    first = client.get("/simple/")
    assert first.streaming
    first_body = body_of(first)
    with django_assert_max_num_queries(2):  # the serial, the kept upstream names
        second = client.get("/simple/")
        assert body_of(second) == first_body


def test_index_rerenders_after_all_projects_purge(client, db):
    create_project("shown")
    create_project("curated")
    client.get("/simple/")
    Project.objects.filter(name="curated").update(status=ProjectStatus.QUARANTINED)
    purge_keys_now(["all-projects"])
    assert b"curated" not in body_of(client.get("/simple/"))


@pytest.mark.django_db(transaction=True)
def test_page_survives_a_database_connection_that_died_between_requests(client):
    """The hot query skips Django's per-request SELECT 1 health check; a dead
    persistent connection is replaced and the query retried instead."""
    from django.db import connection, connections

    publish("sturdy", "1.0")
    assert client.get("/simple/sturdy/").status_code == 200
    if connection.vendor == "postgresql":
        pid = connection.connection.info.backend_pid
        killer = connections.create_connection("default")
        try:
            with killer.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        finally:
            killer.close()
    else:  # SQLite has no server to lose; a closed connection is reopened
        connection.close()
    response = client.get("/simple/sturdy/")
    assert response.status_code == 200
    assert b"sturdy-1.0.tar.gz" in response.content
    if connection.vendor == "postgresql":
        assert connection.connection.info.backend_pid != pid


def test_index_of_many_projects_is_rendered_from_one_streamed_query(
    client, db, django_assert_max_num_queries
):
    Project.objects.bulk_create(
        [Project(name=f"Bulk_{i:05d}", normalized_name=f"bulk-{i:05d}",
                 ultranormalized_name=f"bulk{i:05d}", last_serial=i) for i in range(6000)]
    )
    client.get("/simple/bulk-00001/")  # warms per-process state (e.g. the consumer policy)
    with django_assert_max_num_queries(3):  # the serial, the upstream names, the rows
        response = client.get("/simple/", HTTP_ACCEPT=JSON)
        chunks = list(response.streaming_content)
    assert len(chunks) > 1  # sent as it is built, not as one body
    data = json.loads(b"".join(chunks))
    assert len(data["projects"]) == 6000
    assert data["projects"][0] == {"name": "Bulk_00000", "_last-serial": 0}
    assert data["projects"][-1] == {"name": "Bulk_05999", "_last-serial": 5999}


def test_pages_are_served_when_the_shared_cache_is_down(client, db, settings):
    publish("resilient", "1.0")
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        }
    }
    response = client.get("/simple/resilient/", HTTP_ACCEPT=JSON)
    assert response.status_code == 200
    assert len(json.loads(response.content)["files"]) == 2
    index = client.get("/simple/")
    assert index.status_code == 200 and b"resilient" in body_of(index)
