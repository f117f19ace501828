"""PEP 691 negotiation: Accept with q-values, the format parameter, fallback to HTML."""

import pytest

from legacy.negotiation import TEXT_HTML, V1_HTML, V1_JSON, negotiate_accept
from tests.factories import publish

PIP_ACCEPT = (
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, "
    "text/html; q=0.01"
)


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("", TEXT_HTML),
        ("*/*", TEXT_HTML),
        (PIP_ACCEPT, V1_JSON),
        ("application/vnd.pypi.simple.v1+json", V1_JSON),
        ("application/vnd.pypi.simple.latest+json", V1_JSON),
        ("application/vnd.pypi.simple.latest+html", V1_HTML),
        ("application/vnd.pypi.simple.v1+html", V1_HTML),
        ("text/html", TEXT_HTML),
        # q-values decide, whatever the order in the header.
        ("text/html;q=0.2, application/vnd.pypi.simple.v1+json;q=0.9", V1_JSON),
        ("application/vnd.pypi.simple.v1+json;q=0.1, application/vnd.pypi.simple.v1+html",
         V1_HTML),
        # Ties go to HTML, in server order text/html, v1+html, v1+json.
        ("application/vnd.pypi.simple.v1+json, text/html", TEXT_HTML),
        ("application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html", V1_HTML),
        # q=0 means "not acceptable".
        ("application/vnd.pypi.simple.v1+json;q=0, */*;q=0.5", TEXT_HTML),
        ("text/html;q=0, application/vnd.pypi.simple.v1+json;q=0.5", V1_JSON),
        # The most specific range decides an offer's quality.
        ("application/*;q=0.9, text/html;q=0.1, application/vnd.pypi.simple.v1+html;q=0",
         V1_JSON),
        # Nothing we offer: HTML, never 406.
        ("application/json", TEXT_HTML),
        ("image/png, application/xml;q=0.9", TEXT_HTML),
        # Garbage does not break anything.
        ("text/html;q=abc, application/vnd.pypi.simple.v1+json;q=0.5", V1_JSON),
        (";;;,,, /, */", TEXT_HTML),
        ("application/vnd.pypi.simple.v1+json;q=5", V1_JSON),
    ],
)
def test_negotiates_accept_header(accept, expected):
    assert negotiate_accept(accept) == expected


@pytest.fixture
def project(db):
    return publish("Nego", "1.0").project


def test_unacceptable_accept_falls_back_to_html_with_200(client, project):
    response = client.get("/simple/nego/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert b"<h1>Links for nego</h1>" in response.content


def test_pip_accept_header_gets_json(client, project):
    response = client.get("/simple/nego/", HTTP_ACCEPT=PIP_ACCEPT)
    assert response["Content-Type"] == "application/vnd.pypi.simple.v1+json"
    assert response.json()["name"] == "nego"
    assert "Accept" in response["Vary"]


def test_latest_alias_is_served_as_v1(client, project):
    response = client.get("/simple/nego/", HTTP_ACCEPT="application/vnd.pypi.simple.latest+html")
    assert response["Content-Type"] == "application/vnd.pypi.simple.v1+html"


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("application/vnd.pypi.simple.v1+json", "application/vnd.pypi.simple.v1+json"),
        ("application/vnd.pypi.simple.latest+json", "application/vnd.pypi.simple.v1+json"),
        ("application/vnd.pypi.simple.v1+html", "application/vnd.pypi.simple.v1+html"),
        ("text/html", "text/html; charset=UTF-8"),
    ],
)
def test_format_query_parameter_overrides_accept(client, project, fmt, expected):
    response = client.get("/simple/nego/", {"format": fmt}, HTTP_ACCEPT=PIP_ACCEPT
                          if fmt.endswith("html") else "text/html")
    assert response.status_code == 200
    assert response["Content-Type"] == expected


def test_unknown_format_parameter_is_ignored(client, project):
    response = client.get("/simple/nego/", {"format": "json"}, HTTP_ACCEPT=PIP_ACCEPT)
    assert response["Content-Type"] == "application/vnd.pypi.simple.v1+json"


def test_index_negotiates_too(client, project):
    html = client.get("/simple/", HTTP_ACCEPT="text/html")
    json_ = client.get("/simple/", HTTP_ACCEPT=PIP_ACCEPT)
    assert html["Content-Type"].startswith("text/html")
    assert json_["Content-Type"] == "application/vnd.pypi.simple.v1+json"
    assert html["ETag"] != json_["ETag"]
    assert html["Vary"] == json_["Vary"] == "Accept"
