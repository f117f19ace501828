"""Methods PyPI has disabled, served with their old shapes (spec §9), their
Faults when switched off (§4), and the Deprecation headers."""

import xmlrpc.client
from xmlrpc import queries

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from packages.curation.yanking import yank_release
from packages.journal import record_journal_entry
from packages.models import JournalEntry, Project
from tests.factories import create_project, create_user, publish
from tests.xmlrpc.conftest import fault_of, method_call

DOCS = "https://warehouse.pypa.io/api-reference/xml-rpc.html#deprecated-methods"


@pytest.fixture
def tinyproj(transactional_db):
    owner = create_user("ada")
    for version in ("1.0", "1.1", "1.2", "2.0b1"):
        publish("TinyProj", version, owner=owner, summary="Tiny helper",
                description="Café demo", classifiers=["License :: OSI Approved :: MIT License"],
                requires_dist=["attrs>=22"], requires_python=">=3.9",
                project_urls=["Source, https://git.example/tinyproj", "Docs, https://d.example"])
    yank_release(Project.objects.get().releases.get(version="1.2"), reason="broken")
    return Project.objects.get()


def test_package_releases_gives_the_latest_or_every_version_newest_first(rpc, tinyproj):
    assert rpc.package_releases("tinyproj") == ["1.1"]
    assert rpc.package_releases("TINYPROJ", True) == ["2.0b1", "1.2", "1.1", "1.0"]
    assert rpc.package_releases("unknown") == []


def test_release_urls_describes_each_file_with_pypis_keys(rpc, tinyproj, settings):
    files = rpc.release_urls("tinyproj", "1.1")

    assert [f["filename"] for f in files] == ["tinyproj-1.1-py3-none-any.whl",
                                              "tinyproj-1.1.tar.gz"]
    stored = {f.filename: f for f in tinyproj.releases.get(version="1.1").files.all()}
    for entry in files:
        assert set(entry) == {
            "filename", "packagetype", "python_version", "size", "md5_digest", "sha256_digest",
            "digests", "has_sig", "upload_time", "upload_time_iso_8601", "comment_text",
            "downloads", "path", "url",
        }
        row = stored[entry["filename"]]
        assert entry["digests"] == {"md5": row.md5_digest, "sha256": row.sha256_digest}
        assert entry["size"] == row.size and entry["has_sig"] is False
        assert entry["downloads"] == -1
        assert entry["comment_text"] == ""  # no comment uploaded: a string, as PyPI's
        assert entry["upload_time"] == entry["upload_time_iso_8601"]
        assert entry["upload_time"].endswith("Z") and "+" not in entry["upload_time"]
        b2 = row.blake2_256_digest
        assert entry["path"] == f"{b2[:2]}/{b2[2:4]}/{b2[4:]}/{row.filename}"
        assert entry["url"] == f"{settings.INDEX_BASE_URL}/packages/{entry['path']}"
    assert {f["packagetype"]: f["python_version"] for f in files} == {
        "bdist_wheel": "py3", "sdist": "source"}
    assert rpc.release_urls("tinyproj", "1.1.0") == []  # versions match exactly
    assert rpc.package_urls("tinyproj", "1.1") == files


def test_release_data_returns_pypis_struct(rpc, tinyproj):
    data = rpc.release_data("tinyproj", "1.1")

    assert len(data) == 33
    assert data["name"] == "TinyProj" and data["version"] == "1.1"
    assert data["description"] == "Caf&#233; demo"
    assert data["project_url"] == ["Docs, https://d.example", "Source, https://git.example/tinyproj"]
    assert data["requires_dist"] == ["attrs>=22"] and data["requires"] == []
    assert data["requires_python"] == ">=3.9"
    assert data["_pypi_ordering"] == 1
    assert data["downloads"] == {"last_day": -1, "last_week": -1, "last_month": -1}
    assert data["stable_version"] is None and data["cheesecake_code_kwalitee_id"] is None
    assert data["package_url"].endswith("/project/TinyProj/")
    assert rpc.release_data("tinyproj", "9.9") == {}
    assert rpc.package_data("tinyproj", "1.1") == data


