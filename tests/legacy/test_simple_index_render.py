"""The /simple/ index rendered in batches (the cold render at 700,000 projects):
the same bytes as one escaped line per project, whatever the batch size."""

import json

import pytest

from legacy import simple_pages
from legacy.negotiation import TEXT_HTML, V1_HTML, V1_JSON
from packages.models import Project
from tests.factories import create_project


def _reference(rows, serial, media_type):
    """One project at a time, every name escaped: the format the index has always had."""
    if media_type == V1_JSON:
        projects = [{"name": name} if last is None else {"_last-serial": last, "name": name}
                    for name, _normalized, last in rows]
        body = {"meta": {"_last-serial": serial, "api-version": simple_pages.API_VERSION},
                "projects": projects}
        return (json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
                + "\n").encode()
    lines = "".join(
        f'<a href="/simple/{simple_pages.escape(normalized)}/">{simple_pages.escape(name)}</a>\n'
        for name, normalized, _last in rows)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n  <head>\n"
        f'    <meta name="pypi:repository-version" content="{simple_pages.API_VERSION}">\n'
        "    <title>Simple index</title>\n  </head>\n  <body>\n"
        + lines + "</body>\n</html>\n").encode()


def _projects(names):
    for name in names:
        create_project(name)
    # Names written without the model's validation (an import): escaped all the same.
    Project.objects.filter(name="odd-3").update(name='Odd<3>&"\'')
    return [(name, normalized, last) for name, normalized, last in Project.objects.order_by(
        "normalized_name").values_list("name", "normalized_name", "last_serial")]


@pytest.mark.django_db
@pytest.mark.parametrize("media_type", [TEXT_HTML, V1_HTML, V1_JSON])
@pytest.mark.parametrize("per_chunk", [1, 2, 3, 5, 20000])
def test_batches_give_the_same_bytes(media_type, per_chunk):
    rows = _projects(["alpha", "Beta.Two", "odd-3", "zeta", "Ünïcode-ish"[1:]])
    chunks = list(simple_pages._index_chunks(41, media_type, per_chunk=per_chunk))
    assert b"".join(chunks) == _reference(rows, 41, media_type)
    if media_type != V1_JSON:
        assert b"Odd&lt;3&gt;&amp;&#34;&#39;" in b"".join(chunks)


@pytest.mark.django_db
@pytest.mark.parametrize("media_type", [TEXT_HTML, V1_JSON])
def test_upstream_names_follow_the_local_ones(media_type):
    rows = _projects(["alpha", "beta"])
    body = b"".join(simple_pages._index_chunks(3, media_type, ["beta", "gamma"], per_chunk=1))
    assert body == _reference(rows + [("gamma", "gamma", None)], 3, media_type)


@pytest.mark.django_db
def test_plain_names_are_not_escaped_one_by_one(monkeypatch):
    # The cold render's cost at 700,000 projects was a str.translate per name:
    # a batch without a character to escape skips it.
    _projects([f"plain-{n}" for n in range(30)])
    calls = []
    monkeypatch.setattr(simple_pages, "escape", lambda text: calls.append(text) or text)
    body = b"".join(simple_pages._index_chunks(1, TEXT_HTML))
    assert body.count(b"<a href=") == 30
    assert calls == []
