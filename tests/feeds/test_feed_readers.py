"""A feed reader (feedparser over HTTP) against a live server: conditional
polling with the ETag, and the redirect of a non-normalized project name."""

import feedparser
import pytest

from tests.factories import publish

pytestmark = pytest.mark.django_db(transaction=True)

AGENT = "indexsite-tests/1.0 (feed reader; ops@example.org)"


def read(url, **kwargs):
    feed = feedparser.parse(url, agent=AGENT, **kwargs)
    assert not feed.bozo, feed.get("bozo_exception")
    return feed


def test_reader_polls_with_etag_and_sees_new_uploads(live_server):
    publish("TinyProj", "1.0.0", summary="A tiny project", wheel=False)
    url = f"{live_server.url}/rss/updates.xml"

    first = read(url)
    assert first.status == 200
    assert [e.title for e in first.entries] == ["TinyProj 1.0.0"]
    assert first.etag

    unchanged = read(url, etag=first.etag)
    assert unchanged.status == 304
    assert unchanged.entries == []

    publish("TinyProj", "1.1.0", summary="A tiny project", wheel=False)
    changed = read(url, etag=first.etag)
    assert changed.status == 200
    assert [e.title for e in changed.entries] == ["TinyProj 1.1.0", "TinyProj 1.0.0"]
    assert changed.etag != first.etag


def test_reader_follows_the_redirect_to_the_normalized_project_feed(live_server):
    publish("Tiny_Proj", "1.0.0", wheel=False)

    feed = read(f"{live_server.url}/rss/project/Tiny.Proj/releases.xml")

    assert feed.status == 301
    assert feed.href == f"{live_server.url}/rss/project/tiny-proj/releases.xml"
    assert feed.feed.title == "PyPI recent updates for Tiny_Proj"
    assert [e.title for e in feed.entries] == ["1.0.0"]
