"""list_packages_with_serial kept marshalled: a repeated call reads the XML from
the cache (at 700,000 projects marshalling took 15 s per call), byte for byte
the response the marshaller writes."""

import xmlrpc.client
from xmlrpc import protocol
from xmlrpc.protocol import Marshalled, marshal_value, render_result

import pytest

from packages.cache.purgers import purge_keys_now
from packages.models import Project
from tests.factories import create_project
from tests.xmlrpc.conftest import method_call

VALUES = [
    {},
    {"Alpha": 1, "b&<c>": 2**40, "tab\there": -3, "ünï": "nul\x00gone"},
    [["Owner", "ada"], ["Maintainer", None]],
    ["only", 1, None, True, 1.5, {"nested": [1, 2]}],
]


@pytest.mark.parametrize("value", VALUES)
def test_a_marshalled_value_renders_as_the_value(value):
    fragment = marshal_value(value)
    assert isinstance(fragment, Marshalled)
    assert render_result(fragment) == render_result(value)
    # Inside a multicall's answer too (each result in a one-element list).
    assert render_result([[fragment], {"faultCode": 1}]) == render_result([[value], {"faultCode": 1}])
    assert xmlrpc.client.loads(render_result(fragment))[0][0] == xmlrpc.client.loads(
        render_result(value))[0][0]


@pytest.fixture
def struct_dumps(monkeypatch):
    """How many dicts the marshaller writes (the whole serial map is one)."""
    calls = []
    original = protocol._Marshaller.dispatch[dict]

    def counting(self, value, write, *args):
        calls.append(len(value))
        return original(self, value, write, *args)

    monkeypatch.setitem(protocol._Marshaller.dispatch, dict, counting)
    return calls


def test_a_repeated_call_is_read_marshalled_from_the_cache(post_xml, struct_dumps):
    for name in ("Alpha", "beta", "Gamma.Two"):
        create_project(name)
    expected = render_result(
        dict(Project.objects.order_by("normalized_name").values_list("name", "last_serial")))
    struct_dumps.clear()

    first = post_xml(method_call("list_packages_with_serial"))
    assert first.status_code == 200 and first.content == expected
    assert struct_dumps == [3]

    again = post_xml(method_call("list_packages_with_serial"))
    assert again.content == expected
    assert struct_dumps == [3]  # not marshalled again

    # The same cached XML answers inside a multicall.
    multi = post_xml(method_call("system.multicall", [
        {"methodName": "list_packages_with_serial", "params": []},
        {"methodName": "changelog_last_serial", "params": []},
    ]))
    (results,), _ = xmlrpc.client.loads(multi.content)
    assert results[0] == [xmlrpc.client.loads(expected)[0][0]]
    assert struct_dumps == [3]


def test_a_purge_of_the_project_list_renders_it_again(post_xml, struct_dumps):
    create_project("Alpha")
    post_xml(method_call("list_packages_with_serial"))
    Project.objects.create(name="unjournaled")  # no journal entry: the serial stays
    assert b"unjournaled" not in post_xml(method_call("list_packages_with_serial")).content
    purge_keys_now(["all-projects"])
    assert b"unjournaled" in post_xml(method_call("list_packages_with_serial")).content
    assert struct_dumps == [1, 2]
