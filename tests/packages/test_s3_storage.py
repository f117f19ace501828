"""Uploads stored on S3 through the real django-storages backend, against an
S3-compatible HTTP server (moto in server mode) started by the test module."""

import io
import socket
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest
import requests
from django.db.models.signals import pre_save

from packages.curation.tokens import create_token
from packages.models import File, Project
from packages.storage import open_stored
from packages.uploads.operation import UploadedContent, accept_upload
from tests.dists import make_wheel
from tests.factories import create_user
from tests.legacy.upload_forms import post_upload, upload_request

pytestmark = pytest.mark.django_db
BUCKET = "indexsite-test"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    port = free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                requests.get(endpoint, timeout=5)
                break
            except (requests.ConnectionError, requests.Timeout):  # still starting
                time.sleep(0.1)
        else:
            raise RuntimeError("moto_server did not start")
        yield endpoint
    finally:
        server.terminate()
        server.wait(10)


@pytest.fixture
def bucket(s3_endpoint, settings):
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", **CREDENTIALS)
    client.create_bucket(Bucket=BUCKET)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": s3_endpoint,
                "region_name": "us-east-1",
                "access_key": CREDENTIALS["aws_access_key_id"],
                "secret_key": CREDENTIALS["aws_secret_access_key"],
                "file_overwrite": False,
                "default_acl": None,
                "querystring_auth": True,
            },
        },
    }
    settings.INDEX_STORAGE = "s3"
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def keys(client) -> list[str]:
    return sorted(o["Key"] for o in client.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def test_upload_is_stored_in_the_bucket_and_read_back(client, bucket):
    token = create_token(create_user("alice"))[1]
    filename, content, metadata = make_wheel("hello", "1.0")

    response = post_upload(client, token, filename, content, metadata)

    assert response.status_code == 200, response.reason_phrase
    file = File.objects.get()
    assert keys(bucket) == [file.path, f"{file.path}.metadata"]
    assert bucket.get_object(Bucket=BUCKET, Key=file.path)["Body"].read() == content
    assert bucket.get_object(Bucket=BUCKET, Key=f"{file.path}.metadata")["Body"].read() == (
        metadata.encode())
    with open_stored(file.path) as stored:
        assert stored.read() == content


def test_file_url_redirects_to_a_signed_url_serving_the_bytes(client, bucket):
    token = create_token(create_user("alice"))[1]
    filename, content, metadata = make_wheel("hello", "1.0")
    post_upload(client, token, filename, content, metadata)
    file = File.objects.get()

    response = client.get(f"/{file.path}")

    assert response.status_code == 302
    assert "Signature=" in response["Location"] or "X-Amz-Signature=" in response["Location"]
    assert requests.get(response["Location"], timeout=10).content == content


def test_refused_upload_leaves_no_object_in_the_bucket(client, bucket):
    token = create_token(create_user("alice"))[1]
    filename, content, metadata = make_wheel("hello", "1.0")

    response = post_upload(client, token, filename, content[:-30], metadata,
                           sha256_digest=None, blake2_256_digest=None,
                           md5_digest="0" * 32)

    assert response.status_code == 400
    assert keys(bucket) == []
    assert not File.objects.exists()


def test_failed_transaction_removes_the_objects_it_stored(bucket):
    """Stored before the rows commit: a failure after storing must delete both
    objects (the file and its .metadata) from the bucket."""
    alice = create_user("alice")
    filename, content, metadata = make_wheel("hello", "1.0")
    request = upload_request(filename, content, metadata)
    stored_before_failure = []

    def fail(sender, instance, **kwargs):
        stored_before_failure.extend(keys(bucket))
        raise RuntimeError("database went away")

    pre_save.connect(fail, sender=File)
    try:
        with pytest.raises(RuntimeError):
            accept_upload(upload=request, content=UploadedContent(filename, io.BytesIO(content)),
                          uploader=alice)
    finally:
        pre_save.disconnect(fail, sender=File)

    assert len(stored_before_failure) == 2
    assert keys(bucket) == []
    assert not File.objects.exists() and not Project.objects.exists()
