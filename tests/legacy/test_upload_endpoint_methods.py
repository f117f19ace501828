"""/legacy/ answers 200 only to a GET (the information page) or to an upload that
was stored: any other method, action or body gets a 4xx saying what was expected,
so that no client mistakes it for a successful upload."""

import html
import json

import pytest
import requests

from packages.curation.tokens import create_token
from tests.dists import make_wheel
from tests.factories import create_user
from tests.legacy.upload_forms import assert_nothing_stored, basic, encode_multipart, twine_fields

pytestmark = pytest.mark.django_db


@pytest.fixture
def token():
    return create_token(create_user("alice"))[1]


def post(client, token, body: bytes, content_type: str, path="/legacy/"):
    return client.generic("POST", path, body, content_type=content_type,
                          HTTP_AUTHORIZATION=basic("__token__", token))


def wheel_form(**overrides) -> tuple[bytes, str]:
    """A twine upload of hello-1.0 as (body, content type), ``overrides`` as in
    twine_fields (None drops a field)."""
    filename, content, metadata = make_wheel("hello", "1.0")
    return encode_multipart(twine_fields(filename, content, metadata, **overrides),
                            [("content", filename, content, "application/octet-stream")])


def refused(response, status=400) -> str:
    assert response.status_code == status, (response.status_code, response.reason_phrase)
    assert response.reason_phrase in html.unescape(response.content.decode())
    assert_nothing_stored()
    return response.reason_phrase


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_other_methods_answer_405_with_allow(client, token, method):
    body, ctype = wheel_form()

    response = client.generic(method, "/legacy/", body, content_type=ctype,
                              HTTP_AUTHORIZATION=basic("__token__", token))

    reason = refused(response, 405)
    assert response["Allow"] == "GET, HEAD, OPTIONS, POST"
    assert reason == (f"Method Not Allowed: {method}. Upload with POST (a multipart/form-data "
                      "form with :action=file_upload); GET shows how to upload.")


def test_options_lists_the_allowed_methods(client):
    response = client.options("/legacy/")

    assert response.status_code == 200
    assert response["Allow"] == "GET, HEAD, OPTIONS, POST"
    assert response.content == b""


def test_post_without_action_is_refused(client, token):
    body, ctype = wheel_form(**{":action": None})

    reason = refused(post(client, token, body, ctype))

    assert reason == ("Missing :action: upload a distribution with a multipart/form-data form "
                      "holding :action=file_upload, as twine and uv publish send it.")


@pytest.mark.parametrize("action", ["remove_pkg", "file-upload", "", "<b>x</b>"])
def test_post_with_unknown_action_is_refused_naming_it(client, token, action):
    body, ctype = wheel_form(**{":action": action})

    response = post(client, token, body, ctype)

    assert refused(response) == (f"Unknown :action '{action}': this endpoint accepts only "
                                 ":action=file_upload (an upload as twine and uv publish send "
                                 "it).")
    assert "<b>" not in response.content.decode()


def test_unknown_action_in_the_query_string_is_refused(client, token):
    body, ctype = wheel_form(**{":action": None})

    reason = refused(post(client, token, body, ctype, path="/legacy/?:action=remove_pkg"))

    assert reason.startswith("Unknown :action 'remove_pkg'")


UNREADABLE = ("The multipart/form-data body holds no form field that could be read (check "
              "its boundary and part headers): an upload is a multipart/form-data form with "
              ":action=file_upload, the metadata fields and the file in 'content'.")


def test_multipart_body_with_another_boundary_is_refused(client, token):
    body, ctype = wheel_form()

    reason = refused(post(client, token, body, "multipart/form-data; boundary=not-the-one"))

    assert reason == UNREADABLE


def test_multipart_body_with_garbage_part_headers_is_refused(client, token):
    body = (b"--xyz\r\nthis is not a header\r\n\r\nfile_upload\r\n"
            b"--xyz\r\nContent-Disposition: attachment\r\n\r\nhello\r\n--xyz--\r\n")

    reason = refused(post(client, token, body, "multipart/form-data; boundary=xyz"))

    assert reason == UNREADABLE


def test_json_body_sent_as_multipart_is_refused(client, token):
    body = json.dumps({":action": "file_upload", "name": "hello", "version": "1.0"}).encode()

    reason = refused(post(client, token, body, "multipart/form-data; boundary=xyz"))

    assert reason == UNREADABLE


def test_empty_multipart_body_is_refused(client, token):
    # The test client sets no Content-Type on an empty body unless told to.
    reason = refused(client.post("/legacy/", CONTENT_TYPE="multipart/form-data; boundary=xyz",
                                 CONTENT_LENGTH="0", HTTP_AUTHORIZATION=basic("__token__", token)))

    assert reason == UNREADABLE


@pytest.mark.parametrize(("content_type", "body"), [
    ("application/json", b'{":action": "file_upload"}'),
    ("application/x-www-form-urlencoded", b":action=file_upload&name=hello&version=1.0"),
    ("multipart/mixed; boundary=xyz", b"--xyz\r\n\r\n--xyz--\r\n"),
    ("", b":action=file_upload"),
])
def test_body_that_is_not_multipart_form_data_is_refused_naming_its_type(
        client, token, content_type, body):
    reason = refused(post(client, token, body, content_type))

    received = f"'{content_type}'" if content_type else "none"
    assert reason == (f"Expected a multipart/form-data upload (a form with :action=file_upload "
                      f"and the file in 'content'); the request's Content-Type is {received}.")


def test_multipart_content_type_without_boundary_is_refused(client, token):
    body, _ = wheel_form()

    reason = refused(post(client, token, body, "multipart/form-data"))

    assert reason == ("Invalid multipart/form-data request body: Invalid boundary in multipart: "
                      "None.")


@pytest.mark.django_db(transaction=True)
def test_a_real_client_sees_the_refusal_in_the_status_line(live_server):
    token = create_token(create_user("alice"))[1]

    response = requests.post(f"{live_server.url}/legacy/", json={":action": "file_upload"},
                             headers={"Content-Type": "multipart/form-data; boundary=xyz",
                                      "Authorization": basic("__token__", token)}, timeout=30)

    assert response.status_code == 400
    assert response.reason == UNREADABLE
    assert UNREADABLE in html.unescape(response.text)
    assert_nothing_stored()
