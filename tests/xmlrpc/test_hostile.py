"""Hostile input and bursts: each is refused (Fault or 4xx) within a second, and
normal service continues afterwards."""

import io
import os
import re
import subprocess
import sys
import time
import uuid
import xmlrpc.client
from xmlrpc import ratelimit
from xmlrpc.views import xmlrpc_endpoint

import pytest
from django.apps import apps
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.core.handlers.wsgi import WSGIRequest

from tests.conftest import redis_reachable, require_external
from tests.xmlrpc.conftest import fault_of, method_call

PARSE_ERROR = (-32700, "parse error; not well formed")

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<methodCall><methodName>package_roles</methodName>
<params><param><value><string>&lol9;</string></value></param></params></methodCall>
"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE call [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<methodCall><methodName>package_roles</methodName>
<params><param><value><string>&xxe;</string></value></param></params></methodCall>
"""

# A DTD without entities is refused too: XML-RPC never needs one.
EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE methodCall SYSTEM "http://127.0.0.1:1/evil.dtd">
<methodCall><methodName>changelog_last_serial</methodName></methodCall>
"""


def _nested(depth: int) -> bytes:
    return (
        b"<?xml version='1.0'?><methodCall><methodName>browse</methodName><params><param>"
        + b"<value><array><data>" * depth + b"</data></array></value>" * depth
        + b"</param></params></methodCall>"
    )


def _timed(call):
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


@pytest.mark.parametrize("payload", [BILLION_LAUGHS, EXTERNAL_ENTITY, EXTERNAL_DTD],
                         ids=["billion-laughs", "external-entity", "external-dtd"])
def test_entity_and_dtd_payloads_answer_parse_error_quickly(post_xml, rpc, payload):
    response, elapsed = _timed(lambda: post_xml(payload))
    assert fault_of(response) == PARSE_ERROR
    assert b"root:" not in response.content
    assert elapsed < 1
    assert rpc.changelog_last_serial() is None  # service goes on


def test_deeply_nested_arrays_are_refused_quickly(post_xml, settings):
    body = _nested(15_000)
    assert len(body) < settings.XMLRPC_MAX_BODY_SIZE
    response, elapsed = _timed(lambda: post_xml(body))
    assert fault_of(response) == PARSE_ERROR
    assert elapsed < 1
    # Moderate nesting parses and reaches argument validation.
    assert fault_of(post_xml(_nested(5))) == (
        -32602, "client error; classifiers.0: Input should be a valid string")


def test_thousands_of_arguments_get_a_short_fault(post_xml):
    response, elapsed = _timed(lambda: post_xml(method_call("browse", *([1] * 20_000))))
    code, text = fault_of(response)
    assert code == -32602
    assert text.count(";") == 10 and len(response.content) < 2000
    assert elapsed < 1


def test_fifty_megabyte_body_is_refused_before_parsing(post_xml, rpc):
    body = b"<methodCall>" + b" " * (50 * 1024 * 1024)
    response, elapsed = _timed(lambda: post_xml(body))
    assert response.status_code == 413
    assert elapsed < 1
    assert rpc.changelog_last_serial() is None


def test_body_without_content_length_is_not_read():
    """A chunked body carries no Content-Length: Django's WSGI request gives it
    no bytes, so nothing is read and the call is a parse error."""
    stream = io.BytesIO(b"<methodCall>" + b" " * 10_000_000)
    request = WSGIRequest({
        "REQUEST_METHOD": "POST", "PATH_INFO": "/pypi", "CONTENT_TYPE": "text/xml",
        "wsgi.input": stream, "REMOTE_ADDR": "192.0.2.1",
        "SERVER_NAME": "testserver", "SERVER_PORT": "80", "wsgi.url_scheme": "http",
    })
    try:
        response = xmlrpc_endpoint(request)
    finally:
        ratelimit.clear("192.0.2.1")
    assert stream.tell() == 0
    with pytest.raises(xmlrpc.client.Fault) as caught:
        xmlrpc.client.loads(response.content)
    assert (caught.value.faultCode, caught.value.faultString) == PARSE_ERROR


def test_chunked_body_is_told_to_send_a_content_length(post_xml):
    def chunks():
        yield method_call("changelog_last_serial")

    response = post_xml(chunks())  # requests sends a generator chunked
    assert response.status_code == 411
    assert "Content-Length" in response.text


RATE_LIMITED = re.compile(
    r"HTTPTooManyRequests: The action could not be performed because there were too many "
    r"requests by the client\. Limit may reset in [1-9]\d* seconds\.")


