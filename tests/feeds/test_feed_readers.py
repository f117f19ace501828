"""A feed reader (feedparser over HTTP) against a live server: conditional
polling with the ETag, the redirects of a non-normalized project name and of
PyPI's old action URLs, and item links that lead to pages."""

import feedparser
import pytest
import requests

from packages.curation.yanking import yank_release
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
    assert feed.feed.title == "indexsite recent updates for Tiny_Proj"
    assert [e.title for e in feed.entries] == ["1.0.0"]


def test_every_link_in_every_feed_answers_200(live_server, settings):
    settings.INDEX_BASE_URL = live_server.url
    publish("Tiny_Proj", "1.0.0", wheel=False)
    publish("Tiny_Proj", "2.0rc1", wheel=False)
    publish("Other.Lib", "0.3+local.1", wheel=False)
    yank_release(publish("OnlyYanked", "1.0", wheel=False), reason="broken")

    feeds = [read(f"{live_server.url}/rss/updates.xml"), read(f"{live_server.url}/rss/packages.xml")]
    feeds += [
        read(f"{live_server.url}/rss/project/{name}/releases.xml")
        for name in ("tiny-proj", "other-lib", "onlyyanked")
    ]

    links = {feed.feed.link for feed in feeds} | {e.link for f in feeds for e in f.entries}
    assert len([e for f in feeds for e in f.entries]) == 4 + 3 + 4
    assert f"{live_server.url}/project/other-lib/0.3+local.1/" in links
    for link in sorted(links):
        assert link.startswith(f"{live_server.url}/"), link
        response = requests.get(link, headers={"User-Agent": AGENT}, timeout=10)
        assert response.status_code == 200, link
        assert response.url == link  # served at the linked URL, not via a redirect


@pytest.mark.parametrize(
    ("action", "feed_path", "title"),
    [("rss", "/rss/updates.xml", "TinyProj 1.0.0"),
     ("packages_rss", "/rss/packages.xml", "TinyProj added to indexsite")],
)
def test_reader_follows_pypis_old_action_urls_to_the_feeds(live_server, action, feed_path, title):
    publish("TinyProj", "1.0.0", wheel=False)

    feed = read(f"{live_server.url}/pypi?:action={action}")

    assert feed.status == 301
    assert feed.href == f"{live_server.url}{feed_path}"
    assert [e.title for e in feed.entries] == [title]
