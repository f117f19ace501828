"""packages.uploads.operation.accept_upload(): the domain operation behind POST /legacy/ and
importdists, called directly."""

import hashlib
import io
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.db.models.signals import pre_save
from django.utils import timezone

from packages.errors import Forbidden, UploadRejected
from packages.models import File, Filename, JournalEntry, Project, Release, Role
from packages.storage import Digests
from packages.uploads.operation import (
    UploadedContent,
    UploadRequest,
    accept_upload,
    ensure_project,
    same_name_or_content,
)
from tests.dists import core_metadata, make_sdist, make_wheel
from tests.factories import create_project, create_user
from tests.legacy.upload_forms import stored_paths, upload_request


def request_and_content(filename, content, metadata, **overrides):
    return (upload_request(filename, content, metadata, **overrides),
            UploadedContent(filename=filename, file=io.BytesIO(content)))


def upload(user, name="hello", version="1.0", *, sdist=False, token=None):
    if sdist:
        filename, content = make_sdist(name, version)
        metadata = core_metadata(name, version)
    else:
        filename, content, metadata = make_wheel(name, version)
    request, uploaded = request_and_content(filename, content, metadata)
    return accept_upload(upload=request, content=uploaded, uploader=user, token=token)


@pytest.mark.django_db
def test_returns_the_new_file_and_its_project():
    alice = create_user("alice")

    result = upload(alice)

    assert result.created
    assert result.file.filename == "hello-1.0-py3-none-any.whl"
    assert result.project.name == "hello"


@pytest.mark.django_db
def test_takes_typed_values_from_any_caller_not_a_form():
    filename, content, _ = make_wheel("hello", "1.0")
    request = UploadRequest(
        filetype="bdist_wheel", pyversion="py3",
        metadata={"metadata_version": "2.4", "name": "hello", "version": "1.0",
                  "classifiers": ["Typing :: Typed"],
                  "project_urls": [("Home", "https://example.com")]},
        sha256_digest=hashlib.sha256(content).hexdigest(),
    )

    result = accept_upload(upload=request, content=UploadedContent(filename, io.BytesIO(content)),
                           uploader=create_user("alice"))

    release = result.file.release
    assert (release.classifiers, release.project_urls) == (
        ["Typing :: Typed"], ["Home, https://example.com"])


@pytest.mark.django_db
def test_identical_upload_returns_existing_file_uncreated():
    alice = create_user("alice")
    first = upload(alice)

    second = upload(alice)

    assert not second.created and second.file == first.file


@pytest.mark.django_db
def test_a_failure_after_storing_removes_the_stored_file_and_every_row():
    alice = create_user("alice")

    def fail(sender, instance, **kwargs):
        raise RuntimeError("database went away")

    pre_save.connect(fail, sender=File)
    try:
        with pytest.raises(RuntimeError):
            upload(alice)
    finally:
        pre_save.disconnect(fail, sender=File)

    assert stored_paths() == []
    assert not Project.objects.exists()
    assert not Release.objects.exists()
    assert not Filename.objects.exists()
    assert not JournalEntry.objects.exists()


@pytest.mark.django_db
def test_ensure_project_takes_over_a_project_created_meanwhile():
    alice, bob = create_user("alice"), create_user("bob")
    create_project("Racer", owner=alice)

    with transaction.atomic():
        project, created = ensure_project("racer", by=bob)

    assert not created and project.name == "Racer"
    assert list(Role.objects.values_list("user__username", flat=True)) == ["alice"]


@pytest.mark.django_db
def test_ensure_project_creates_with_owner_and_journal():
    alice = create_user("alice")

    with transaction.atomic():
        project, created = ensure_project("Fresh.Name", by=alice)

    assert created and project.normalized_name == "fresh-name"
    assert list(JournalEntry.objects.values_list("action", flat=True)) == [
        "create", "add Owner alice"]


def _run_in_thread(target, results, key):
    def run():
        try:
            results[key] = target()
        except Exception as exc:  # noqa: BLE001 - reported to the test
            results[key] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("second_user", ["alice", "bob"])
