"""The six methods PyPI still serves (spec xmlrpc-api.md §3), called through the
standard library's ServerProxy against a live server."""

import os
import sysconfig
import xmlrpc.client
import xmlrpc.server

import requests
from django.db import transaction

from packages.curation.projects import set_project_status
from packages.curation.roles import add_role
from packages.journal import record_journal_entry
from packages.models import JournalEntry, Project, RoleName
from tests.factories import create_project, create_user, publish
from tests.xmlrpc.conftest import method_call

MIT = "License :: OSI Approved :: MIT License"
PY3 = "Programming Language :: Python :: 3"


def test_xmlrpc_client_and_server_are_the_standard_library_modules(rpc):
    stdlib = os.path.join(sysconfig.get_paths()["stdlib"], "xmlrpc")
    assert os.path.dirname(xmlrpc.client.__file__) == stdlib
    assert os.path.dirname(xmlrpc.server.__file__) == stdlib
    assert hasattr(xmlrpc.server, "SimpleXMLRPCServer")
    assert rpc.changelog_last_serial() is None  # a real round trip through ServerProxy


def test_changelog_last_serial_is_the_highest_journal_id(rpc):
    publish("tinyproj", "1.0", owner=create_user())
    assert rpc.changelog_last_serial() == JournalEntry.objects.latest("id").id


def test_changelog_since_serial_returns_exactly_the_entries_after_a_serial(rpc):
    owner = create_user()
    publish("tinyproj", "1.0", owner=owner)
    since = JournalEntry.objects.latest("id").id
    publish("tinyproj", "1.1", owner=owner)
    add_role(Project.objects.get(name="tinyproj"), role_name=RoleName.MAINTAINER,
             user=create_user("bob"), by=owner)

    rows = rpc.changelog_since_serial(since)

    expected = [
        [e.name, e.version, int(e.submitted_date.timestamp()), e.action, e.id]
        for e in JournalEntry.objects.filter(id__gt=since).order_by("id")
    ]
    assert rows == expected
    assert [r[3] for r in rows] == [
        "new release",
        "add py3 file tinyproj-1.1-py3-none-any.whl",
        "add source file tinyproj-1.1.tar.gz",
        "add Maintainer bob",
    ]
    assert rows[-1][1] is None  # project-level action: <nil/> version
    assert rpc.changelog_since_serial(rows[-1][4]) == []


def test_changelog_since_serial_pages_at_50000_rows(rpc):
    JournalEntry.objects.bulk_create(
        JournalEntry(name="bulk", version=None, action="create") for _ in range(50_003)
    )
    first = JournalEntry.objects.order_by("id").first().id

    page = rpc.changelog_since_serial(0)

    assert len(page) == 50_000
    assert page[0][4] == first and page[-1][4] == first + 49_999
    rest = rpc.changelog_since_serial(page[-1][4])
    assert [r[4] for r in rest] == [first + 50_000, first + 50_001, first + 50_002]


def test_changelog_since_serial_sends_non_ascii_actions_as_character_references(rpc):
    project = create_project("Café-Tools")
    with transaction.atomic():
        record_journal_entry(project, "add source file café-1.0.tar.gz\x07", version="1.0")

    row = rpc.changelog_since_serial(project.last_serial - 1)[0]

    assert row[0] == "Café-Tools"  # names travel as real Unicode
    assert row[3] == "add source file caf&#233;-1.0.tar.gz"


def test_list_packages_with_serial_is_empty_without_projects(rpc):
    assert rpc.list_packages_with_serial() == {}


def test_list_packages_with_serial_gives_every_project_and_its_last_serial(rpc):
    owner = create_user()
    publish("TinyProj", "1.0", owner=owner)
    create_project("Other_Lib", owner=owner)  # no releases: still listed

    serials = rpc.list_packages_with_serial()

    assert serials == dict(Project.objects.values_list("name", "last_serial"))
    assert set(serials) == {"TinyProj", "Other_Lib"}
    assert serials["TinyProj"] < serials["Other_Lib"] == rpc.changelog_last_serial()



