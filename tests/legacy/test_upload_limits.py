"""An oversize upload is refused as soon as its Content-Length or its streamed
bytes pass the limit, without the server reading the rest of the body."""

import io

import pytest
import requests
from django.test import RequestFactory
from django.test.client import ClientHandler

from packages.curation.tokens import create_token
from packages.models import File, Project
from tests.dists import make_wheel
from tests.factories import create_project, create_user
from tests.legacy.upload_forms import basic, encode_multipart, twine_fields

pytestmark = pytest.mark.django_db
MIB = 1024 * 1024


class CountingInput(io.RawIOBase):
    """A request body of ``size`` bytes (fields, then an endless file part) that
    counts how much the server reads."""

    def __init__(self, head: bytes, size: int):
        self._head = head
        self._size = size
        self.consumed = 0

    def readable(self):
        return True

    def readinto(self, buffer):
        n = min(len(buffer), self._size - self.consumed)
        if n <= 0:
            return 0
        start = self.consumed
        chunk = bytearray(n)
        if start < len(self._head):
            head = self._head[start:start + n]
            chunk[: len(head)] = head
        buffer[:n] = chunk
        self.consumed += n
        return n


def post_streaming(token, size: int):
    filename, content, metadata = make_wheel("hello", "1.0")
    body, ctype = encode_multipart(twine_fields(filename, content, metadata), [])
    # Keep the fields, open the file part and never close it: the server must stop first.
    head = body[: body.rindex(b"--" + ctype.split("=")[1].encode() + b"--")]
    head += (
        f'--{ctype.split("=")[1]}\r\nContent-Disposition: form-data; name="content"; '
        f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
    ).encode()
    stream = CountingInput(head, size)
    environ = RequestFactory()._base_environ(
        REQUEST_METHOD="POST", PATH_INFO="/legacy/", CONTENT_TYPE=ctype,
        CONTENT_LENGTH=str(size), HTTP_AUTHORIZATION=basic("__token__", token),
        **{"wsgi.input": io.BufferedReader(stream)},
    )
    return ClientHandler()(environ), stream


def test_content_length_over_the_limit_is_refused_before_reading_the_body(settings):
    settings.INDEX_MAX_FILE_SIZE = 5 * MIB
    token = create_token(create_user("alice"))[1]

    response, stream = post_streaming(token, size=200 * MIB)

    assert response.status_code == 400
    assert response.reason_phrase == "File too large. Limit for uploads to this index is 5 MB."
    assert stream.consumed == 0
    assert not Project.objects.exists()


def test_streamed_file_over_the_limit_is_cut_off_while_arriving(settings):
    settings.INDEX_MAX_FILE_SIZE = 1 * MIB
    token = create_token(create_user("alice"))[1]

    # Under limit + form allowance, so Content-Length alone does not refuse it.
    response, stream = post_streaming(token, size=8 * MIB)

    assert response.status_code == 400
    assert response.reason_phrase == "File too large. Limit for uploads to this index is 1 MB."
    assert stream.consumed < 1.5 * MIB
    assert not File.objects.exists()


def test_a_project_limit_above_the_global_one_raises_the_stream_ceiling(settings, client):
    settings.INDEX_MAX_FILE_SIZE = 1 * MIB
    alice = create_user("alice")
    create_project("hello", owner=alice, max_file_size=3 * MIB)
    token = create_token(alice)[1]

    response, stream = post_streaming(token, size=12 * MIB)

    assert response.status_code == 400
    assert response.reason_phrase == "File too large. Limit for uploads to this index is 3 MB."
    assert 3 * MIB <= stream.consumed < 3.5 * MIB


@pytest.mark.django_db(transaction=True)
def test_chunked_upload_is_refused_not_answered_with_the_information_page(live_server):
    token = create_token(create_user("alice"))[1]
    filename, content, metadata = make_wheel("hello", "1.0")
    body, ctype = encode_multipart(twine_fields(filename, content, metadata),
                                   [("content", filename, content, "application/octet-stream")])

    # A generator body makes requests send Transfer-Encoding: chunked, no Content-Length.
    response = requests.post(f"{live_server.url}/legacy/", data=iter([body]), timeout=30,
                             headers={"Content-Type": ctype,
                                      "Authorization": basic("__token__", token)})

    assert response.status_code == 411
    assert response.reason.startswith("Length Required: send the upload with a Content-Length")
    assert not File.objects.exists()
