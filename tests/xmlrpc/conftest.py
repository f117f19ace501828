import xmlrpc.client
from xmlrpc import ratelimit

import pytest
import requests


@pytest.fixture(autouse=True)
def _fresh_rate_limit(settings):
    """Each test starts with an empty window for the loopback client."""
    ratelimit.clear("127.0.0.1")
    yield
    ratelimit.clear("127.0.0.1")


@pytest.fixture
def rpc(live_server, transactional_db):
    """The standard library's client against the live server's /pypi."""
    return xmlrpc.client.ServerProxy(f"{live_server.url}/pypi", allow_none=True)


@pytest.fixture
def post_xml(live_server, transactional_db):
    """POST a raw body as text/xml; returns the requests response."""

    def post(body: bytes, *, path: str = "/pypi", headers: dict | None = None):
        return requests.post(
            f"{live_server.url}{path}", data=body, timeout=30,
            headers={"Content-Type": "text/xml", **(headers or {})},
        )

    return post


def method_call(name: str, *params) -> bytes:
    return xmlrpc.client.dumps(params, methodname=name, allow_none=True).encode()


def fault_of(response) -> tuple[int, str]:
    """(faultCode, faultString) of an HTTP 200 Fault response."""
    assert response.status_code == 200, response.text[:500]
    assert response.headers["Content-Type"] == "text/xml; charset=UTF-8"
    with pytest.raises(xmlrpc.client.Fault) as caught:
        xmlrpc.client.loads(response.content)
    return caught.value.faultCode, caught.value.faultString