def test_serials_match_x_pypi_last_serial_on_the_simple_pages(rpc, live_server):
    owner = create_user()
    publish("TinyProj", "1.0", owner=owner)
    publish("other", "1.0", owner=owner)
    serials = rpc.list_packages_with_serial()

    for name, path in (("TinyProj", "tinyproj"), ("other", "other")):
        page = requests.get(f"{live_server.url}/simple/{path}/", timeout=10)
        assert page.status_code == 200
        assert int(page.headers["X-PyPI-Last-Serial"]) == serials[name]
    index = requests.get(f"{live_server.url}/simple/", timeout=10)
    assert int(index.headers["X-PyPI-Last-Serial"]) == rpc.changelog_last_serial()
    changed = {row[0]: row[4] for row in rpc.changelog_since_serial(0)}
    assert changed == serials  # the last changelog row of a project is its serial


def test_package_roles_lists_owners_first_then_usernames_for_any_spelling(rpc):
    owner = create_user("zed")
    project = create_project("Tiny.Proj", owner=owner)
    for name, role in (("bob", RoleName.MAINTAINER), ("ada", RoleName.OWNER),
                       ("al", RoleName.MAINTAINER)):
        add_role(project, role_name=role, user=create_user(name), by=owner)

    expected = [["Owner", "ada"], ["Owner", "zed"], ["Maintainer", "al"], ["Maintainer", "bob"]]
    assert rpc.package_roles("tiny_proj") == expected
    assert rpc.package_roles("TINY-PROJ") == expected
    assert rpc.package_roles("unknown") == []


def test_user_packages_matches_the_username_case_insensitively(rpc):
    ada = create_user("ada")
    create_project("zeta", owner=ada)
    add_role(create_project("alpha", owner=create_user("bob")), role_name=RoleName.MAINTAINER,
             user=ada)
    create_project("beta", owner=ada)

    assert rpc.user_packages("ADA") == [["Owner", "beta"], ["Owner", "zeta"],
                                        ["Maintainer", "alpha"]]
    assert rpc.user_packages("nobody") == []


def test_browse_returns_releases_carrying_every_classifier(rpc):
    owner = create_user()
    publish("tinyproj", "1.1.0", owner=owner, wheel=False, sdist=False, classifiers=[MIT, PY3])
    publish("tinyproj", "1.0.0", owner=owner, wheel=False, sdist=False, classifiers=[MIT])
    publish("another", "2.0", owner=owner, wheel=False, sdist=False, classifiers=[PY3])

    assert rpc.browse([MIT]) == [["tinyproj", "1.0.0"], ["tinyproj", "1.1.0"]]
    assert rpc.browse([MIT, PY3]) == [["tinyproj", "1.1.0"]]
    assert rpc.browse([PY3]) == [["another", "2.0"], ["tinyproj", "1.1.0"]]
    assert rpc.browse([MIT, "Topic :: Unknown"]) == []
    assert rpc.browse([]) == []


def test_quarantined_projects_are_hidden_from_every_method(rpc):
    owner = create_user("ada")
    publish("visible", "1.0", owner=owner, classifiers=[MIT])
    release = publish("hidden", "1.0", owner=owner, classifiers=[MIT])
    set_project_status(release.project, "quarantined", reason="malware")

    assert set(rpc.list_packages_with_serial()) == {"visible"}
    assert rpc.list_packages() == ["visible"]
    assert rpc.package_roles("hidden") == []
    assert rpc.user_packages("ada") == [["Owner", "visible"]]
    assert rpc.browse([MIT]) == [["visible", "1.0"]]
    assert rpc.package_releases("hidden", True) == []
    assert rpc.release_urls("hidden", "1.0") == []
    assert rpc.release_data("hidden", "1.0") == {}
    assert rpc.search({"name": "hidden"}) == []
    # Only the quarantine announcement itself stays in the changelog, so mirrors
    # learn that the project went away.
    hidden_rows = [r for r in rpc.changelog_since_serial(0) if r[0] == "hidden"]
    assert [r[3] for r in hidden_rows] == ["project quarantined"]
    assert [r[3] for r in rpc.changelog(0) if r[0] == "hidden"] == ["project quarantined"]

    set_project_status(release.project, "active")
    assert set(rpc.list_packages_with_serial()) == {"visible", "hidden"}
    assert rpc.package_roles("hidden") == [["Owner", "ada"]]


