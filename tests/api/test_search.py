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


def test_results_stop_at_the_cap_best_first(client, monkeypatch):
    """A search answers at most MAX_RESULTS projects and says "N+" rather than
    counting every match; the cut keeps the best ones (exact, prefix, then
    substring name matches, then summary matches)."""
    from api import search

    monkeypatch.setattr(search, "MAX_RESULTS", 3)
    monkeypatch.setattr(search, "TEXT_ROWS_READ", 30)
    for n in range(4):
        publish(f"xwidget{n}", "1.0", summary="nothing")      # substring
        publish(f"other{n}", "1.0", summary="a widget maker")  # summary only
    publish("widget-b", "1.0", summary="x")  # prefix
    publish("widget-a", "1.0", summary="x")  # prefix
    publish("widget", "1.0", summary="x")    # exact, created last
    assert results(client, "widget") == ["widget", "widget-a", "widget-b"]
    body = client.get("/search/", {"q": "widget"}).content.decode()
    assert "3+ projects." in body and 'id="pagination"' not in body
    # Fewer than the cap: the exact count, as before.
    assert results(client, "xwidget3") == ["xwidget3"]
    assert "1 project." in client.get("/search/", {"q": "xwidget3"}).content.decode()


def test_summary_matches_past_the_name_matches_and_across_pages(client, monkeypatch):
    from api import search

    monkeypatch.setattr(search, "MAX_RESULTS", 25)
    monkeypatch.setattr(search, "TEXT_ROWS_READ", 250)
    for n in range(22):
        publish(f"gizmo-{n:02d}", "1.0", summary="x")
    for n in range(3):
        publish(f"tool-{n}", "1.0", summary="a gizmo for you")
    publish("tool-old", "1.0", summary="a gizmo for you")
    publish("tool-old", "2.0", summary="retired")  # newest release no longer matches
    first, second = results(client, "gizmo"), results(client, "gizmo", page=2)
    assert first == [f"gizmo-{n:02d}" for n in range(20)]
    assert second == ["gizmo-20", "gizmo-21", "tool-0", "tool-1", "tool-2"]
    assert "25 projects." in client.get("/search/", {"q": "gizmo"}).content.decode()
    # One more match: past the cap, the "+" and the first 25 only.
    publish("tool-3", "1.0", summary="a gizmo for you")
    body = client.get("/search/", {"q": "gizmo", "page": 2}).content.decode()
    assert "25+ projects." in body
    assert len(results(client, "gizmo", page=2)) == 5


def test_summary_candidates_come_from_the_full_text_index():
    """api.search writes the index's expression out (migration 0009): if the two
    differ, the planner cannot use the index and a search scans 3.3M releases."""
    if connection.vendor != "postgresql":
        pytest.skip("the full-text index is PostgreSQL's")
    from django.db import transaction

    from api.search import RELEASE_DOCUMENT
    from packages.models import Release

    publish("indexed", "1.0", summary="a fast parser")
    query = Release.objects.extra(where=[
        f"{RELEASE_DOCUMENT} @@ websearch_to_tsquery('english'::regconfig, %s)"],
        params=["parser"]).values_list("project_id", flat=True)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = query.explain()
    assert "packages_release_search_document_gin" in plan, plan
