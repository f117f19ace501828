"""Search at ``/search/?q=`` (as PyPI): names (normalized; exact, prefix, then
substring) first, then summary and keywords of each project's newest visible
release, full-text ranked on PostgreSQL; only visible projects."""

import re

import pytest
from django.db import connection

from packages.curation.projects import set_project_status
from packages.curation.release_states import quarantine_release
from packages.models import Project
from tests.factories import create_project, publish

pytestmark = pytest.mark.django_db


def results(client, q: str, page: int | None = None) -> list[str]:
    params = {"q": q} if page is None else {"q": q, "page": page}
    response = client.get("/search/", params)
    assert response.status_code == 200
    body = response.content.decode()
    if 'id="results"' not in body:
        return []
    listing = body[body.index('id="results"'):body.index("</ul>", body.index('id="results"'))]
    return re.findall(r'<a href="/project/[^/]+/">([^<]+)</a>', listing)


def test_name_matches_come_first_exact_prefix_substring(client):
    publish("Gadget", "1.0", summary="Makes a widget for you")
    publish("Super_Widget", "1.0", summary="Nothing to see")
    publish("widget-tools", "1.0", summary="Tools")
    publish("Widget", "1.0", summary="The thing itself")
    publish("other", "1.0", summary="Unrelated", keywords="widget,cli")
    publish("nothing", "1.0", summary="no match here")
    found = results(client, "widget")
    assert found[:3] == ["Widget", "widget-tools", "Super_Widget"]
    assert sorted(found[3:]) == ["Gadget", "other"]


def test_names_are_normalized(client):
    publish("Foo.Bar_Baz", "1.0", summary="x")
    publish("unrelated", "1.0", summary="y")
    assert results(client, "foo-bar-baz") == ["Foo.Bar_Baz"]
    assert results(client, "FOO_bar") == ["Foo.Bar_Baz"]
    assert results(client, "bar.baz") == ["Foo.Bar_Baz"]


def test_only_the_newest_visible_release_is_searched(client):
    publish("zoo", "1.0", summary="about zebras")
    publish("zoo", "2.0", summary="about lions")
    assert results(client, "zebras") == []
    assert results(client, "lions") == ["zoo"]
    quarantine_release(Project.objects.get(name="zoo").releases.get(version="2.0"))
    assert results(client, "zebras") == ["zoo"] and results(client, "lions") == []


@pytest.mark.parametrize("status", ["quarantined", "pending"])
def test_hidden_projects_are_never_found(client, status):
    publish("hidden-gem", "1.0", summary="a hidden gem")
    publish("visible-gem", "1.0", summary="a visible gem")
    Project.objects.filter(name="hidden-gem").update(status=status)
    assert results(client, "gem") == ["visible-gem"]
    assert results(client, "hidden") == []


def test_full_text_on_postgresql_and_icontains_elsewhere(client):
    publish("alpha", "1.0", summary="A parser that is fast", keywords="json")
    publish("beta", "1.0", summary="Reads json documents", keywords="reader")
    publish("gamma", "1.0", summary="Slow things", keywords="yaml")
    if connection.vendor == "postgresql":
        # words in any order, stemmed; a summary match outranks a keyword one
        assert results(client, "fast parsers") == ["alpha"]
        assert results(client, "json") == ["beta", "alpha"]
    else:
        assert results(client, "fast parsers") == []
        assert results(client, "parser that") == ["alpha"]
        assert results(client, "json") == ["alpha", "beta"]
    assert results(client, "yaml") == ["gamma"]


def test_results_are_paginated(client):
    for n in range(25):
        create_project(f"page-{n:02d}")
    set_project_status(Project.objects.get(name="page-07"), "quarantined")
    first = results(client, "page")
    second = results(client, "page", page=2)
    assert len(first) == 20 and len(second) == 4
    assert "page-07" not in first + second
    assert sorted(first + second) == sorted(f"page-{n:02d}" for n in range(25) if n != 7)
    body = client.get("/search/", {"q": "page"}).content.decode()
    assert "24 projects" in body and 'href="?q=page&amp;page=2"' in body


def test_bounded_and_odd_input(client):
    publish("thing", "1.0")
    response = client.get("/search/", {"q": "x" * 101})
    assert response.status_code == 400
    assert response.reason_phrase == "The search is longer than 100 characters."
    assert b"longer than 100 characters" in response.content
    assert client.get("/search/", {"q": "x" * 100}).status_code == 200
    # no query: the search form, no listing of everything
    body = client.get("/search/").content.decode()
    assert 'id="results"' not in body and 'name="q"' in body
    assert results(client, "   ") == []
    for odd in ['"unclosed', "a & | ! ( :*", "-", "\\", "%", "_", "'; drop table"]:
        assert client.get("/search/", {"q": odd}).status_code == 200, odd
    # % and _ are literal, not LIKE wildcards
    assert results(client, "%") == [] and results(client, "t_ing") == []
