"""First downloads: streamed while stored and hashed, kept only when the sha256
matches, served locally afterwards; one upstream request for concurrent ones."""

import hashlib
import json
import threading
import time

import pytest

from packages.storage import distributions_storage, open_stored
from packages.upstream.errors import HostileUpstream, UpstreamNotFound
from packages.upstream.files import FileStream, KeptFile, fetch_file, find_kept_file
from packages.upstream.models import UpstreamBlock, UpstreamFile
from packages.upstream.pages import resolve_project
from tests.packages.upstream.servers import Reply
from tests.packages.upstream.test_pages import make_upstream


def _wheel(page):
    return next(f for f in page.files if f.filename == "alpha-1.0-py3-none-any.whl")


@pytest.mark.django_db
def test_first_download_streams_and_keeps_then_serves_locally(real_upstream):
    make_upstream(real_upstream)
    wheel = _wheel(resolve_project("alpha").page)
    stream = fetch_file(wheel.path)
    assert isinstance(stream, FileStream) and stream.size == wheel.size
    assert find_kept_file(wheel.path) is None  # nothing kept before the hash is checked
    body = b"".join(stream)
    stream.close()
    assert hashlib.sha256(body).hexdigest() == wheel.sha256
    kept = fetch_file(wheel.path)
    assert isinstance(kept, KeptFile) and kept.size == len(body)
    assert kept.sha256 == wheel.sha256 and kept.version == "1.0" and kept.project == "alpha"
    with open_stored(kept.path) as handle:
        assert handle.read() == body
    assert len(real_upstream.paths("/packages/")) == 1
    assert _wheel(resolve_project("alpha").page).kept


@pytest.mark.django_db
def test_metadata_is_fetched_checked_and_kept(real_upstream):
    make_upstream(real_upstream)
    wheel = _wheel(resolve_project("alpha").page)
    kept = fetch_file(wheel.path + ".metadata")
    assert isinstance(kept, KeptFile) and kept.is_metadata
    with open_stored(kept.path) as handle:
        data = handle.read()
    assert hashlib.sha256(data).hexdigest() == wheel.metadata_sha256
    assert b"Name: alpha" in data
    fetch_file(wheel.path + ".metadata")
    assert len(real_upstream.paths("/packages/")) == 1


@pytest.mark.django_db
def test_files_of_blocked_versions_and_unknown_paths_are_not_served(real_upstream):
    make_upstream(real_upstream)
    wheel = _wheel(resolve_project("alpha").page)
    UpstreamBlock.objects.create(name="alpha", specifier="<2", reason="cve")
    with pytest.raises(UpstreamNotFound):
        fetch_file(wheel.path)
    with pytest.raises(UpstreamNotFound):
        fetch_file("packages/upstream/00/00/" + "0" * 60 + "/x-1.0.tar.gz")
    assert real_upstream.paths("/packages/") == []


def _page_with(scripted, filename, content, declared_sha=None):
    sha = declared_sha or hashlib.sha256(content).hexdigest()
    scripted.routes["/simple/evil/"] = Reply(200, json.dumps({
        "meta": {"api-version": "1.1"}, "name": "evil",
        "files": [{"filename": filename, "url": f"/files/{filename}",
                   "hashes": {"sha256": sha}}],
    }).encode(), {"Content-Type": "application/vnd.pypi.simple.v1+json"})
    scripted.routes[f"/files/{filename}"] = Reply(200, content)


@pytest.mark.django_db
def test_hash_mismatch_keeps_nothing_and_never_completes_the_transfer(scripted):
    content = b"x" * (300 * 1024)  # several reads
    _page_with(scripted, "evil-1.0.tar.gz", content, declared_sha="ab" * 32)
    make_upstream(scripted, "evil")
    [file] = resolve_project("evil").page.files
    stream = fetch_file(file.path)
    received = bytearray()
    with pytest.raises(HostileUpstream, match="does not match the sha256"):
        for chunk in stream:
            received += chunk
    assert len(received) < len(content)  # the last chunk was held back
    assert not distributions_storage().exists(file.path)
    assert UpstreamFile.objects.get().path == ""
    # Whole-file mode: the mismatch is an error before any byte is sent (502).
    with pytest.raises(HostileUpstream) as error:
        fetch_file(file.path, stream=False)
    assert error.value.status == 502 and "'evil'" in error.value.message


@pytest.mark.django_db
def test_client_gone_midway_keeps_nothing_and_frees_the_file(scripted):
    content = b"y" * (300 * 1024)
    _page_with(scripted, "evil-1.0.tar.gz", content)
    make_upstream(scripted, "evil")
    [file] = resolve_project("evil").page.files
    stream = fetch_file(file.path)
    next(iter(stream))
    stream.close()
    assert not distributions_storage().exists(file.path)
    kept = fetch_file(file.path, stream=False)  # not blocked by a leftover lease
    assert kept.size == len(content)


@pytest.mark.django_db(transaction=True)
def test_concurrent_first_downloads_fetch_once(scripted):
    content = b"z" * (200 * 1024)
    _page_with(scripted, "evil-1.0.tar.gz", content)
    make_upstream(scripted, "evil")
    [file] = resolve_project("evil").page.files
    scripted.routes["/files/evil-1.0.tar.gz"].delay = 0.5
    results, errors = [], []

    def download():
        try:
            answer = fetch_file(file.path)
            if isinstance(answer, FileStream):
                body = b"".join(answer)
                answer.close()
                results.append(("stream", body))
            else:
                with open_stored(answer.path) as handle:
                    results.append(("kept", handle.read()))
        except Exception as exc:  # pragma: no cover - shown by the assert
            errors.append(exc)
        finally:
            from django.db import connection

            connection.close()

    threads = [threading.Thread(target=download) for _ in range(2)]
    for thread in threads:
        thread.start()
        time.sleep(0.05)
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert sorted(kind for kind, _ in results) == ["kept", "stream"]
    assert all(body == content for _, body in results)
    assert scripted.paths("/files/") == ["/files/evil-1.0.tar.gz"]


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_for_an_uncached_page_fetch_it_once(scripted):
    _page_with(scripted, "evil-1.0.tar.gz", b"data")
    scripted.routes["/simple/evil/"].delay = 0.5
    make_upstream(scripted, "evil")
    pages, errors = [], []

    def resolve():
        try:
            pages.append(resolve_project("evil").page)
        except Exception as exc:  # pragma: no cover
            errors.append(exc)
        finally:
            from django.db import connection

            connection.close()

    threads = [threading.Thread(target=resolve) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == [] and len(pages) == 3
    assert all(page.versions == ["1.0"] for page in pages)
    assert scripted.paths() == ["/simple/evil/"]

