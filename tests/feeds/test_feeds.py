"""The three RSS feeds, parsed as a feed reader does (feedparser), after uploads,
yanks, deletions and quarantine."""

import base64
import hashlib
import re
from datetime import UTC, datetime, timedelta

import feedparser
import pytest

from packages.curation.deletion import delete_project, delete_release
from packages.curation.projects import set_project_status
from packages.curation.yanking import yank_release
from packages.journal import last_serial
from packages.models import Project
from tests.factories import create_project, create_release, publish

pytestmark = pytest.mark.django_db

BASE = "http://index.example"
T0 = datetime(2026, 3, 2, 10, 15, 5, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _base_url(settings):
    settings.INDEX_BASE_URL = BASE


def parse(response):
    assert response.status_code == 200, response.content
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "rss20"
    return feed


def titles(feed):
    return [entry.title for entry in feed.entries]


def get_feed(client, url, **headers):
    return parse(client.get(url, headers=headers))


# --- /rss/updates.xml -------------------------------------------------------


def test_updates_lists_new_releases_newest_first_with_pypi_fields(client):
    publish(
        "TinyProj", "1.0.0", summary="A tiny project", author_email="ada@example.org", created=T0
    )
    publish("Other_Lib", "0.3rc1", summary="Tools & helpers", created=T0 + timedelta(hours=1))
    publish(
        "TinyProj",
        "1.1.0",
        summary="A tiny project",
        author_email="Ada <ada@example.org>, bob@example.org",
        created=T0 + timedelta(hours=2, seconds=35),
    )

    feed = get_feed(client, "/rss/updates.xml")

    assert feed.feed.title == "indexsite recent updates"
    assert feed.feed.link == f"{BASE}/"
    assert feed.feed.description == "Recent updates to indexsite"
    assert feed.feed.language == "en"
    assert titles(feed) == ["TinyProj 1.1.0", "Other_Lib 0.3rc1", "TinyProj 1.0.0"]
    newest, other, oldest = feed.entries
    assert newest.link == f"{BASE}/project/tinyproj/1.1.0/"
    assert other.link == f"{BASE}/project/other-lib/0.3rc1/"
    assert newest.description == "A tiny project"
    assert other.description == "Tools & helpers"
    # Display names are dropped; several addresses are joined.
    assert newest.author == "ada@example.org, bob@example.org"
    assert "author" not in other
    assert oldest.author == "ada@example.org"
    assert newest.published == "Mon, 02 Mar 2026 12:15:40 GMT"
    assert oldest.published_parsed[:6] == (2026, 3, 2, 10, 15, 5)
    assert "id" not in newest  # no guid: readers fall back to the link


def test_updates_document_has_pypi_shape_and_headers(client):
    publish("TinyProj", "1.0.0", created=T0)
    response = client.get("/rss/updates.xml")
    body = response.content.decode()

    assert response["Content-Type"] == "text/xml; charset=UTF-8"
    assert '<rss version="2.0">' in body
    for absent in ("atom", "lastBuildDate", "xmlns", "<guid"):
        assert absent not in body
    assert re.search(
        r"<item><title>TinyProj 1.0.0</title><link>[^<]+</link><description>[^<]*</description>"
        r"<pubDate>Mon, 02 Mar 2026 10:15:05 GMT</pubDate></item>",
        body,
    )
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Access-Control-Allow-Methods"] == "GET"
    assert response["Access-Control-Expose-Headers"] == "X-PyPI-Last-Serial"
    # The issue asks for the serial "like the other APIs" (PyPI sends none on
    # feeds); no other validator than the ETag, as PyPI.
    assert response["X-PyPI-Last-Serial"] == str(last_serial())
    for header in ("Last-Modified", "Cache-Control", "Surrogate-Key"):
        assert header not in response


def test_updates_holds_the_100_newest_releases(client):
    project = create_project("bulk")
    for i in range(101):
        create_release(project, f"1.{i}", created=T0 + timedelta(minutes=i))

    feed = get_feed(client, "/rss/updates.xml")

    assert len(feed.entries) == 100
    assert feed.entries[0].title == "bulk 1.100"
    assert feed.entries[-1].title == "bulk 1.1"


def test_updates_shows_a_new_upload_after_being_served(client):
    publish("TinyProj", "1.0.0", created=T0)
    assert titles(get_feed(client, "/rss/updates.xml")) == ["TinyProj 1.0.0"]

    publish("TinyProj", "1.1.0")

    assert titles(get_feed(client, "/rss/updates.xml")) == ["TinyProj 1.1.0", "TinyProj 1.0.0"]


def test_updates_keep_yanked_releases_as_pypi_does(client):
    release = publish("TinyProj", "1.0.0", created=T0)
    get_feed(client, "/rss/updates.xml")

    yank_release(release, reason="broken")

    assert titles(get_feed(client, "/rss/updates.xml")) == ["TinyProj 1.0.0"]


def test_updates_drop_deleted_releases_and_projects(client):
    old = publish("TinyProj", "1.0.0", created=T0)
    publish("TinyProj", "1.1.0", created=T0 + timedelta(hours=1))
    gone = publish("Gone", "2.0", created=T0 + timedelta(hours=2))
    assert len(get_feed(client, "/rss/updates.xml").entries) == 3

    delete_release(old)
    delete_project(gone.project)

    assert titles(get_feed(client, "/rss/updates.xml")) == ["TinyProj 1.1.0"]


def test_updates_never_show_quarantined_projects(client):
    publish("TinyProj", "1.0.0", created=T0)
    bad = publish("Malware", "6.6.6", created=T0 + timedelta(hours=1))
    assert titles(get_feed(client, "/rss/updates.xml")) == ["Malware 6.6.6", "TinyProj 1.0.0"]

    set_project_status(bad.project, "quarantined", reason="malware")

    assert titles(get_feed(client, "/rss/updates.xml")) == ["TinyProj 1.0.0"]
    assert titles(get_feed(client, "/rss/packages.xml")) == ["TinyProj added to indexsite"]

    set_project_status(bad.project, "active")

    assert titles(get_feed(client, "/rss/updates.xml")) == ["Malware 6.6.6", "TinyProj 1.0.0"]


def test_description_drops_control_characters_and_keeps_escaped_text(client):
    publish("TinyProj", "1.0.0", summary="line one\nline\ttwo <b>&</b>\x07")
    response = client.get("/rss/updates.xml")
    assert b"<description>line onelinetwo &lt;b&gt;&amp;&lt;/b&gt;</description>" in (
        response.content
    )
    assert parse(response).entries[0].description == "line onelinetwo <b>&</b>"


@pytest.mark.parametrize(
    "author_email",
    ["", "Ada Lovelace", "ada@example.org, not-an-address", "Ada <ada(at)example.org>"],
)
def test_author_is_left_out_unless_every_address_is_valid(client, author_email):
    publish("TinyProj", "1.0.0", author_email=author_email, maintainer_email="m@example.org")
    response = client.get("/rss/updates.xml")
    assert b"<author>" not in response.content
    assert "author" not in parse(response).entries[0]


# --- /rss/packages.xml ------------------------------------------------------


def test_packages_lists_projects_with_a_release_newest_first(client):
    create_project("Empty")  # no release: never listed
    publish("TinyProj", "1.0.0", summary="old summary", created=T0)
    Project.objects.filter(name="TinyProj").update(created=T0)
    publish("Other_Lib", "0.3rc1", summary="Tools", author_email="bob@example.org")
    Project.objects.filter(name="Other_Lib").update(created=T0 + timedelta(days=1))
    # The description and author come from the highest version (pre-releases and
    # yanked releases included), not from the newest upload.
    publish(
        "TinyProj",
        "2.0rc1",
        summary="new summary",
        author_email="ada@example.org",
        created=T0 + timedelta(days=2),
    )
    yank_release(publish("TinyProj", "1.5", summary="patch", created=T0 + timedelta(days=3)))

    feed = get_feed(client, "/rss/packages.xml")

    assert feed.feed.title == "indexsite newest packages"
    assert feed.feed.link == f"{BASE}/"
    assert feed.feed.description == "Newest packages registered at indexsite"
    assert titles(feed) == ["Other_Lib added to indexsite", "TinyProj added to indexsite"]
    other, tiny = feed.entries
    assert other.link == other.id == f"{BASE}/project/other-lib/"
    assert tiny.link == tiny.id == f"{BASE}/project/tinyproj/"
    assert tiny.description == "new summary"
    assert tiny.author == "ada@example.org"
    assert tiny.published == "Mon, 02 Mar 2026 10:15:05 GMT"
    assert other.author == "bob@example.org"
    body = client.get("/rss/packages.xml").content.decode()
    # guid without isPermaLink, between link and description.
    assert (
        f"<link>{BASE}/project/tinyproj/</link><guid>{BASE}/project/tinyproj/</guid>"
        "<description>new summary</description>"
    ) in body


def test_packages_holds_the_40_newest_projects(client):
    for i in range(41):
        project = create_project(f"proj{i}", created=T0 + timedelta(minutes=i))
        create_release(project, "1.0")

    feed = get_feed(client, "/rss/packages.xml")

    assert len(feed.entries) == 40
    assert feed.entries[0].title == "proj40 added to indexsite"
    assert feed.entries[-1].title == "proj1 added to indexsite"


def test_packages_drops_deleted_projects(client):
    publish("TinyProj", "1.0.0")
    gone = publish("Gone", "1.0")
    assert len(get_feed(client, "/rss/packages.xml").entries) == 2

    delete_project(gone.project)

    assert titles(get_feed(client, "/rss/packages.xml")) == ["TinyProj added to indexsite"]


# --- /rss/project/<name>/releases.xml ----------------------------------------


def test_project_feed_lists_that_projects_releases_newest_first(client):
    publish(
        "TinyProj", "1.0.0", summary="A tiny project", author_email="ada@example.org", created=T0
    )
    publish("Other", "9.0", created=T0 + timedelta(hours=5))
    publish("TinyProj", "1.1.0", summary="A tiny project", created=T0 + timedelta(hours=1))

    feed = get_feed(client, "/rss/project/tinyproj/releases.xml")

    assert feed.feed.title == "indexsite recent updates for TinyProj"
    assert feed.feed.link == f"{BASE}/project/tinyproj/"
    assert feed.feed.description == "Recent updates to indexsite for TinyProj"
    assert titles(feed) == ["1.1.0", "1.0.0"]
    assert feed.entries[1].link == f"{BASE}/project/tinyproj/1.0.0/"
    assert feed.entries[1].author == "ada@example.org"
    assert feed.entries[1].published == "Mon, 02 Mar 2026 10:15:05 GMT"


def test_project_feed_holds_the_40_newest_releases(client):
    project = create_project("bulk")
    for i in range(41):
        create_release(project, f"0.{i}", created=T0 + timedelta(minutes=i))

    feed = get_feed(client, "/rss/project/bulk/releases.xml")

    assert len(feed.entries) == 40
    assert (feed.entries[0].title, feed.entries[-1].title) == ("0.40", "0.1")


def test_project_feed_follows_yanks_and_deletions(client):
    first = publish("TinyProj", "1.0.0", created=T0)
    second = publish("TinyProj", "1.1.0", created=T0 + timedelta(hours=1))
    assert titles(get_feed(client, "/rss/project/tinyproj/releases.xml")) == ["1.1.0", "1.0.0"]

    yank_release(second, reason="bad build")
    assert titles(get_feed(client, "/rss/project/tinyproj/releases.xml")) == ["1.1.0", "1.0.0"]

    delete_release(first)
    assert titles(get_feed(client, "/rss/project/tinyproj/releases.xml")) == ["1.1.0"]

    delete_project(second.project)
    assert client.get("/rss/project/tinyproj/releases.xml").status_code == 404


@pytest.mark.parametrize("spelling", ["Tiny_Proj", "tiny.proj", "TINY-PROJ"])
def test_project_feed_redirects_other_spellings_to_the_normalized_name(client, spelling):
    publish("Tiny-Proj", "1.0.0")
    response = client.get(f"/rss/project/{spelling}/releases.xml")
    assert response.status_code == 301
    assert response["Location"] == "/rss/project/tiny-proj/releases.xml"


def test_project_feed_of_unknown_project_is_404(client):
    publish("TinyProj", "1.0.0")
    assert client.get("/rss/project/nope/releases.xml").status_code == 404
    assert client.get("/rss/project/Nope/releases.xml").status_code == 404


def test_project_feed_of_quarantined_project_is_404(client):
    release = publish("TinyProj", "1.0.0")
    set_project_status(release.project, "quarantined", reason="malware")
    assert client.get("/rss/project/tinyproj/releases.xml").status_code == 404
    assert client.get("/rss/project/TinyProj/releases.xml").status_code == 404


# --- conditional requests and caching ---------------------------------------


@pytest.mark.parametrize(
    "url", ["/rss/updates.xml", "/rss/packages.xml", "/rss/project/tinyproj/releases.xml"]
)
def test_etag_is_md5_of_the_body_and_answers_304(client, url):
    publish("TinyProj", "1.0.0")
    response = client.get(url)
    digest = base64.b64encode(hashlib.md5(response.content).digest()).decode().rstrip("=")
    assert response["ETag"] == f'"{digest}"'

    not_modified = client.get(url, headers={"If-None-Match": response["ETag"]})
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    assert not_modified["ETag"] == response["ETag"]

    publish("TinyProj", "2.0.0", summary="Version two")
    changed = client.get(url, headers={"If-None-Match": response["ETag"]})
    assert changed.status_code == 200
    assert changed["ETag"] != response["ETag"]


def test_served_feed_costs_one_query_until_the_serial_moves(client, django_assert_num_queries):
    for i in range(5):
        publish(f"proj{i}", "1.0", wheel=False, sdist=False)
    first = client.get("/rss/updates.xml")
    with django_assert_num_queries(1):  # the serial
        again = client.get("/rss/updates.xml")
    assert again.content == first.content
    with django_assert_num_queries(2):  # the project; its serial keys the cache
        client.get("/rss/project/proj1/releases.xml")
    with django_assert_num_queries(1):
        client.get("/rss/project/proj1/releases.xml")


def test_cdn_headers_are_sent_when_a_cdn_is_configured(client, settings):
    settings.INDEX_CDN_PURGE_URL = "http://cdn.invalid/purge"
    publish("TinyProj", "1.0.0")
    updates = client.get("/rss/updates.xml")
    assert updates["Surrogate-Key"] == "all-projects"
    assert updates["Surrogate-Control"] == (
        "max-age=86400, stale-while-revalidate=86400, stale-if-error=432000"
    )
    project = client.get("/rss/project/tinyproj/releases.xml")
    assert project["Surrogate-Key"] == "project/tinyproj"
    assert project["Surrogate-Control"] == "max-age=86400, stale-if-error=432000"


def test_feeds_refuse_writes(client):
    assert client.post("/rss/updates.xml").status_code == 405


def test_empty_index_gives_valid_empty_feeds(client):
    assert get_feed(client, "/rss/updates.xml").entries == []
    assert get_feed(client, "/rss/packages.xml").entries == []


@pytest.mark.parametrize(
    "url", ["/rss/updates.xml", "/rss/packages.xml", "/rss/project/tinyproj/releases.xml"]
)
def test_feeds_are_served_when_the_shared_cache_is_down(client, settings, url):
    publish("TinyProj", "1.0.0", created=T0)
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        }
    }
    response = client.get(url)
    assert len(parse(response).entries) == 1
    not_modified = client.get(url, headers={"If-None-Match": response["ETag"]})
    assert not_modified.status_code == 304


def test_project_feed_carries_the_projects_serial_and_global_feeds_the_index(client):
    from tests.factories import publish

    first = publish("serial-a", "1.0").project
    publish("serial-b", "1.0")
    first.refresh_from_db()
    response = client.get("/rss/project/serial-a/releases.xml")
    assert response["X-PyPI-Last-Serial"] == str(first.last_serial)
    assert first.last_serial < last_serial()
    for path in ("/rss/updates.xml", "/rss/packages.xml"):
        assert client.get(path)["X-PyPI-Last-Serial"] == str(last_serial())
