"""Hostile and broken uploads, each built in the test: every one is refused with a
4xx and a clear message, and leaves no stored file and no row behind."""

import gzip
import hashlib
import io
import tarfile
import zipfile

import pytest

from packages.curation.tokens import create_token
from tests.dists import core_metadata, make_sdist, make_wheel
from tests.factories import create_user
from tests.legacy.upload_forms import assert_nothing_stored, post_upload, twine_fields

pytestmark = pytest.mark.django_db


@pytest.fixture
def token():
    return create_token(create_user("alice"))[1]


def build_zip(members: dict[str, bytes], *, compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def wheel_members(name="hello", version="1.0", **replace) -> dict[str, bytes]:
    dist = f"{name}-{version}.dist-info"
    members = {
        f"{name}/__init__.py": b"",
        f"{dist}/METADATA": core_metadata(name, version).encode(),
        f"{dist}/WHEEL": b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        f"{dist}/RECORD": b"",
    }
    for key, value in replace.items():
        path = f"{dist}/{key}"
        if value is None:
            members.pop(path)
        else:
            members[path] = value
    return members


def refused(response, status=400):
    assert response.status_code == status, (response.status_code, response.reason_phrase)
    assert_nothing_stored()
    return response.reason_phrase


WHEEL = "hello-1.0-py3-none-any.whl"
METADATA = core_metadata("hello", "1.0")


@pytest.mark.parametrize("filename", [
    "../../hello-1.0-py3-none-any.whl",
    "..\\hello-1.0-py3-none-any.whl",
    "/etc/hello-1.0-py3-none-any.whl",
])
def test_refuses_path_components_in_filename(client, token, filename):
    _, content, metadata = make_wheel("hello", "1.0")

    reason = refused(post_upload(client, token, filename, content, metadata))

    assert reason == "Cannot upload a file with '/' or '\\' in the name."


def test_refuses_control_characters_in_filename(client, token):
    _, content, metadata = make_wheel("hello", "1.0")

    reason = refused(post_upload(client, token, "hello-1.0-py3-none-any\x01.whl", content,
                                 metadata))

    assert reason.startswith("Cannot upload a file with non-printable characters")


@pytest.mark.parametrize(("filename", "filetype", "message"), [
    ("hello-1.0.egg", "bdist_egg", "Invalid value for filetype. Error: Use a known file type."),
    ("hello-1.0.tar.bz2", "sdist", "Invalid file extension: Use .tar.gz, .whl or .zip"),
    ("hello-1.0.tar.gz", "bdist_wheel", "Invalid file extension: Extension .tar.gz is invalid"),
    ("hello-1.0.zip", "sdist", "Filename 'hello-1.0.zip' is invalid, should be 'hello-1.0.tar.gz'."),
])
def test_refuses_unsupported_file_types(client, token, filename, filetype, message):
    _, content = make_sdist("hello", "1.0")
    if filename.endswith(".zip"):
        content = build_zip({"hello-1.0/PKG-INFO": METADATA.encode()})

    reason = refused(post_upload(client, token, filename, content, METADATA, filetype=filetype,
                                 pyversion="source" if filetype == "sdist" else "py3"))

    assert reason.startswith(message)


@pytest.mark.parametrize(("filename", "message"), [
    ("hello-1.0.whl", "Invalid wheel filename (wrong number of parts): 'hello-1.0'"),
    ("hello-1.0-x-py3-none-any.whl",
     "Invalid wheel filename: Invalid build number: x in 'hello-1.0-x-py3-none-any'"),
])
def test_refuses_unparsable_wheel_filename_saying_why_once(client, token, filename, message):
    _, content, metadata = make_wheel("hello", "1.0")

    fields = twine_fields(WHEEL, content, metadata)

    reason = refused(post_upload(client, token, filename, content, metadata, fields=fields))

    assert reason == message


def test_refuses_wheel_named_for_another_project(client, token):
    filename, content, _ = make_wheel("other", "1.0")

    reason = refused(post_upload(client, token, filename, content, METADATA))

    assert reason == "Start filename for 'hello' with 'hello'."


def test_refuses_wheel_with_another_version_in_filename(client, token):
    filename, content, _ = make_wheel("hello", "2.0")

    reason = refused(post_upload(client, token, filename, content, METADATA))

    assert reason == "Version in filename should be '1.0' not '2.0'."


def test_refuses_wheel_whose_metadata_disagrees_with_the_form(client, token):
    content = build_zip(wheel_members(METADATA=core_metadata("evil", "6.6").encode()))

    reason = refused(post_upload(client, token, WHEEL, content, METADATA))

    assert reason == ("Invalid distribution file. hello-1.0.dist-info/METADATA declares 'evil' "
                      "version '6.6', but the upload is 'hello' version '1.0'.")


def test_refuses_sdist_not_named_as_pep625(client, token):
    _, content = make_sdist("hello", "1.0")

    reason = refused(post_upload(client, token, "Hello-1.0.tar.gz", content, METADATA))

    assert reason == "Filename 'Hello-1.0.tar.gz' is invalid, should be 'hello-1.0.tar.gz'."


def test_refuses_wheel_that_is_not_a_zip(client, token):
    reason = refused(post_upload(client, token, WHEEL, b"MZ\x90\x00 not a zip at all", METADATA))

    assert reason == "Invalid distribution file. File is not a zip archive."


@pytest.mark.parametrize(("member", "message"), [
    ("METADATA", "Wheel 'hello-1.0-py3-none-any.whl' does not contain the required METADATA "
                 "file: hello-1.0.dist-info/METADATA"),
    ("WHEEL", "Invalid distribution file. WHEEL not found at hello-1.0.dist-info/WHEEL."),
    ("RECORD", "Wheel 'hello-1.0-py3-none-any.whl' does not contain the required RECORD file: "
               "hello-1.0.dist-info/RECORD"),
])
def test_refuses_wheel_missing_a_required_dist_info_file(client, token, member, message):
    content = build_zip(wheel_members(**{member: None}))

    reason = refused(post_upload(client, token, WHEEL, content, METADATA))

    assert reason == message


def test_refuses_wheel_with_traversing_member_path(client, token):
    members = wheel_members()
    members["../../etc/cron.d/evil"] = b"* * * * * root rm -rf /\n"

    reason = refused(post_upload(client, token, WHEEL, build_zip(members), METADATA))

    assert reason == ("Invalid distribution file. ZIP archive not accepted: unsafe member path "
                      "'../../etc/cron.d/evil'.")


def test_refuses_wheel_with_unsupported_compression(client, token):
    content = build_zip(wheel_members(), compression=zipfile.ZIP_BZIP2)

    reason = refused(post_upload(client, token, WHEEL, content, METADATA))

    assert reason == "Invalid distribution file. File does not use a supported compression type."


def test_refuses_wheel_with_encrypted_members(client, token):
    content = bytearray(build_zip(wheel_members(), compression=zipfile.ZIP_STORED))
    # Set the "encrypted" flag bit in every local and central directory header.
    for signature, flags_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = content.find(signature)
        while start >= 0:
            content[start + flags_at] |= 0x1
            start = content.find(signature, start + 4)

    reason = refused(post_upload(client, token, WHEEL, bytes(content), METADATA))

    assert reason.startswith("Invalid distribution file. ZIP archive not accepted: encrypted "
                             "member ")


def test_refuses_digest_mismatch(client, token):
    filename, content, metadata = make_wheel("hello", "1.0")

    reason = refused(post_upload(client, token, filename, content, metadata,
                                 sha256_digest=hashlib.sha256(b"other").hexdigest()))

    assert reason == ("The digest supplied does not match a digest calculated from the uploaded "
                      "file.")


def test_refuses_upload_without_any_digest(client, token):
    filename, content, metadata = make_wheel("hello", "1.0")

    reason = refused(post_upload(client, token, filename, content, metadata,
                                 sha256_digest=None, blake2_256_digest=None))

    assert reason == "Error: Include at least one message digest."


def test_refuses_zip_bomb_without_expanding_it(client, token):
    members = wheel_members()
    members["hello/bomb.bin"] = b"\0" * (64 * 1024 * 1024)
    content = build_zip(members)
    assert len(content) < 200_000

    reason = refused(post_upload(client, token, WHEEL, content, METADATA))

    assert reason == ("Invalid distribution file. Compression ratio of 'hello/bomb.bin' exceeds "
                      "50: the archive looks like a zip bomb.")


def test_refuses_gzip_bomb_sdist(client, token):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path, data in {"hello-1.0/PKG-INFO": METADATA.encode(),
                           "hello-1.0/zeros.bin": b"\0" * (64 * 1024 * 1024)}.items():
            info = tarfile.TarInfo(path)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    content = buffer.getvalue()

    reason = refused(post_upload(client, token, "hello-1.0.tar.gz", content, METADATA))

    assert reason.endswith("exceeds 50: the archive looks like a zip bomb.")


def test_refuses_sdist_that_is_not_gzip(client, token):
    reason = refused(post_upload(client, token, "hello-1.0.tar.gz", b"plain text", METADATA))

    assert reason == "Invalid distribution file. File is not a gzip-compressed tar archive."


def test_refuses_sdist_without_pkg_info(client, token):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        info = tarfile.TarInfo("hello-1.0/setup.py")
        archive.addfile(info, io.BytesIO(b""))

    reason = refused(post_upload(client, token, "hello-1.0.tar.gz", buffer.getvalue(), METADATA))

    assert reason == "Invalid distribution file. PKG-INFO not found at hello-1.0/PKG-INFO."


def test_refuses_sdist_with_several_top_level_folders(client, token):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path in ("hello-1.0/PKG-INFO", "elsewhere/x.py"):
            info = tarfile.TarInfo(path)
            archive.addfile(info, io.BytesIO(b""))

    reason = refused(post_upload(client, token, "hello-1.0.tar.gz", buffer.getvalue(), METADATA))

    assert reason == "Invalid distribution file. Incorrect number of top-level directories in sdist."


def test_refuses_truncated_sdist(client, token):
    _, content = make_sdist("hello", "1.0")
    truncated = gzip.compress(gzip.decompress(content)[:700])

    reason = refused(post_upload(client, token, "hello-1.0.tar.gz", truncated, METADATA))

    assert reason.startswith("Invalid distribution file.")


def test_refuses_file_over_the_size_limit(client, token, settings):
    settings.INDEX_MAX_FILE_SIZE = 2048
    members = wheel_members()
    members["hello/data.bin"] = bytes(range(256)) * 40  # stored, not compressible enough
    content = build_zip(members, compression=zipfile.ZIP_STORED)

    reason = refused(post_upload(client, token, WHEEL, content, METADATA))

    assert reason == "File too large. Limit for uploads to this index is 0 MB."


def test_refuses_file_over_the_project_override_limit(client, token, settings):
    from tests.factories import create_project

    project = create_project("hello", owner=create_user("owner"), max_file_size=500)
    from packages.curation.roles import add_role

    alice = create_user("alice2")
    add_role(project, role_name="Owner", user=alice)
    filename, content, metadata = make_wheel("hello", "1.0")
    assert len(content) > 500

    response = post_upload(client, create_token(alice)[1], filename, content, metadata)

    assert response.status_code == 400
    assert response.reason_phrase.startswith(
        "File too large. Limit for project 'hello' is 500 bytes.")
    from packages.models import File

    assert not File.objects.exists()


def test_refuses_upload_over_the_project_total_size(client, token, settings):
    settings.INDEX_MAX_PROJECT_SIZE = 1500
    filename, content, metadata = make_wheel("hello", "1.0")
    assert 1500 >= len(content) > 750
    assert post_upload(client, token, filename, content, metadata).status_code == 200
    filename2, content2, metadata2 = make_wheel("hello", "2.0")

    response = post_upload(client, token, filename2, content2, metadata2)

    assert response.status_code == 400
    assert response.reason_phrase.startswith(
        "Project size too large. Limit for project 'hello' total size is 1500 bytes.")
    from packages.models import File

    assert File.objects.count() == 1


def test_refuses_image_content_type(client, token):
    filename, content, metadata = make_wheel("hello", "1.0")

    reason = refused(post_upload(client, token, filename, content, metadata,
                                 content_type="image/png"))

    assert reason == "Invalid distribution file."


@pytest.mark.parametrize(("overrides", "message"), [
    ({"version": "not a version"}, "'not a version' is invalid for 'version'."),
    ({"version": "1.0+local"}, "The use of local versions in '1.0+local' is not allowed."),
    ({"metadata_version": "2.0"}, "'2.0' is not a valid metadata version."),
    ({"name": "-bad-"}, "'-bad-' is invalid for 'name'."),
    ({"classifiers": "Not :: A :: Classifier"}, "'Not :: A :: Classifier' is not a valid "
                                                "classifier."),
    ({"requires_python": ">=3.8,<<4"}, "'>=3.8,<<4' is invalid for 'requires-python'."),
    ({"requires_dist": "evil @ https://example.com/evil.whl"},
     "Can't have direct dependency: evil @ https://example.com/evil.whl."),
    ({"requires_dist": "broken >="}, "'broken >=' is invalid for 'requires-dist'."),
    ({"license_expression": "MIT OR NOT-A-LICENSE"},
     "'MIT OR NOT-A-LICENSE' is invalid for 'license-expression'."),
    ({"license_expression": "MIT", "license": "MIT License"},
     "License is deprecated when License-Expression is present."),
    ({"summary": "x" * 513}, "'summary' field must be 512 characters or less."),
    ({"author_email": "not-an-address"}, "'not-an-address' is not a valid email address."),
    ({"project_urls": "Source, not a url"}, "'not a url' is not a valid url."),
    ({"description": "`broken\n\n.. raw:: html\n\n  <script>"},
     "The description failed to render in the default format of reStructuredText."),
    ({"metadata_version": "2.1", "license_expression": "MIT"},
     "license-expression introduced in metadata version 2.4, not 2.1."),
])
def test_refuses_invalid_metadata(client, token, overrides, message):
    filename, content, metadata = make_wheel("hello", "1.0")

    reason = refused(post_upload(client, token, filename, content, metadata, **overrides))

    assert reason.startswith(message)


def test_refuses_description_that_crashes_the_renderer(client, token):
    nested = "".join("  " * depth + "- item\n\n" for depth in range(600))
    filename, content, metadata = make_wheel("hello", "1.0")

    reason = refused(post_upload(client, token, filename, content, metadata,
                                 description=nested, description_content_type="text/x-rst"))

    assert reason == "The description failed to render for 'text/x-rst'."


def test_refuses_repeated_single_value_field(client, token):
    filename, content, metadata = make_wheel("hello", "1.0")
    fields = twine_fields(filename, content, metadata) + [("summary", "second summary")]

    reason = refused(post_upload(client, token, filename, content, metadata, fields=fields))

    assert reason == "'summary' has invalid data."


@pytest.mark.parametrize(("overrides", "message"), [
    ({"name": "a" + "-" * 255 + "b"}, "'name' field must be 255 characters or less."),
    ({"version": "1." + ".".join(["0"] * 60)}, "'version' field must be 100 characters or less."),
    ({"description_content_type": "text/plain; charset=utf-8; x=" + "y" * 100},
     "'description-content-type' field must be 128 characters or less."),
    ({"requires_python": ",".join(f">=3.{i}" for i in range(60))},
     "'requires-python' field must be 255 characters or less."),
    ({"pyversion": "py" + "3" * 70},
     "Invalid value for pyversion. Error: Field cannot be longer than 64 characters."),
])
def test_refuses_values_longer_than_what_is_stored(client, token, overrides, message):
    filename, content, metadata = make_wheel("hello", "1.0")

    reason = refused(post_upload(client, token, filename, content, metadata, **overrides))

    assert reason.startswith(message)


def test_refuses_filename_too_long_for_the_metadata_file_beside_it(client, token):
    name = "a" * 230
    filename, content, metadata = make_wheel(name, "1.0")

    reason = refused(post_upload(client, token, filename, content, metadata))

    assert reason == f"Filename is too long: '{filename}' (at most 246 bytes)."


@pytest.mark.parametrize("attestations", ["[NaN]", '[{"a": "\\u0000"}]', '["\\ud800"]',
                                          "[" * 100_000 + "]" * 100_000])
def test_refuses_attestations_a_json_column_cannot_hold(client, token, attestations):
    filename, content, metadata = make_wheel("hello", "1.0")

    reason = refused(post_upload(client, token, filename, content, metadata,
                                 attestations=attestations))

    assert reason == "Invalid attestations supplied during upload: expected a JSON list."


def test_nul_characters_in_fields_are_stored_as_text(client, token):
    filename, content, metadata = make_wheel("hello", "1.0")

    response = post_upload(client, token, filename, content, metadata, comment="a\x00b",
                           summary="nul\x00here")

    assert response.status_code == 200, response.reason_phrase
    from packages.models import File

    stored = File.objects.select_related("release").get()
    assert stored.comment_text == "a\\x00b"
    assert stored.release.summary == "nul\\x00here"


def build_sdist(*specials: tarfile.TarInfo) -> bytes:
    """A valid hello-1.0 sdist with ``specials`` (links, devices, ...) added."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        info = tarfile.TarInfo("hello-1.0/PKG-INFO")
        info.size = len(METADATA.encode())
        archive.addfile(info, io.BytesIO(METADATA.encode()))
        for special in specials:
            archive.addfile(special)
    return buffer.getvalue()


def tar_member(name: str, kind: bytes, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    if kind in (tarfile.CHRTYPE, tarfile.BLKTYPE):
        info.devmajor, info.devminor = 1, 3
    return info


@pytest.mark.parametrize(("member", "kind"), [
    (tar_member("hello-1.0/passwd", tarfile.SYMTYPE, "/etc/passwd"), "a symbolic link"),
    (tar_member("hello-1.0/up", tarfile.SYMTYPE, "../../../root/.ssh"), "a symbolic link"),
    (tar_member("hello-1.0/setup.py", tarfile.SYMTYPE, "PKG-INFO"), "a symbolic link"),
    (tar_member("hello-1.0/shadow", tarfile.LNKTYPE, "/etc/shadow"), "a hard link"),
    (tar_member("hello-1.0/copy", tarfile.LNKTYPE, "hello-1.0/PKG-INFO"), "a hard link"),
    (tar_member("hello-1.0/null", tarfile.CHRTYPE), "a character device"),
    (tar_member("hello-1.0/sda", tarfile.BLKTYPE), "a block device"),
    (tar_member("hello-1.0/pipe", tarfile.FIFOTYPE), "a FIFO"),
    (tar_member("hello-1.0/label", b"V"), "of tar type 'V'"),  # GNU volume header
])
def test_refuses_sdist_with_links_or_special_members(client, token, member, kind):
    content = build_sdist(member)

    reason = refused(post_upload(client, token, "hello-1.0.tar.gz", content, METADATA))

    assert reason == (f"Invalid distribution file. tar archive not accepted: '{member.name}' is "
                      f"{kind}; only regular files and directories are allowed.")


def test_refuses_wheel_with_a_symlink_member(client, token):
    members = wheel_members()
    buffer = io.BytesIO(build_zip(members))
    with zipfile.ZipFile(buffer, "a") as archive:
        link = zipfile.ZipInfo("hello/passwd")
        link.create_system = 3  # Unix: the high 16 bits of external_attr are st_mode
        link.external_attr = 0o120777 << 16  # S_IFLNK | 0o777
        archive.writestr(link, "/etc/passwd")

    reason = refused(post_upload(client, token, WHEEL, buffer.getvalue(), METADATA))

    assert reason == ("Invalid distribution file. ZIP archive not accepted: 'hello/passwd' is a "
                      "symbolic link.")