def test_over_limit_bursts_get_a_fault_and_service_resumes_after_the_window(post_xml, settings):
    settings.XMLRPC_RATELIMIT_STRING = "3 per 2 seconds"
    body = method_call("changelog_last_serial")

    first = post_xml(body)
    assert first.headers["RateLimit-Policy"] == '"xmlrpc.client";q=3;w=2;pk=:ip:'
    assert re.fullmatch(r'"xmlrpc\.client";r=2;t=[12]', first.headers["RateLimit"])
    assert xmlrpc.client.loads(first.content)[0] == (None,)
    assert post_xml(body).status_code == 200  # the (N-1)th call still passes

    refused_at = time.monotonic()
    for _ in range(5):  # a burst: every further call is refused, quickly
        response, elapsed = _timed(lambda: post_xml(body))
        code, text = fault_of(response)
        assert code == -32500 and RATE_LIMITED.fullmatch(text), text
        assert re.fullmatch(r'"xmlrpc\.client";r=0;t=[0-2]', response.headers["RateLimit"])
        assert elapsed < 1

    time.sleep(max(0, 2.1 - (time.monotonic() - refused_at)))
    assert xmlrpc.client.loads(post_xml(body).content)[0] == (None,)


def test_rate_limit_is_per_client_address(post_xml, settings):
    settings.XMLRPC_RATELIMIT_STRING = "2 per 10 seconds"
    settings.INDEX_TRUSTED_PROXY_HOPS = 1
    body = method_call("changelog_last_serial")
    try:
        first = {"X-Forwarded-For": "203.0.113.7"}
        assert post_xml(body, headers=first).status_code == 200
        assert fault_of(post_xml(body, headers=first))[0] == -32500
        other = post_xml(body, headers={"X-Forwarded-For": "203.0.113.8"})
        assert xmlrpc.client.loads(other.content)[0] == (None,)
    finally:
        ratelimit.clear("203.0.113.7")
        ratelimit.clear("203.0.113.8")


def test_multicall_members_count_against_the_limit(post_xml, settings):
    settings.XMLRPC_RATELIMIT_STRING = "5 per 10 seconds"
    calls = [{"methodName": "changelog_last_serial", "params": []}] * 3
    assert post_xml(method_call("system.multicall", calls)).status_code == 200
    code, text = fault_of(post_xml(method_call("system.multicall", calls)))
    assert code == -32500 and text.startswith("HTTPTooManyRequests: ")


def test_rate_limiter_fails_open_when_its_store_is_down(post_xml, settings):
    settings.CACHE_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    settings.XMLRPC_RATELIMIT_STRING = "1 per hour"
    for _ in range(3):
        response, elapsed = _timed(lambda: post_xml(method_call("changelog_last_serial")))
        assert xmlrpc.client.loads(response.content)[0] == (None,)
        assert "RateLimit" not in response.headers
        assert elapsed < 1


# A second worker process: two more calls from the same client address.
OTHER_WORKER = """
import sys, django
django.setup()
from xmlrpc import ratelimit
print(ratelimit.check(sys.argv[1]).allowed, ratelimit.check(sys.argv[1]).allowed)
"""


def test_rate_limit_is_shared_by_every_worker_through_redis(settings):
    url = os.environ.get("CACHE_URL", "")
    if not url.startswith("redis://"):
        url = "redis://127.0.0.1:6379/0"  # CI runs Redis for both configurations
    require_external(redis_reachable(url), "A Redis server")
    limit = "3 per 30 seconds"
    settings.CACHE_URL = url
    settings.XMLRPC_RATELIMIT_STRING = limit
    address = f"2001:db8::{uuid.uuid4().hex[:4]}"  # no other run shares this window
    try:
        assert ratelimit.check(address).allowed
        other = subprocess.run(
            [sys.executable, "-c", OTHER_WORKER, address],
            env={**os.environ, "CACHE_URL": url, "XMLRPC_RATELIMIT_STRING": limit,
                 "DJANGO_SETTINGS_MODULE": "indexsite.settings"},
            cwd=django_settings.BASE_DIR, capture_output=True, text=True, timeout=60,
        )
        # The other process counts this one's call: its second call is the third.
        assert other.stdout.split() == ["True", "False"], other.stderr[-2000:]
        assert not ratelimit.check(address).allowed
    finally:
        ratelimit.clear(address)


def test_an_unparsable_rate_limit_stops_startup_instead_of_failing_open(settings):
    settings.XMLRPC_RATELIMIT_STRING = "3600 an hour"
    with pytest.raises(ImproperlyConfigured, match="XMLRPC_RATELIMIT_STRING"):
        apps.get_app_config("xmlrpc").ready()
    settings.XMLRPC_RATELIMIT_STRING = "10/minute; 100/hour"
    apps.get_app_config("xmlrpc").ready()