def test_every_endpoint_serves_the_same_api(live_server, transactional_db):
    publish("tinyproj", "1.0")
    serial = JournalEntry.objects.latest("id").id
    for path in ("/pypi", "/pypi/", "/RPC2"):
        proxy = xmlrpc.client.ServerProxy(f"{live_server.url}{path}", allow_none=True)
        assert proxy.changelog_last_serial() == serial
        assert proxy.list_packages_with_serial() == {"tinyproj": serial}


def test_supported_methods_carry_no_deprecation_header(post_xml):
    response = post_xml(method_call("changelog_last_serial"))
    assert response.status_code == 200
    assert "Deprecation" not in response.headers
    assert "Cache-Control" not in response.headers


# --- search (spec §9.5): substrings of names and texts, as legacy PyPI's SQL search ---


def _names(hits) -> list[str]:
    return [hit["name"] for hit in hits]


def test_search_matches_substrings_of_names_in_any_case_and_spelling(rpc):
    publish("TinyProj", "1.0", summary="Tiny helper")
    publish("tiny_helper", "2.0", summary="Another one")
    publish("other", "1.0", summary="Something else")

    assert sorted(_names(rpc.search({"name": "TINY"}))) == ["TinyProj", "tiny_helper"]
    assert _names(rpc.search({"name": "yPro"})) == ["TinyProj"]
    # The PEP 503 name is searched too: separators are interchangeable.
    assert _names(rpc.search({"name": "tiny-help"})) == ["tiny_helper"]
    assert _names(rpc.search({"name": "Y.H"})) == ["tiny_helper"]
    assert _names(rpc.search({"name": ["zzz", "othe"]})) == ["other"]
    assert rpc.search({"name": "tinyproj2"}) == []
    # pip search's query: name or summary, names ranked first.
    assert _names(rpc.search({"name": ["helper"], "summary": ["helper"]}, "or")) == [
        "tiny_helper", "TinyProj"]


def test_search_matches_substrings_of_texts_and_whole_urls_versions_and_platforms(rpc):
    publish("needle", "1.0", description="A long text.\nWith a NEEDLE in it.",
            author="Ada Lovelace", author_email="ada@example.org", keywords="pins, threads",
            home_page="https://Example.org/needle", platforms=["Linux", "Windows"])
    publish("hay", "1.0", description="Only hay here.", license="MIT")

    assert _names(rpc.search({"description": "needle in"})) == ["needle"]
    assert _names(rpc.search({"author": "lovel", "author_email": "@EXAMPLE."})) == ["needle"]
    assert _names(rpc.search({"keywords": "thread"})) == ["needle"]
    assert _names(rpc.search({"home_page": " https://example.org/NEEDLE "})) == ["needle"]
    assert rpc.search({"home_page": "example.org"}) == []  # URLs match whole
    assert _names(rpc.search({"platform": "linux, windows"})) == ["needle"]
    assert rpc.search({"platform": "linux"}) == []  # the whole platform list
    assert rpc.search({"license": "MIT"}) == []  # never indexed by PyPI
    assert rpc.search({"description": "hay", "name": "needle"}) == []
    assert sorted(_names(rpc.search({"description": "hay", "name": "needle"}, "or"))) == [
        "hay", "needle"]


def test_search_reads_each_projects_newest_release_with_files(rpc):
    owner = create_user()
    publish("tinyproj", "1.0", owner=owner, summary="Old words")
    publish("tinyproj", "1.1", owner=owner, summary="New words")
    publish("tinyproj", "2.0", owner=owner, summary="Unreleased words", wheel=False, sdist=False)

    assert rpc.search({"summary": "old"}) == []
    assert rpc.search({"summary": "unreleased"}) == []
    assert rpc.search({"summary": "new"}) == [
        {"name": "tinyproj", "summary": "New words", "version": "1.1", "_pypi_ordering": False}]
    assert [hit["version"] for hit in rpc.search({"summary": "new", "version": ["1.0", "2.0"]})
            ] == ["1.0"]
