"""A hostile description or summary renders inert on every page that shows
one: no script, no event handler, no ``javascript:`` link, no style attribute
or style sheet of its own (CSS can overlay a fake login form or hide warnings)."""

from html.parser import HTMLParser

import pytest

from packages.models import Release
from packages.uploads.descriptions import render_release_description
from tests.factories import publish

pytestmark = pytest.mark.django_db

HOSTILE = (
    '<script>alert("s")</script>'
    '<a href="javascript:alert(1)">click</a>'
    '<a href=" JaVaScRiPt:alert(1)">click2</a>'
    '<img src="x" onerror="alert(2)">'
    '<p style="position:fixed;top:0;left:0;width:100%">overlay</p>'
    "<style>body { display: none }</style>"
    '<iframe src="https://evil.invalid/"></iframe>'
    '<svg onload="alert(3)"><a xlink:href="javascript:alert(4)">svg</a></svg>'
    '<form action="https://evil.invalid/"><input name="password"></form>'
    '<div onmouseover="alert(5)">hover</div>'
)


class _Elements(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found = []  # (tag, attrs)

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


def active_content(page: str) -> list[str]:
    """What in the page could run or restyle it, beyond the page's own <style>."""
    parser = _Elements()
    parser.feed(page)
    problems = []
    styles = 0
    for tag, attrs in parser.found:
        if tag in {"script", "iframe", "object", "embed", "svg", "form", "base", "meta"} and not (
            tag == "meta" or (tag == "form" and attrs.get("action") == "/search/")
        ):
            problems.append(f"<{tag}>")
        styles += tag == "style"
        for name, value in attrs.items():
            if name.startswith("on") or name == "style":
                problems.append(f"{tag} {name}={value!r}")
            if name in {"href", "src", "xlink:href", "action"} and value and (
                "".join(value.split()).lower().startswith(("javascript:", "data:", "vbscript:"))
            ):
                problems.append(f"{tag} {name}={value!r}")
    if styles != 1:
        problems.append(f"{styles} <style> elements")
    return problems


def test_the_checker_sees_the_hostile_markup():
    assert len(active_content(f"<style></style>{HOSTILE}")) >= 10


@pytest.fixture
def hostile(db):
    rendered = publish("Evil", "1.0", summary=HOSTILE, keywords="evil",
                       description=f"# Title\n\n{HOSTILE}\n", description_content_type="text/markdown",
                       home_page="javascript:alert(6)",
                       project_urls=["Docs, javascript:alert(7)", "Home, https://ok.invalid/"],
                       yanked=True, yanked_reason=HOSTILE, author=HOSTILE)
    render_release_description(rendered.pk)
    # A stored description_html written by some other path than the renderer.
    stored = publish("Evil", "2.0", summary=HOSTILE, description="x",
                     description_content_type="text/markdown")
    Release.objects.filter(pk=stored.pk).update(description_html=HOSTILE)
    # A description that failed to render is shown as text.
    publish("Evil", "3.0", summary=HOSTILE, description=HOSTILE, description_content_type="text/plain")
    return rendered.project


@pytest.mark.parametrize("url", [
    "/", "/projects/", "/search/?q=evil", "/project/evil/",
    "/project/evil/1.0/", "/project/evil/2.0/", "/project/evil/3.0/",
])
def test_hostile_text_is_inert(client, hostile, url):
    response = client.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert "alert" in page or url == "/project/evil/2.0/"  # the text is there, as text
    assert active_content(page) == []


def test_every_page_shows_the_hostile_summary_escaped(client, hostile):
    escaped = "&lt;script&gt;alert(&quot;s&quot;)&lt;/script&gt;"
    for url in ("/", "/projects/", "/search/?q=evil", "/project/evil/"):
        assert escaped in client.get(url).content.decode(), url


def test_safe_links_survive(client, hostile):
    page = client.get("/project/evil/1.0/").content.decode()
    assert 'href="https://ok.invalid/"' in page
    assert "<h1" in page[page.index('id="description"'):]  # the markdown still renders
