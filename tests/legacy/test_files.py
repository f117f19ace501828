"""Serving distributions and PEP 658 metadata under /packages/."""

import hashlib
import io
import zipfile

import pytest

from packages.curation.deletion import delete_file
from packages.models import File, Project, ProjectStatus
from packages.storage import save_stored
from tests.factories import publish


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.fixture
def wheel(db) -> File:
    release = publish("Served", "1.0", sdist=True)
    return release.files.get(packagetype="bdist_wheel")


@pytest.fixture
def sdist(wheel) -> File:
    return File.objects.get(packagetype="sdist")


def test_serves_the_file_with_its_headers(client, wheel):
    response = client.get(f"/{wheel.path}")
    assert response.status_code == 200
    content = body_of(response)
    assert hashlib.sha256(content).hexdigest() == wheel.sha256_digest
    assert response["Content-Length"] == str(wheel.size) == str(len(content))
    assert response["Content-Type"] == "application/zip"
    assert response["ETag"] == f'"{wheel.sha256_digest}"'
    assert response["Cache-Control"] == "max-age=365000000, immutable, public"
    assert response["Accept-Ranges"] == "bytes"
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "Content-Encoding" not in response
    assert response["X-PyPI-File-Project"] == "served"
    assert response["X-PyPI-File-Package-Type"] == "bdist_wheel"


def test_sdist_content_type(client, sdist):
    response = client.get(f"/{sdist.path}")
    assert response["Content-Type"] == "application/gzip"
    assert "Content-Encoding" not in response
    assert hashlib.sha256(body_of(response)).hexdigest() == sdist.sha256_digest


def test_serves_metadata_beside_the_wheel(client, wheel):
    response = client.get(f"/{wheel.path}.metadata")
    assert response.status_code == 200
    content = body_of(response)
    assert hashlib.sha256(content).hexdigest() == wheel.metadata_sha256
    with zipfile.ZipFile(io.BytesIO(body_of(client.get(f"/{wheel.path}")))) as archive:
        assert archive.read("served-1.0.dist-info/METADATA") == content
    assert response["ETag"] == f'"{wheel.metadata_sha256}"'
    assert response["Content-Length"] == str(len(content))


def test_sdist_has_no_metadata_file(client, sdist):
    assert client.get(f"/{sdist.path}.metadata").status_code == 404


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-9", (0, 9)),
        ("bytes=10-", (10, None)),
        ("bytes=-22", (-22, None)),  # suffix range: the last 22 bytes (a zip's EOCD)
        ("bytes=5-5", (5, 5)),
        ("bytes=100-999999", (100, None)),  # clipped to the end
    ],
)
def test_range_requests_get_206(client, wheel, header, expected):
    full = body_of(client.get(f"/{wheel.path}"))
    response = client.get(f"/{wheel.path}", HTTP_RANGE=header)
    assert response.status_code == 206
    start, end = expected
    part = full[start:] if end is None else full[start : end + 1]
    assert body_of(response) == part
    assert response["Content-Length"] == str(len(part))
    first = start if start >= 0 else len(full) + start
    assert response["Content-Range"] == f"bytes {first}-{first + len(part) - 1}/{len(full)}"


def test_unsatisfiable_range_is_416(client, wheel):
    response = client.get(f"/{wheel.path}", HTTP_RANGE=f"bytes={wheel.size}-")
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{wheel.size}"


@pytest.mark.parametrize("header", ["bytes=0-1,5-6", "items=0-1", "bytes=abc", "bytes=9-3"])
def test_ranges_we_do_not_honour_get_the_whole_file(client, wheel, header):
    response = client.get(f"/{wheel.path}", HTTP_RANGE=header)
    assert response.status_code == 200
    assert len(body_of(response)) == wheel.size


def test_if_range_with_another_validator_gets_the_whole_file(client, wheel):
    response = client.get(f"/{wheel.path}", HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE='"other"')
    assert response.status_code == 200
    response = client.get(
        f"/{wheel.path}", HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE=f'"{wheel.sha256_digest}"'
    )
    assert response.status_code == 206


def test_head_and_conditional_get(client, wheel):
    head = client.head(f"/{wheel.path}")
    assert head.status_code == 200
    assert head["Content-Length"] == str(wheel.size)
    assert body_of(head) == b""
    again = client.get(f"/{wheel.path}", HTTP_IF_NONE_MATCH=f'"{wheel.sha256_digest}"')
    assert again.status_code == 304
    assert not again.has_header("Content-Type")  # clients' caches keep the stored one
    assert again["ETag"] == f'"{wheel.sha256_digest}"'


