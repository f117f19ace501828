"""Reading an upstream's project page: PEP 691 JSON or PEP 503 HTML, into the
same list of links, validated so that nothing hostile gets further.

A page is refused whole (HostileUpstream, 502) when a link names a file with a
path in it or points to a host the upstream may not use: such a page is not a
mistake to work around. A link without a sha256 is only left out (the spec:
"a file without one is not offered"), since the index could not check its bytes.
"""

import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

from packages.upstream.errors import HostileUpstream

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
HTML_TYPES = ("application/vnd.pypi.simple.v1+html", "text/html")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
# Printable, no path separators: it becomes part of a storage path and a URL.
_BAD_FILENAME = re.compile(r"[/\\\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Link:
    """One file as the upstream described it (kept as a dict in UpstreamProject.files)."""

    filename: str
    url: str
    sha256: str
    requires_python: str = ""
    yanked: bool = False
    yanked_reason: str = ""
    size: int | None = None
    upload_time: str | None = None  # ISO 8601, UTC
    metadata_sha256: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ParsedPage:
    name: str
    links: list[Link]
    status: str = ""
    status_reason: str = ""
    last_serial: int | None = None


def parse_page(body: bytes, content_type: str, page_url: str,
               allowed_url: Callable[[str], bool], upstream_name: str) -> ParsedPage:
    media_type = content_type.split(";")[0].strip().lower()
    try:
        if media_type == JSON_TYPE:
            return _parse_json(body, page_url, allowed_url, upstream_name)
        if media_type in HTML_TYPES:
            return _parse_html(body, page_url, allowed_url, upstream_name)
    except (ValueError, TypeError, AttributeError, KeyError) as exc:
        raise HostileUpstream(upstream_name, f"its page could not be read ({exc})") from None
    raise HostileUpstream(upstream_name, f"its page has the content type {media_type!r}")


def check_filename(filename: str, upstream_name: str) -> str:
    if (not filename or len(filename) > 255 or _BAD_FILENAME.search(filename)
            or ".." in filename or filename.startswith(".")):
        raise HostileUpstream(upstream_name, f"its page names a file {filename!r}")
    return filename


def _link(upstream_name: str, allowed_url: Callable[[str], bool], page_url: str, href: str,
          **fields) -> Link | None:
    url = urljoin(page_url, href)
    url, fragment = urldefrag(url)
    if urlsplit(url).scheme not in ("http", "https") or not allowed_url(url):
        raise HostileUpstream(upstream_name, f"its page links to another host ({_host(url)})")
    check_filename(fields["filename"], upstream_name)
    sha256 = (fields.pop("sha256", "") or "").lower()
    if not sha256 and fragment.startswith("sha256="):
        sha256 = fragment[len("sha256="):].lower()
    if not _SHA256.match(sha256):
        return None
    return Link(url=url, sha256=sha256, **fields)


def _host(url: str) -> str:
    return urlsplit(url).netloc.rpartition("@")[2] or url[:60]


# --- PEP 691 ---------------------------------------------------------------------


def _parse_json(body, page_url, allowed_url, upstream_name) -> ParsedPage:
    data = json.loads(body)
    meta = data.get("meta") or {}
    if not str(meta.get("api-version", "1.0")).startswith("1."):
        raise ValueError(f"api-version {meta.get('api-version')} is not 1.x")
    links = []
    for item in data.get("files", []):
        yanked = item.get("yanked", False)
        metadata = item.get("core-metadata", item.get("data-dist-info-metadata", False))
        link = _link(
            upstream_name, allowed_url, page_url, str(item["url"]),
            filename=str(item["filename"]),
            sha256=str((item.get("hashes") or {}).get("sha256", "")),
            requires_python=str(item.get("requires-python") or ""),
            yanked=isinstance(yanked, str) or bool(yanked),  # PEP 592: a reason is a yank
            yanked_reason=yanked if isinstance(yanked, str) else "",
            size=item["size"] if isinstance(item.get("size"), int) else None,
            upload_time=_iso_time(item.get("upload-time")),
            metadata_sha256=_metadata_hash(metadata),
        )
        if link is not None:
            links.append(link)
    status = data.get("project-status") or {}
    serial = meta.get("_last-serial")
    return ParsedPage(
        name=str(data.get("name", "")), links=links,
        status=str(status.get("status", "")), status_reason=str(status.get("reason", "")),
        last_serial=serial if isinstance(serial, int) else None,
    )


def _metadata_hash(value) -> str:
    # PEP 658/714: true (no hash: unusable here, the bytes could not be checked),
    # false, or a hashes dictionary.
    if isinstance(value, dict):
        digest = str(value.get("sha256", "")).lower()
        return digest if _SHA256.match(digest) else ""
    return ""


def _iso_time(value) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat()


# --- PEP 503 ---------------------------------------------------------------------


class _AnchorParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.anchors: list[dict] = []
        self.meta: dict[str, str] = {}
        self.comments: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = {key: (value if value is not None else "") for key, value in attrs}
        if tag == "a" and "href" in attributes:
            self.anchors.append(attributes)
        elif tag == "meta" and attributes.get("name", "").startswith("pypi:"):
            self.meta[attributes["name"]] = attributes.get("content", "")

    def handle_comment(self, data):
        self.comments.append(data)


def _parse_html(body, page_url, allowed_url, upstream_name) -> ParsedPage:
    parser = _AnchorParser()
    parser.feed(body.decode("utf-8", errors="replace"))
    parser.close()
    links = []
    for attributes in parser.anchors:
        href = attributes["href"]
        # The file's name is the link's last path segment (PEP 503), not its text.
        filename = unquote(urlsplit(urldefrag(href)[0]).path.rsplit("/", 1)[-1])
        yanked = "data-yanked" in attributes
        metadata = attributes.get("data-core-metadata", attributes.get("data-dist-info-metadata"))
        link = _link(
            upstream_name, allowed_url, page_url, href,
            filename=filename,
            requires_python=attributes.get("data-requires-python", ""),
            yanked=yanked, yanked_reason=attributes.get("data-yanked", ""),
            metadata_sha256=(metadata[len("sha256="):].lower()
                             if metadata and metadata.startswith("sha256=")
                             and _SHA256.match(metadata[len("sha256="):].lower()) else ""),
        )
        if link is not None:
            links.append(link)
    serial = None
    for comment in parser.comments:
        match = re.fullmatch(r"\s*SERIAL (\d+)\s*", comment)
        if match:
            serial = int(match.group(1))
    return ParsedPage(
        name="", links=links,
        status=parser.meta.get("pypi:project-status", ""),
        status_reason=parser.meta.get("pypi:project-status-reason", ""),
        last_serial=serial,
    )
