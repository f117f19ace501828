"""Bad calls answer XML-RPC Faults with PyPI's codes (spec §2), never a 500."""

import xmlrpc.client

import pytest
import requests

from tests.xmlrpc.conftest import fault_of, method_call


@pytest.mark.parametrize(
    ("name", "params", "expected"),
    [
        ("no_such_method", (), (-32601, "server error; requested method not found")),
        ("system.listMethods", (), (-32601, "server error; requested method not found")),
        ("updated_releases", (0,), (-32601, "server error; requested method not found")),
        ("changelog_since_serial", ("1",),
         (-32602, "client error; since_serial: Input should be a valid integer")),
        ("changelog_since_serial", (True,),
         (-32602, "client error; since_serial: Input should be a valid integer")),
        ("changelog_since_serial", (1.5,),
         (-32602, "client error; since_serial: Input should be a valid integer")),
        ("changelog_since_serial", (),
         (-32602, "client error; since_serial: Missing required argument")),
        ("changelog_last_serial", (1,),
         (-32602, "client error; 1: Unexpected positional argument")),
        ("changelog_since_serial", (1, 2, 3), (
            -32602,
            "client error; 2: Unexpected positional argument; 3: Unexpected positional argument")),
        ("package_roles", (7,),
         (-32602, "client error; package_name: Input should be a valid string")),
        ("browse", ("MIT",), (-32602, "client error; classifiers: Input should be a valid list")),
        ("browse", (["MIT", 1],),
         (-32602, "client error; classifiers.1: Input should be a valid string")),
        ("release_data", (), (
            -32602,
            "client error; package_name: Missing required argument; "
            "version: Missing required argument")),
        ("package_releases", ("x", "yes"),
         (-32602, "client error; show_hidden: Input should be a valid boolean")),
        ("search", ("name",), (-32602, "client error; spec: Input should be a valid dictionary")),
    ],
)
def test_bad_calls_answer_pypis_faults(post_xml, name, params, expected):
    assert fault_of(post_xml(method_call(name, *params))) == expected


def test_strictly_typed_calls_through_serverproxy_raise_fault(rpc):
    with pytest.raises(xmlrpc.client.Fault) as caught:
        rpc.user_packages(b"ada")  # sent as <base64>
    assert caught.value.faultCode == -32602


def test_malformed_xml_answers_parse_error(post_xml):
    for body in (b"", b"not xml at all", b"<methodCall><methodName>x</methodName>",
                 b"<?xml version='1.0'?><methodCall><params><param><value><int>x</int>"
                 b"</value></param></params></methodCall>",
                 b"\xff\xfe<methodCall/>",
                 xmlrpc.client.dumps(xmlrpc.client.Fault(1, "x"), methodresponse=True).encode()):
        assert fault_of(post_xml(body)) == (-32700, "parse error; not well formed"), body


def test_a_call_without_method_name_is_not_found(post_xml):
    body = b"<?xml version='1.0'?><methodCall><params></params></methodCall>"
    assert fault_of(post_xml(body))[0] == -32601


def test_non_post_xml_request_answers_application_error(live_server, transactional_db):
    response = requests.get(f"{live_server.url}/pypi", headers={"Content-Type": "text/xml"},
                            timeout=10)
    assert fault_of(response) == (-32500, "application error")


def test_other_content_types_do_not_reach_xmlrpc(live_server, transactional_db):
    body = method_call("changelog_last_serial")
    response = requests.post(f"{live_server.url}/pypi", data=body,
                             headers={"Content-Type": "application/xml"}, timeout=10)
    assert response.status_code == 415
    assert requests.get(f"{live_server.url}/RPC2", timeout=10).status_code == 405
    charset = requests.post(f"{live_server.url}/RPC2", data=body, timeout=10,
                            headers={"Content-Type": "text/xml; charset=utf-8"})
    assert charset.status_code == 200
    assert xmlrpc.client.loads(charset.content)[0] == (None,)


def test_old_action_urls_redirect_and_leave_xmlrpc_alone(live_server, transactional_db):
    for path in ("/pypi?:action=rss", "/pypi/?:action=rss"):
        response = requests.get(f"{live_server.url}{path}", allow_redirects=False, timeout=10)
        assert response.status_code == 301
        assert response.headers["Location"] == "/rss/updates.xml"
    packages = requests.head(f"{live_server.url}/pypi?:action=packages_rss", timeout=10)
    assert packages.status_code == 301 and packages.headers["Location"] == "/rss/packages.xml"
    other = requests.get(f"{live_server.url}/pypi?:action=doap", allow_redirects=False, timeout=10)
    assert other.status_code == 405
    call = requests.post(f"{live_server.url}/pypi?:action=rss", timeout=10,
                         data=method_call("changelog_last_serial"),
                         headers={"Content-Type": "text/xml"})
    assert xmlrpc.client.loads(call.content)[0] == (None,)