def test_list_packages_and_search_find_projects(rpc, tinyproj):
    publish("other", "1.0", summary="Something else")
    assert sorted(rpc.list_packages()) == ["TinyProj", "other"]
    found = rpc.search({"name": ["tinyproj"], "summary": ["tinyproj"]}, "or")
    assert found == [{"name": "TinyProj", "summary": "Tiny helper", "version": "1.1",
                      "_pypi_ordering": False}]
    assert [r["name"] for r in rpc.search({"name": "tiny"})] == ["TinyProj"]  # substrings
    assert rpc.search({"summary": "helper", "name": "other"}, "and") == []
    assert [r["version"] for r in rpc.search({"name": "tinyproj", "version": ["1.0", "2.0b1"]})
            ] == ["1.0", "2.0b1"]
    with pytest.raises(xmlrpc.client.Fault) as caught:
        rpc.search({"name": "x"}, "xor")
    assert caught.value.faultString == (
        "ValueError: Invalid operator, must be one of 'and' or 'or'.")


def test_changelog_returns_rows_after_a_timestamp_with_or_without_ids(rpc, tinyproj):
    rows = rpc.changelog(0)
    with_ids = rpc.changelog(0, True)
    assert len(rows) == JournalEntry.objects.count()
    assert [r[:4] for r in with_ids] == rows
    assert [r[4] for r in with_ids] == list(JournalEntry.objects.values_list("id", flat=True))
    assert rpc.changelog(2**31 - 1) == []


def test_multicall_answers_each_call_or_its_fault(rpc, tinyproj):
    multi = xmlrpc.client.MultiCall(rpc)
    multi.changelog_last_serial()
    multi.package_roles("tinyproj")
    multi.no_such_method()
    multi.changelog_since_serial("1")
    results = multi().results

    assert results[0] == [JournalEntry.objects.latest("id").id]
    assert results[1] == [[["Owner", "ada"]]]
    assert results[2] == {"faultCode": -32601,
                          "faultString": "server error; requested method not found"}
    assert results[3] == {"faultCode": -32602,
                          "faultString": "client error; since_serial: Input should be a valid integer"}


def test_top_packages_answers_pypis_fault(rpc):
    with pytest.raises(xmlrpc.client.Fault) as caught:
        rpc.top_packages(10)
    assert caught.value.faultCode == -32500
    assert caught.value.faultString == (
        f"RuntimeError: This API has been removed. Use BigQuery instead. See {DOCS} for more "
        "information.")


DISABLED_FAULTS = [
    ("system.multicall", ([],),
        "ValueError: MultiCall requests have been deprecated, use individual requests instead."),
    ("changelog", (0,),
        "ValueError: The changelog method has been deprecated, use changelog_since_serial instead."),
    ("package_data", ("a", "1"),
        f"RuntimeError: This API has been deprecated. See {DOCS} for more information."),
    ("package_urls", ("a", "1"),
        f"RuntimeError: This API has been deprecated. See {DOCS} for more information."),
    ("search", ({"name": "a"},),
        "RuntimeError: PyPI no longer supports 'pip search' (or XML-RPC search). Please use "
        f"https://127.0.0.1:8000/search (via a browser) instead. See {DOCS} for more information."),
    ("list_packages", (),
        "RuntimeError: PyPI no longer supports the XMLRPC list_packages method. Use Simple API "
        f"instead. See {DOCS} for more information."),
    ("package_releases", ("a",),
        "RuntimeError: PyPI no longer supports the XMLRPC package_releases method. Use JSON or "
        f"Simple API instead. See {DOCS} for more information."),
    ("release_urls", ("a", "1"),
        "RuntimeError: PyPI no longer supports the XMLRPC release_urls method. Use JSON or "
        f"Simple API instead. See {DOCS} for more information."),
    ("release_data", ("a", "1"),
        "RuntimeError: PyPI no longer supports the XMLRPC release_data method. Use JSON or "
        f"Simple API instead. See {DOCS} for more information."),
]


