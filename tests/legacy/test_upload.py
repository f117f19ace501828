"""POST /legacy/: authentication, authorization, success, duplicates, wire format."""

import json

import pytest
from django.contrib.auth.models import Group

from packages.cache.purgers import _purgers, register_purger
from packages.curation.deletion import delete_file
from packages.curation.roles import add_role
from packages.curation.tokens import create_token
from packages.models import (
    File,
    Filename,
    JournalEntry,
    ProhibitedProjectName,
    Project,
    Release,
    Role,
    RoleName,
)
from tests.dists import core_metadata, make_sdist, make_wheel
from tests.factories import create_project, create_user
from tests.legacy.upload_forms import (
    basic,
    encode_multipart,
    post_upload,
    stored_paths,
    twine_fields,
    upload_sdist,
    upload_wheel,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice():
    return create_user("alice")


@pytest.fixture
def token(alice):
    return create_token(alice)[1]


def test_accepts_wheel_and_sdist_creating_project_release_and_journal(client, alice, token):
    assert upload_wheel(client, token, "Hello-World", "1.0").status_code == 200
    response = upload_sdist(client, token, "Hello-World", "1.0")

    assert response.status_code == 200
    project = Project.objects.get()
    assert project.name == "Hello-World"
    assert Role.objects.get(project=project).user == alice
    release = Release.objects.get()
    assert release.version == "1.0" and release.uploader == alice
    files = {f.filename: f for f in File.objects.all()}
    assert set(files) == {"hello_world-1.0-py3-none-any.whl", "hello_world-1.0.tar.gz"}
    assert files["hello_world-1.0.tar.gz"].python_version == "source"
    assert files["hello_world-1.0-py3-none-any.whl"].python_version == "py3"
    assert project.total_size == sum(f.size for f in files.values()) > 0
    assert list(JournalEntry.objects.values_list("action", "version", "submitted_by")) == [
        ("create", None, "alice"),
        ("add Owner alice", None, "alice"),
        ("new release", "1.0", "alice"),
        ("add py3 file hello_world-1.0-py3-none-any.whl", "1.0", "alice"),
        ("add source file hello_world-1.0.tar.gz", "1.0", "alice"),
    ]
    assert project.last_serial == JournalEntry.objects.latest("id").id


def test_stores_wheel_at_blake2_path_with_pep658_metadata_beside_it(client, token):
    filename, content, metadata = make_wheel("hello", "1.0")
    post_upload(client, token, filename, content, metadata)

    file = File.objects.get()
    b2 = file.blake2_256_digest
    assert file.path == f"packages/{b2[:2]}/{b2[2:4]}/{b2[4:]}/{filename}"
    assert stored_paths() == [file.path, f"{file.path}.metadata"]
    import hashlib

    assert file.metadata_sha256 == hashlib.sha256(metadata.encode()).hexdigest()
    assert file.metadata_blake2_256 == hashlib.blake2b(
        metadata.encode(), digest_size=32).hexdigest()


def test_stores_release_metadata_normalized_as_pypi(client, token):
    metadata = core_metadata(
        "hello", "1.0.0-rc1", requires_python=">=3.8, <4",
        extra=[("License-Expression", "mit"), ("Classifier", "Framework :: Django"),
               ("Requires-Dist", "requests>=2"), ("Project-URL", "Source, https://example.com/src"),
               ("Keywords", "one,two")],
    )
    filename, content, _ = make_wheel("hello", "1.0.0rc1", metadata=metadata)
    response = post_upload(client, token, filename, content, metadata)

    assert response.status_code == 200, response.reason_phrase
    release = Release.objects.get()
    assert release.version == "1.0.0rc1" and release.is_prerelease
    assert release.requires_python == "<4,>=3.8"
    assert release.license_expression == "MIT"
    assert release.classifiers == ["Framework :: Django"]
    assert release.requires_dist == ["requests>=2"]
    assert release.project_urls == ["Source, https://example.com/src"]
    assert release.keywords == "one, two"
    assert File.objects.get().requires_python == "<4,>=3.8"


def test_accepts_upload_url_without_trailing_slash_without_redirect(client, token):
    response = upload_wheel(client, token, "hello", "1.0", path="/legacy")

    assert response.status_code == 200
    assert File.objects.count() == 1


def test_get_shows_an_information_page(client):
    response = client.get("/legacy/")

    assert response.status_code == 200
    assert b"twine upload" in response.content


def test_missing_credentials_answer_401_with_basic_challenge(client):
    response = upload_wheel(client, None, "hello", "1.0")

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Basic realm=")
    assert "__token__" in response.reason_phrase
    assert not Project.objects.exists()


def test_unknown_token_answers_403(client):
    response = upload_wheel(client, "isk_nothere_nosecret", "hello", "1.0")

    assert response.status_code == 403
    assert "Invalid or non-existent authentication information" in response.reason_phrase
    assert not Project.objects.exists()


def test_password_upload_refused_unless_allowed(client, alice, settings):
    filename, content, metadata = make_wheel("hello", "1.0")
    body, ctype = encode_multipart(twine_fields(filename, content, metadata),
                                   [("content", filename, content, "application/octet-stream")])
    auth = basic("alice", "s3cret-password")

    refused = client.generic("POST", "/legacy/", body, content_type=ctype, HTTP_AUTHORIZATION=auth)
    settings.INDEX_ALLOW_PASSWORD_UPLOAD = True
    accepted = client.generic("POST", "/legacy/", body, content_type=ctype,
                              HTTP_AUTHORIZATION=auth)

    assert refused.status_code == 403
    assert "Username/password authentication is not allowed" in refused.reason_phrase
    assert accepted.status_code == 200


def test_token_scoped_to_another_project_answers_403_naming_why(client, alice):
    create_project("hello", owner=alice)
    other = create_project("other", owner=alice)
    _, scoped = create_token(alice, projects=[other])

    response = upload_wheel(client, scoped, "hello", "1.0")

    assert response.status_code == 403
    assert "isn't allowed to upload to project 'hello'" in response.reason_phrase
    assert "scoped to other" in response.reason_phrase
    assert not File.objects.exists()


def test_scoped_token_cannot_create_a_project(client, alice):
    other = create_project("other", owner=alice)
    _, scoped = create_token(alice, projects=[other])

    response = upload_wheel(client, scoped, "brand-new", "1.0")

    assert response.status_code == 403
    assert not Project.objects.filter(name="brand-new").exists()


def test_read_only_token_answers_403(client, alice):
    _, read_only = create_token(alice, read_only=True)

    response = upload_wheel(client, read_only, "hello", "1.0")

    assert response.status_code == 403
    assert "read-only" in response.reason_phrase


def test_user_without_role_answers_403(client, alice):
    create_project("hello", owner=alice)
    _, bobs = create_token(create_user("bob"))

    response = upload_wheel(client, bobs, "hello", "1.0")

    assert response.status_code == 403
    assert "The user 'bob' isn't allowed to upload to project 'hello'" in response.reason_phrase
    assert not Release.objects.exists()


def test_maintainer_through_a_team_may_upload(client, alice):
    project = create_project("hello", owner=alice)
    bob = create_user("bob")
    team = Group.objects.create(name="release-team")
    bob.groups.add(team)
    add_role(project, role_name=RoleName.MAINTAINER, group=team, by=alice)
    _, bobs = create_token(bob)

    response = upload_wheel(client, bobs, "hello", "1.0")

    assert response.status_code == 200
    assert File.objects.get().uploader == bob
    # The uploader does not become an owner of an existing project.
    assert not Role.objects.filter(user=bob).exists()


def test_identical_reupload_answers_200_and_changes_nothing(client, token):
    filename, content, metadata = make_wheel("hello", "1.0")
    post_upload(client, token, filename, content, metadata)
    serial = JournalEntry.objects.latest("id").id

    again = post_upload(client, token, filename, content, metadata)

    assert again.status_code == 200
    assert File.objects.count() == 1
    assert JournalEntry.objects.latest("id").id == serial
    assert len(stored_paths()) == 2


def test_same_filename_with_other_bytes_is_refused_as_already_existing(client, token):
    filename, content, metadata = make_wheel("hello", "1.0")
    post_upload(client, token, filename, content, metadata)
    _, other_content, _ = make_wheel("hello", "1.0", modules={"hello/__init__.py": "X = 2\n"})

    response = post_upload(client, token, filename, other_content, metadata)

    assert response.status_code == 400
    assert response.reason_phrase.startswith("File already exists ('hello-1.0")
    assert File.objects.get().sha256_digest != ""
    assert len(stored_paths()) == 2


def test_same_bytes_under_another_filename_are_refused_naming_the_first(client, token):
    filename, content, metadata = make_wheel("hello", "1.0")
    post_upload(client, token, filename, content, metadata)

    response = post_upload(client, token, "hello-1.0-py2.py3-none-any.whl", content, metadata,
                           pyversion="py2.py3")

    assert response.status_code == 400
    blake2 = File.objects.get().blake2_256_digest
    assert response.reason_phrase.startswith(
        f"File already exists ('hello-1.0-py3-none-any.whl', with blake2_256 hash '{blake2}')")
    assert File.objects.count() == 1 and len(stored_paths()) == 2


def test_filename_of_a_deleted_file_is_never_reused(client, token):
    filename, content, metadata = make_wheel("hello", "1.0")
    post_upload(client, token, filename, content, metadata)
    delete_file(File.objects.get())

    response = post_upload(client, token, filename, content, metadata)

    assert response.status_code == 400
    assert "previously used by a file that has since been deleted" in response.reason_phrase
    assert Filename.objects.filter(filename=filename).exists()
    assert not File.objects.exists()


def test_second_version_adds_a_release(client, token):
    upload_wheel(client, token, "hello", "1.0")
    upload_wheel(client, token, "hello", "2.0")

    assert sorted(Release.objects.values_list("version", flat=True)) == ["1.0", "2.0"]
    assert Project.objects.count() == 1


def test_version_spellings_share_one_release(client, token):
    upload_wheel(client, token, "hello", "1.0")
    filename, content = make_sdist("hello", "1.0.0")

    response = post_upload(client, token, filename, content, core_metadata("hello", "1.0.0"))

    assert response.status_code == 200
    assert Release.objects.count() == 1
    assert Release.objects.get().files.count() == 2


def test_message_is_in_reason_phrase_and_html_body(client, token):
    response = upload_wheel(client, token, "hello", "1.0", filetype="bdist_egg")

    assert response.status_code == 400
    message = "Invalid value for filetype. Error: Use a known file type."
    assert response.reason_phrase == message
    assert message in response.content.decode()
    assert response["Content-Type"].startswith("text/html")


def test_message_is_in_json_body_when_asked(client, token):
    filename, content, metadata = make_wheel("hello", "1.0")
    body, ctype = encode_multipart(
        twine_fields(filename, content, metadata, protocol_version="2"),
        [("content", filename, content, "application/octet-stream")],
    )
    response = client.generic("POST", "/legacy/", body, content_type=ctype,
                              HTTP_AUTHORIZATION=basic("__token__", token),
                              HTTP_ACCEPT="application/json")

    assert response.status_code == 400
    assert json.loads(response.content) == {
        "message": "Unknown protocol version.",
        "code": "400 Unknown protocol version.",
        "title": "Bad Request",
    }


def test_reason_phrase_is_one_ascii_line(client, token):
    filename, content, metadata = make_wheel("hello", "1.0")
    response = post_upload(client, token, filename, content, metadata,
                           classifiers="Bögus ::\nThing")

    assert response.status_code == 400
    assert "\n" not in response.reason_phrase
    assert response.reason_phrase.isascii()
    assert response.reason_phrase == "'B?gus :: Thing' is not a valid classifier. See " \
        "https://packaging.python.org/specifications/core-metadata for more information."
    assert "Bögus ::\nThing" in response.content.decode()


@pytest.mark.parametrize(("action", "message"), [
    ("submit", "Project pre-registration is no longer required"),
    ("doc_upload", "Uploading documentation is no longer supported"),
])
def test_removed_actions_answer_410(client, token, action, message):
    response = upload_wheel(client, token, "hello", "1.0", **{":action": action})

    assert response.status_code == 410
    assert message in response.reason_phrase


def test_field_sent_as_file_part_is_refused(client, token):
    filename, content, metadata = make_wheel("hello", "1.0")
    fields = [f for f in twine_fields(filename, content, metadata) if f[0] != "summary"]
    body, ctype = encode_multipart(fields, [
        ("summary", "summary.txt", b"sneaky", "text/plain"),
        ("content", filename, content, "application/octet-stream"),
    ])

    response = client.generic("POST", "/legacy/", body, content_type=ctype,
                              HTTP_AUTHORIZATION=basic("__token__", token))

    assert response.status_code == 400
    assert response.reason_phrase == "summary: Should not be a tuple."


def test_missing_file_part_is_refused(client, token):
    filename, content, metadata = make_wheel("hello", "1.0")
    body, ctype = encode_multipart(twine_fields(filename, content, metadata), [])

    response = client.generic("POST", "/legacy/", body, content_type=ctype,
                              HTTP_AUTHORIZATION=basic("__token__", token))

    assert response.status_code == 400
    assert response.reason_phrase == "Upload payload does not have a file."


def test_new_name_too_similar_to_an_existing_project_names_it(client, token, alice):
    create_project("foobar", owner=alice)

    response = upload_wheel(client, token, "f00-bar", "1.0")

    assert response.status_code == 400
    assert "The name 'f00-bar' is too similar to an existing project 'foobar'" in (
        response.reason_phrase)
    assert Project.objects.count() == 1


def test_prohibited_name_is_refused(client, token):
    ProhibitedProjectName.objects.create(name="Reserved.Name")

    response = upload_wheel(client, token, "reserved-name", "1.0")

    assert response.status_code == 400
    assert "The name 'reserved-name' isn't allowed" in response.reason_phrase
    assert not Project.objects.exists()


def test_standard_library_name_is_refused(client, token):
    response = upload_wheel(client, token, "asyncio", "1.0")

    assert response.status_code == 400
    assert "conflict with Python Standard Library module name" in response.reason_phrase


def test_archived_project_accepts_no_uploads(client, token, alice):
    create_project("hello", owner=alice, status="archived")

    response = upload_wheel(client, token, "hello", "1.0")

    assert response.status_code == 400
    assert "archived" in response.reason_phrase


def test_attestations_are_stored(client, token):
    attestations = [{"version": 1, "verification_material": {}, "envelope": {}}]

    response = upload_wheel(client, token, "hello", "1.0", attestations=json.dumps(attestations))

    assert response.status_code == 200
    assert File.objects.get().attestations == attestations


def test_description_is_rendered_after_commit(client, token, django_capture_on_commit_callbacks):
    metadata = core_metadata("hello", "1.0", description="# Title\n\nSome *text*.\n")
    filename, content, _ = make_wheel("hello", "1.0", metadata=metadata)

    with django_capture_on_commit_callbacks(execute=True):
        response = post_upload(client, token, filename, content, metadata)

    assert response.status_code == 200
    html = Release.objects.get().description_html
    assert "<h1" in html and "<em>text</em>" in html


@pytest.fixture
def unreachable_broker():
    """Celery publishing to a broker nobody listens on (a real connection refusal)."""
    from indexsite.celery import app

    saved = (app.conf.broker_url, app.conf.task_always_eager)
    app.conf.broker_url, app.conf.task_always_eager = "redis://127.0.0.1:9/0", False
    app._pool = app.amqp._producer_pool = None
    try:
        yield
    finally:
        app.conf.broker_url, app.conf.task_always_eager = saved
        app._pool = app.amqp._producer_pool = None


@pytest.mark.django_db(transaction=True)
def test_upload_committed_is_answered_200_even_when_the_broker_is_down(
    client, token, unreachable_broker
):
    response = upload_wheel(client, token, "hello", "1.0")

    assert response.status_code == 200, response.reason_phrase
    assert File.objects.get().filename == "hello-1.0-py3-none-any.whl"


def test_cache_purge_of_the_project_leaves_after_commit(
    client, token, django_capture_on_commit_callbacks
):
    purged = []
    register_purger(purged.extend)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            upload_wheel(client, token, "Hello.World", "1.0")
    finally:
        _purgers.remove(purged.extend)

    assert "project/hello-world" in purged and "all-projects" in purged


def test_accepts_file_part_without_content_type_as_uv_sends_it(client, token):
    filename, content, metadata = make_wheel("hello", "1.0")

    response = post_upload(client, token, filename, content, metadata, content_type="")

    assert response.status_code == 200


def test_repeated_fields_are_all_kept(client, token):
    filename, content, metadata = make_wheel("hello", "1.0")

    response = post_upload(
        client, token, filename, content, metadata,
        classifiers=["Framework :: Django", "Programming Language :: Python :: 3"],
        requires_dist=["requests>=2", 'rich; extra == "cli"'],
        provides_extra=["cli"],
        project_urls=["Source, https://example.com/src", "Docs, https://example.com/docs"],
        dynamic=["Requires-Dist"],
        platform="any",
    )

    assert response.status_code == 200, response.reason_phrase
    release = Release.objects.get()
    assert release.classifiers == ["Framework :: Django", "Programming Language :: Python :: 3"]
    assert release.requires_dist == ["requests>=2", 'rich; extra == "cli"']
    assert release.provides_extra == ["cli"]
    assert release.project_urls == ["Source, https://example.com/src",
                                    "Docs, https://example.com/docs"]
    assert release.dynamic == ["Requires-Dist"]
    assert release.platforms == ["any"]


def test_accepts_private_classifiers_meant_to_keep_packages_off_pypi(client, token):
    filename, content, metadata = make_wheel("hello", "1.0")

    response = post_upload(client, token, filename, content, metadata, classifiers=[
        "Private :: Do Not Upload", "Programming Language :: Python :: 3"])

    assert response.status_code == 200, response.reason_phrase
    assert Release.objects.get().classifiers == [
        "Private :: Do Not Upload", "Programming Language :: Python :: 3"]


def test_unknown_value_and_empty_fields_count_as_absent(client, token):
    filename, content, metadata = make_wheel("hello", "1.0")

    response = post_upload(client, token, filename, content, metadata,
                           author="UNKNOWN", home_page="", summary="  ")

    assert response.status_code == 200, response.reason_phrase
    release = Release.objects.get()
    assert (release.author, release.home_page, release.summary) == ("", "", "")
