"""PyPI's three RSS feeds as django.contrib.syndication Feed classes.

Documents match Warehouse's templates (spec feeds.md §2): a bare RSS 2.0
channel (title, link, description, language ``en``), items in PyPI's element
order, RFC 822 dates in GMT, ``author`` only from valid ``Author-email``
addresses, and no control characters in text."""

import re
from email.utils import formatdate, getaddresses

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.utils.feedgenerator import Rss201rev2Feed

from feeds import queries as feed_queries

# Code points below 32 are dropped, as Warehouse's remove_invalid_xml_unicode.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f]")


def clean_text(value) -> str:
    return _CONTROL_CHARACTERS.sub("", str(value))


def feed_author(author_email: str) -> str | None:
    """The RSS ``author``: the bare addresses of ``Author-email`` joined by ", ",
    or None (element left out) when there is none or any entry lacks an ``@``."""
    addresses = [address for _, address in getaddresses([clean_text(author_email or "")])]
    if not addresses or any("@" not in address for address in addresses):
        return None
    return ", ".join(addresses)


def index_url(path: str) -> str:
    return f"{settings.INDEX_BASE_URL}{path}"


def project_url(project) -> str:
    return index_url(f"/project/{project.normalized_name}/")


def release_url(release) -> str:
    return index_url(f"/project/{release.project.normalized_name}/{release.version}/")


class PyPIRssFeed(Rss201rev2Feed):
    """RSS 2.0 exactly as PyPI writes it: no namespaces, no atom:link, no
    lastBuildDate; item elements title, link, [guid], description, [author], pubDate."""

    content_type = "text/xml; charset=UTF-8"

    def rss_attributes(self):
        return {"version": self._version}

    def add_root_elements(self, handler):
        handler.addQuickElement("title", self.feed["title"])
        handler.addQuickElement("link", self.feed["link"])
        handler.addQuickElement("description", self.feed["description"])
        handler.addQuickElement("language", self.feed["language"])

    def add_item_elements(self, handler, item):
        handler.addQuickElement("title", item["title"])
        handler.addQuickElement("link", item["link"])
        if item["unique_id"] is not None:
            handler.addQuickElement("guid", item["unique_id"])
        handler.addQuickElement("description", item["description"])
        if item["author_email"]:
            handler.addQuickElement("author", item["author_email"])
        handler.addQuickElement("pubDate", formatdate(item["pubdate"].timestamp(), usegmt=True))


def index_name() -> str:
    """The index's display name (the INDEX_NAME setting), where PyPI writes its own."""
    return settings.INDEX_NAME


class IndexFeed(Feed):
    """Common parts: PyPI's document shape, absolute links on INDEX_BASE_URL,
    release summaries as descriptions, release ``created`` as pubDate."""

    feed_type = PyPIRssFeed
    language = "en"
    # Only the newest-packages feed has a guid; the others leave readers the link.
    item_guid = None

    def link(self):
        return index_url("/")

    # Feed items are releases in the updates and project feeds.
    def item_title(self, release):
        return f"{release.project.name} {release.version}"

    def item_link(self, release):
        return release_url(release)

    def item_description(self, release):
        return clean_text(release.summary)

    def item_author_name(self, release):
        # The syndication framework asks for an author e-mail only when a name
        # is given; the name itself is never written (PyPI discards it).
        return "" if feed_author(release.author_email) else None

    def item_author_email(self, release):
        return feed_author(release.author_email)

    def item_pubdate(self, release):
        return release.created


class LatestUpdatesFeed(IndexFeed):
    """``/rss/updates.xml``: the 100 newest releases of the index."""

    def title(self):
        return f"{index_name()} recent updates"

    def description(self):
        return f"Recent updates to {index_name()}"

    def items(self):
        return feed_queries.latest_releases()


class NewestPackagesFeed(IndexFeed):
    """``/rss/packages.xml``: the 40 newest projects that have a release, each
    described by its highest release."""

    def title(self):
        return f"{index_name()} newest packages"

    def description(self):
        return f"Newest packages registered at {index_name()}"

    def items(self):
        return feed_queries.newest_projects()

    def item_title(self, project):
        return f"{project.name} added to {index_name()}"

    def item_link(self, project):
        return project_url(project)

    def item_guid(self, project):
        return project_url(project)

    def item_description(self, project):
        return super().item_description(project.highest_release)

    def item_author_name(self, project):
        return super().item_author_name(project.highest_release)

    def item_author_email(self, project):
        return super().item_author_email(project.highest_release)

    def item_pubdate(self, project):
        return project.created


class ProjectReleasesFeed(IndexFeed):
    """``/rss/project/<name>/releases.xml``: a project's 40 newest releases.
    The view resolves the project (404, redirect) and passes it in."""

    def get_object(self, request, project):
        return project

    def title(self, project):
        return f"{index_name()} recent updates for {project.name}"

    def link(self, project):
        return project_url(project)

    def description(self, project):
        return f"Recent updates to {index_name()} for {project.name}"

    def items(self, project):
        return feed_queries.project_releases(project)

    def item_title(self, release):
        return release.version