def test_switched_off_methods_answer_pypis_exact_faults(post_xml, settings):
    settings.INDEX_BASE_URL = "http://127.0.0.1:8000"
    settings.XMLRPC_DISABLED_METHODS = sorted({name for name, _, _ in DISABLED_FAULTS})
    for name, params, text in DISABLED_FAULTS:
        response = post_xml(method_call(name, *params))
        assert fault_of(response) == (-32500, text), name
        assert response.headers["Deprecation"] == "@1727308800"


def test_switched_off_methods_check_argument_types_first(post_xml, settings):
    settings.XMLRPC_DISABLED_METHODS = ["release_data", "browse"]
    assert fault_of(post_xml(method_call("release_data", 1, "1.0"))) == (
        -32602, "client error; package_name: Input should be a valid string")
    # A method without a PyPI Fault of its own is simply not found when switched off.
    assert fault_of(post_xml(method_call("browse", ["x"])))[0] == -32601


def test_deprecated_methods_point_to_their_replacement(post_xml, tinyproj, settings):
    response = post_xml(method_call("release_data", "TinyProj", "1.1"))
    assert response.status_code == 200
    assert response.headers["Deprecation"] == "@1727308800"
    assert response.headers["Link"] == (
        f'<{DOCS}>; rel="deprecation"; type="text/html", '
        f'<{settings.INDEX_BASE_URL}/pypi/tinyproj/1.1/json>; rel="successor-version"')

    listed = post_xml(method_call("list_packages"))
    assert f'<{settings.INDEX_BASE_URL}/simple/>; rel="successor-version"' in listed.headers["Link"]
    roles = post_xml(method_call("package_roles", "TinyProj"))
    assert roles.headers["Deprecation"] == "@1727308800"
    assert f"{settings.INDEX_BASE_URL}/pypi/tinyproj/json" in roles.headers["Link"]
    faulted = post_xml(method_call("top_packages"))
    assert faulted.headers["Deprecation"] == "@1727308800"


def test_changelog_answers_stay_well_formed_xml(rpc):
    """changelog's actions are not cleaned as changelog_since_serial's are (PyPI),
    but characters XML cannot carry are dropped rather than sent raw."""
    project = create_project("Café-Tools")
    with transaction.atomic():
        record_journal_entry(project, "add source file café-1.0.tar.gz\x07\x1b", version="1.0")

    rows = rpc.changelog(0, True)

    assert rows[-1][3] == "add source file café-1.0.tar.gz"
    assert rows[-1][4] == project.last_serial


def test_release_lookups_and_search_read_no_description_they_do_not_use(tinyproj):
    def description_reads(call):
        with CaptureQueriesContext(connection) as captured:
            result = call()
        return result, [q["sql"] for q in captured if '"description"' in q["sql"]]

    versions, reads = description_reads(lambda: queries.releases_in_order(tinyproj))
    assert [r.version for r in versions] == ["1.0", "1.1", "1.2", "2.0b1"] and reads == []
    hits, reads = description_reads(lambda: queries.search_projects({"name": ["tinyproj"]}, "or"))
    assert [h["release"].version for h in hits] == ["1.1"] and reads == []
    # The one release release_data describes is read whole, in one query.
    (release, ordering), reads = description_reads(lambda: queries.find_release("tinyproj", "1.1"))
    assert (release.description, ordering, len(reads)) == ("Café demo", 1, 1)
    hits, reads = description_reads(lambda: queries.search_projects({"description": ["demo"]}, "or"))
    assert len(hits) == 1 and len(reads) == 1