def test_concurrent_first_uploads_end_with_one_project_and_one_owner(second_user):
    """The first upload holds its new project uncommitted while a second one
    passes the "does it exist?" look-up; the unique constraint decides."""
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent writers (PostgreSQL); SQLite serializes them")
    alice = create_user("alice")
    second = alice if second_user == "alice" else create_user("bob")
    inserted, release = threading.Event(), threading.Event()
    results = {}

    def first():
        with transaction.atomic():
            ensure_project("racer", by=alice)
            inserted.set()
            release.wait(10)
        return "committed"

    one = _run_in_thread(first, results, "first")
    assert inserted.wait(10)
    two = _run_in_thread(lambda: upload(second, "racer"), results, "second")
    time.sleep(0.5)  # the second upload is now waiting on the unique index
    release.set()
    one.join(10)
    two.join(10)

    assert results["first"] == "committed"
    assert Project.objects.filter(normalized_name="racer").count() == 1
    assert list(Role.objects.values_list("user__username", flat=True)) == ["alice"]
    assert JournalEntry.objects.filter(action="create").count() == 1
    if second_user == "alice":
        assert results["second"].created
        assert File.objects.count() == 1
    else:
        assert isinstance(results["second"], Forbidden)
        assert File.objects.count() == 0
        assert stored_paths() == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("first_name, second_name", [("foo-bar", "foobar"), ("foo0", "fooo")])
def test_concurrent_first_uploads_of_look_alike_names_create_only_the_first(
    first_name, second_name
):
    """The second name passes the early look-alike check while the first project
    is still uncommitted; the creation itself must still refuse it."""
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent writers (PostgreSQL); SQLite serializes them")
    alice, bob = create_user("alice"), create_user("bob")
    inserted, release = threading.Event(), threading.Event()
    results = {}

    def first():
        with transaction.atomic():
            ensure_project(first_name, by=alice)
            inserted.set()
            release.wait(10)
        return "committed"

    one = _run_in_thread(first, results, "first")
    assert inserted.wait(10)
    two = _run_in_thread(lambda: upload(bob, second_name), results, "second")
    time.sleep(0.5)  # the second upload has passed its early check and is waiting
    release.set()
    one.join(10)
    two.join(10)

    assert results["first"] == "committed"
    assert isinstance(results["second"], UploadRejected)
    assert results["second"].message == (
        f"The name '{second_name}' is too similar to an existing project '{first_name}'."
    )
    assert list(Project.objects.values_list("name", flat=True)) == [first_name]
    assert not File.objects.exists() and not Filename.objects.exists()
    assert stored_paths() == []


@pytest.mark.django_db
def test_duplicate_look_up_uses_indexes_not_a_scan_of_every_file():
    if connection.vendor != "postgresql":
        pytest.skip("reads PostgreSQL's query plan")
    upload(create_user("alice"))
    digests = Digests(size=1, md5="0" * 32, sha256="1" * 64, blake2_256="2" * 64)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")

    plan = same_name_or_content("other-1.0.tar.gz", digests).explain()

    # Both conditions answered by an index, neither by reading rows one by one.
    assert "Seq Scan" not in plan and "Filter:" not in plan, plan


@pytest.mark.django_db
def test_policies_off_by_default_allow_old_releases_and_several_sdists(settings):
    alice = create_user("alice")
    upload(alice, sdist=True)
    Release.objects.update(created=timezone.now() - timedelta(days=400))
    filename, content = make_sdist("hello", "1.0.0")
    request, uploaded = request_and_content(filename, content, core_metadata("hello", "1.0.0"))
    result = accept_upload(upload=request, content=uploaded, uploader=alice)

    assert result.created and result.file.release.files.count() == 2


@pytest.mark.django_db
def test_old_release_policy_refuses_new_files_when_set(settings):
    settings.INDEX_OLD_RELEASE_UPLOAD_DAYS = 14
    alice = create_user("alice")
    upload(alice)
    Release.objects.update(created=timezone.now() - timedelta(days=15))

    with pytest.raises(UploadRejected) as error:
        upload(alice, sdist=True)

    assert error.value.message == (
        "Uploading new files to releases older than 14 days is not allowed.")
    assert File.objects.count() == 1


@pytest.mark.django_db
def test_one_sdist_policy_refuses_a_second_sdist_when_set(settings):
    settings.INDEX_ONE_SDIST_PER_RELEASE = True
    alice = create_user("alice")
    upload(alice, sdist=True)
    filename, content = make_sdist("hello", "1.0.0")
    request, uploaded = request_and_content(filename, content, core_metadata("hello", "1.0.0"))
    with pytest.raises(UploadRejected) as error:
        accept_upload(upload=request, content=uploaded, uploader=alice)

    assert error.value.message == "Only one sdist may be uploaded per release."


@pytest.mark.django_db
def test_project_total_size_counts_every_file():
    alice = create_user("alice")
    a = upload(alice)
    b = upload(alice, sdist=True)

    assert Project.objects.get().total_size == a.file.size + b.file.size