def test_cors_preflight_and_write_methods(client, wheel):
    preflight = client.options(f"/{wheel.path}")
    assert preflight.status_code == 204
    assert preflight["Access-Control-Allow-Headers"] == "Range"
    assert client.post(f"/{wheel.path}").status_code == 405
    assert client.put(f"/{wheel.path}").status_code == 405


def test_object_in_storage_without_a_file_row_is_not_served(client, db):
    digest = "ab" * 32
    path = f"packages/{digest[:2]}/{digest[2:4]}/{digest[4:]}/stray-1.0-py3-none-any.whl"
    save_stored(path, io.BytesIO(b"not a registered file"))
    assert client.get(f"/{path}").status_code == 404


def test_deleted_file_is_not_served(client, wheel):
    url = f"/{wheel.path}"
    delete_file(wheel)
    assert client.get(url).status_code == 404
    assert client.get(url + ".metadata").status_code == 404


def test_quarantined_project_files_are_not_served(client, wheel):
    Project.objects.update(status=ProjectStatus.QUARANTINED)
    response = client.get(f"/{wheel.path}")
    assert response.status_code == 404
    assert response.content == b"404 Not Found"


def test_archived_project_files_are_still_served(client, wheel):
    Project.objects.update(status=ProjectStatus.ARCHIVED)
    assert client.get(f"/{wheel.path}").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/packages/../../etc/passwd",
        "/packages/ab/cd/ef/x.whl",
        "/packages/%2e%2e/%2e%2e/settings.py",
    ],
)
def test_paths_outside_the_layout_are_404(client, db, path):
    assert client.get(path).status_code == 404


def test_accel_redirect_hands_the_file_to_nginx(client, wheel, settings):
    settings.INDEX_FILES_ACCEL_REDIRECT = "/_files/"
    response = client.get(f"/{wheel.path}")
    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == f"/_files/{wheel.path}"
    assert response.content == b""
    assert response["Content-Type"] == "application/zip"
    assert response["Cache-Control"] == "max-age=365000000, immutable, public"
    metadata = client.get(f"/{wheel.path}.metadata")
    assert metadata["X-Accel-Redirect"] == f"/_files/{wheel.path}.metadata"


def test_private_reads_make_file_responses_private(client, wheel, settings):
    from packages.curation.tokens import create_token
    from tests.factories import create_user

    settings.INDEX_READ_AUTH = "authenticated"
    _, token = create_token(create_user("reader"), read_only=True)
    import base64

    auth = "Basic " + base64.b64encode(f"__token__:{token}".encode()).decode()
    response = client.get(f"/{wheel.path}", HTTP_AUTHORIZATION=auth)
    assert response.status_code == 200
    assert "public" not in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


def test_predictable_url_redirects_to_the_hashed_url(client, wheel, sdist):
    response = client.get(f"/packages/py3/s/Served/{wheel.filename}")
    assert response.status_code == 302
    assert response["Location"] == f"/{wheel.path}"
    assert response["Cache-Control"] == "max-age=604800, public"
    source = client.get(f"/packages/source/s/served/{sdist.filename}", follow=True)
    assert source.status_code == 200
    assert hashlib.sha256(body_of(source)).hexdigest() == sdist.sha256_digest


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/packages/py3/x/served/served-1.0-py3-none-any.whl", "Incorrect project bucket"),
        ("/packages/source/s/served/served-1.0-py3-none-any.whl", "no file found"),
        ("/packages/py3/s/served/served-9.9-py3-none-any.whl", "no file found"),
        ("/packages/py3/o/other/served-1.0-py3-none-any.whl", "no file found"),
        ("/packages/source/s/served/served-1.0.tar.gz.asc", "missing signature file"),
    ],
)
def test_predictable_url_misses_are_404_with_a_reason(client, wheel, path, reason):
    response = client.get(path)
    assert response.status_code == 404
    assert response["Reason"] == reason


def test_predictable_url_of_a_quarantined_project_is_404(client, wheel):
    Project.objects.update(status=ProjectStatus.QUARANTINED)
    assert client.get(f"/packages/py3/s/served/{wheel.filename}").status_code == 404
