"""Long descriptions rendered to HTML with readme-renderer (as PyPI's project pages).

Rendering runs in a task after the upload commits (``packages.tasks.render_description``);
the upload itself only checks that the description renders, as PyPI refuses one
that does not."""

import functools
import hashlib
import importlib.metadata
from email.message import EmailMessage

import readme_renderer.clean
import readme_renderer.markdown
import readme_renderer.rst
import readme_renderer.txt
from django.utils.safestring import SafeString, mark_safe

from packages.errors import UploadRejected
from packages.models import Release

DEFAULT_CONTENT_TYPE = "text/x-rst"


@functools.cache
def _renderer_version() -> str:
    try:
        return importlib.metadata.version("readme-renderer")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover
        return ""


def _parse_content_type(content_type: str) -> tuple[str, dict[str, str]]:
    message = EmailMessage()
    message["Content-Type"] = content_type or DEFAULT_CONTENT_TYPE
    return message.get_content_type(), dict(message["Content-Type"].params)


def render_description_html(text: str, content_type: str) -> str | None:
    """HTML for a description, or None when it does not render (bad reST)."""
    if not text.strip():
        return ""
    mimetype, params = _parse_content_type(content_type)
    try:
        if mimetype == "text/markdown":
            return readme_renderer.markdown.render(text, variant=params.get("variant", "GFM"))
        if mimetype == "text/plain":
            return readme_renderer.txt.render(text)
        return readme_renderer.rst.render(text, stream=None)
    except Exception:  # noqa: BLE001 - e.g. RecursionError on deeply nested reST lists
        # A renderer that crashes on a text has failed to render it.
        return None


def page_html(stored_html: str) -> SafeString:
    """Stored ``description_html`` made fit to put in a page as is.

    The renderer already cleaned it, but the column is only as trustworthy as every
    path that ever wrote it (a shell, a restored dump, a past admin form): so it is
    cleaned again with the renderer's own allow-list, which leaves the renderer's
    output unchanged and removes script from anything else."""
    return mark_safe(readme_renderer.clean.clean(stored_html) or "")


def check_description_renders(text: str, content_type: str) -> str:
    """Refuse a description that does not render (as PyPI); returns its HTML."""
    if not text:
        return ""
    if (html := render_description_html(text, content_type)) is not None:
        return html
    if content_type:
        raise UploadRejected(
            f"The description failed to render for '{content_type}'."
        )
    raise UploadRejected(
        "The description failed to render in the default format of reStructuredText."
    )


def source_key(text: str, content_type: str) -> str:
    """Identifies what was rendered, so that rendering the same input twice is a no-op."""
    renderer_version = _renderer_version()
    data = f"{renderer_version}\0{content_type}\0{text}".encode()
    return hashlib.sha256(data).hexdigest()


def render_release_description(release_id: int) -> bool:
    """Render a release's description into ``description_html``; idempotent.

    Returns False when there was nothing to do (release gone, or already rendered
    from this very text)."""
    release = (
        Release.objects.filter(pk=release_id)
        .only("description", "description_content_type", "description_rendered_from")
        .first()
    )
    if release is None:
        return False
    key = source_key(release.description, release.description_content_type)
    if release.description_rendered_from == key:
        return False
    html = render_description_html(release.description, release.description_content_type)
    if html is None:  # reST that does not render: show it as plain text
        html = readme_renderer.txt.render(release.description)
    # A conditional update: a concurrent run that got there first makes this a no-op.
    updated = (
        Release.objects.filter(pk=release_id)
        .exclude(description_rendered_from=key)
        .update(description_html=html, description_rendered_from=key)
    )
    return bool(updated)
