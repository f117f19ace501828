"""The pypi-simple library reads both representations of our pages and finds the
same files, correct hashes, and PEP 658 metadata equal to the wheels' METADATA."""

import hashlib
import io
import warnings
import zipfile

import pytest
from pypi_simple import (
    ACCEPT_HTML_ONLY,
    ACCEPT_JSON_ONLY,
    NoSuchProjectError,
    ProjectStatus,
    PyPISimple,
)

from packages.curation.yanking import yank_release
from packages.models import File, Project
from packages.models import ProjectStatus as Status
from tests.factories import publish

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def simple(live_server):
    from packages.http.shared_cache import local_bodies

    local_bodies.clear()
    with PyPISimple(endpoint=f"{live_server.url}/simple/") as client:
        yield client


@pytest.fixture
def content():
    publish("Read.Me", "1.0", requires_python=">=3.8")
    yank_release(publish("Read.Me", "1.1"), reason="oops")
    publish("other", "0.1")


def test_both_representations_list_the_same_files_with_correct_hashes(simple, content):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. an unexpected repository version
        json_page = simple.get_project_page("read-me", accept=ACCEPT_JSON_ONLY)
        html_page = simple.get_project_page("read-me", accept=ACCEPT_HTML_ONLY)
    files = {f.filename: f for f in File.objects.filter(release__project__name="Read.Me")}
    for page in (json_page, html_page):
        assert page.project == "read-me"
        assert page.repository_version == "1.4"
        assert page.status is ProjectStatus.ACTIVE
        assert page.last_serial == str(Project.objects.get(name="Read.Me").last_serial)
        assert {p.filename for p in page.packages} == set(files)
        for package in page.packages:
            file = files[package.filename]
            assert package.digests == {"sha256": file.sha256_digest}
            assert bool(package.has_metadata) is bool(file.metadata_sha256)
            assert package.is_yanked is (package.version == "1.1")
            if package.is_yanked:
                assert package.yanked_reason == "oops"
            if package.version == "1.0":
                assert package.requires_python == ">=3.8"
            if package.has_metadata:
                assert package.metadata_digests == {"sha256": file.metadata_sha256}
    assert json_page.versions == ["1.0", "1.1"]
    json_view = [(p.filename, p.url, p.digests, p.requires_python, p.yanked_reason)
                 for p in json_page.packages]
    html_view = [(p.filename, p.url, p.digests, p.requires_python, p.yanked_reason)
                 for p in html_page.packages]
    assert json_view == html_view


def test_downloads_verify_and_pep658_metadata_equals_the_wheels_metadata(
    simple, content, tmp_path
):
    page = simple.get_project_page("read-me", accept=ACCEPT_JSON_ONLY)
    wheels = [p for p in page.packages if p.package_type == "wheel"]
    assert len(wheels) == 2
    for package in wheels:
        target = tmp_path / package.filename
        simple.download_package(package, target)  # raises DigestMismatchError on mismatch
        assert hashlib.sha256(target.read_bytes()).hexdigest() == package.digests["sha256"]
        with zipfile.ZipFile(io.BytesIO(target.read_bytes())) as archive:
            (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
            expected = archive.read(name).decode()
        assert simple.get_package_metadata(package) == expected


def test_index_page_in_both_representations(simple, content):
    for accept in (ACCEPT_JSON_ONLY, ACCEPT_HTML_ONLY):
        index = simple.get_index_page(accept=accept)
        assert index.projects == ["other", "Read.Me"]
        assert index.repository_version == "1.4"
    assert list(simple.stream_project_names()) == ["other", "Read.Me"]


def test_unknown_project_and_statuses(simple, content):
    with pytest.raises(NoSuchProjectError):
        simple.get_project_page("missing")
    Project.objects.filter(name="other").update(status=Status.DEPRECATED)
    page = simple.get_project_page("other", accept=ACCEPT_JSON_ONLY)
    assert page.status is ProjectStatus.DEPRECATED
    Project.objects.filter(name="other").update(status=Status.QUARANTINED)
    with pytest.raises(NoSuchProjectError):
        simple.get_project_page("other")
