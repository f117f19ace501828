"""The bound on concurrent fetches per upstream (packages.upstream.fetch_slots):
pages and first downloads of files beyond INDEX_UPSTREAM_MAX_CONCURRENT_FETCHES
wait for a slot, then get 503 naming the upstream; every way a fetch ends gives
its slot back (success, upstream errors, a wrong hash, a client gone midway)."""

import gc
import hashlib
import json
import threading
import time
from datetime import timedelta

import pytest
import requests
from django.db import connection
from django.test import Client
from django.utils import timezone

from packages.upstream.client import fetch_page
from packages.upstream.errors import HostileUpstream, UpstreamBusy, UpstreamUnavailable
from packages.upstream.fetch_slots import slots_in_use, take_slot
from packages.upstream.files import FileStream, fetch_file
from packages.upstream.models import UpstreamFile, UpstreamProject
from packages.upstream.pages import resolve_project
from tests.packages.upstream.servers import Reply, ScriptedServer
from tests.packages.upstream.test_pages import make_upstream

# Requests in threads see the rows the test committed.
pytestmark = pytest.mark.django_db(transaction=True)

JSON = "application/vnd.pypi.simple.v1+json"
BIG = b"0123456789abcdef" * 64 * 1024  # 1 MiB: several reads of 64 KiB


def serve(server, name: str, content: bytes = b"some bytes", *, declared: bytes | None = None,
          metadata: bytes | None = None) -> str:
    """A page for ``name`` listing one sdist with these bytes (``declared``: the
    bytes its sha256 is taken from); returns the file's path on this index."""
    filename = f"{name}-1.0.tar.gz"
    digest = hashlib.sha256(declared if declared is not None else content).hexdigest()
    entry = {"filename": filename, "url": f"/files/{filename}", "hashes": {"sha256": digest},
             "upload-time": "2020-01-01T00:00:00Z"}
    if metadata is not None:
        entry["core-metadata"] = {"sha256": hashlib.sha256(metadata).hexdigest()}
        server.routes[f"/files/{filename}.metadata"] = Reply(200, metadata)
    page = {"meta": {"api-version": "1.1"}, "name": name, "files": [entry]}
    server.routes[f"/simple/{name}/"] = Reply(200, json.dumps(page).encode(),
                                              {"Content-Type": JSON})
    server.routes[f"/files/{filename}"] = Reply(200, content)
    return f"packages/upstream/{digest[:2]}/{digest[2:4]}/{digest[4:]}/{filename}"


class CountingServer(ScriptedServer):
    """Records the most requests it ever had in progress at once."""

    def __init__(self):
        self.active = self.peak = 0
        self._count = threading.Lock()
        super().__init__()

    def handle(self, handler, seen):
        with self._count:
            self.active += 1
            self.peak = max(self.peak, self.active)
        try:
            super().handle(handler, seen)
        finally:
            with self._count:
                self.active -= 1


@pytest.fixture
def counting():
    server = CountingServer()
    yield server
    server.stop()


def _in_threads(function, arguments) -> list:
    results = [None] * len(arguments)

    def run(i, argument):
        try:
            results[i] = function(argument)
        except Exception as exc:  # noqa: BLE001 - the test looks at it
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(arguments)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def test_page_fetches_beyond_the_bound_wait_for_a_slot(counting, settings):
    settings.INDEX_UPSTREAM_MAX_CONCURRENT_FETCHES = 2
    upstream = make_upstream(counting, "slow")
    names = [f"p{i}" for i in range(6)]
    for name in names:
        serve(counting, name)
        counting.routes[f"/simple/{name}/"].delay = 0.3
    started = time.monotonic()
    # The fetches alone (no rows written: SQLite's in-memory test database
    # refuses concurrent writers); resolve_project's path is the same call.
    results = _in_threads(lambda name: [link.filename for link in
                                        fetch_page(upstream, name).page.links], names)
    elapsed = time.monotonic() - started
    assert results == [[f"{name}-1.0.tar.gz"] for name in names]  # each waited its turn
    assert counting.peak == 2  # never more than the bound at once
    assert elapsed >= 0.85  # three rounds of two
    assert slots_in_use(upstream) == 0


def test_all_slots_taken_past_the_timeout_is_503_naming_the_upstream(scripted, settings):
    settings.INDEX_UPSTREAM_MAX_CONCURRENT_FETCHES = 1
    upstream = make_upstream(scripted, "busy", timeout_seconds=0.5)
    path = serve(scripted, "demo")
    holder = take_slot(upstream, wait=0)
    try:
        started = time.monotonic()
        response = Client().get("/simple/demo/")
        assert time.monotonic() - started >= 0.45  # waited the upstream's timeout
        assert response.status_code == 503
        assert response.reason_phrase == (
            "Upstream 'busy' is busy: this index's limit of 1 concurrent fetches from it "
            "is reached; try again shortly.")
        assert response.content == (response.reason_phrase + "\n").encode()
        assert response["Retry-After"] == "5"
        # The JSON API's document of an upstream project is refused the same way.
        document = Client().get("/pypi/demo/json")
        assert (document.status_code, document.reason_phrase) == (503, response.reason_phrase)
        assert document["Retry-After"] == "5"
        assert scripted.requests == []  # nothing was sent to it
    finally:
        holder.release()
    assert Client().get("/simple/demo/").status_code == 200
    holder = take_slot(upstream, wait=0)
    try:
        response = Client().get("/" + path)  # a first download waits the same way
        assert response.status_code == 503 and "'busy' is busy" in response.reason_phrase
        assert response["Retry-After"] == "5"
    finally:
        holder.release()
    response = Client().get("/" + path)
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"some bytes"
    assert slots_in_use(upstream) == 0


def test_busy_upstream_serves_the_kept_page_stale(scripted, settings, caplog):
    settings.INDEX_UPSTREAM_MAX_CONCURRENT_FETCHES = 1
    upstream = make_upstream(scripted, "busy", timeout_seconds=0.3)
    serve(scripted, "demo")
    assert resolve_project("demo").page.versions == ["1.0"]
    UpstreamProject.objects.update(checked_at=timezone.now() - timedelta(hours=1))
    with take_slot(upstream, wait=0):
        page = resolve_project("demo").page
    assert page.stale and page.versions == ["1.0"]
    assert "busy" in caplog.text
    with pytest.raises(UpstreamBusy):  # nothing kept for this one
        with take_slot(upstream, wait=0):
            resolve_project("other")
    assert slots_in_use(upstream) == 0


def test_streamed_file_holds_its_slot_until_the_client_goes(scripted, settings):
    settings.INDEX_UPSTREAM_MAX_CONCURRENT_FETCHES = 1
    upstream = make_upstream(scripted, "up", timeout_seconds=0.5)
    path = serve(scripted, "demo", BIG)
    resolve_project("demo")
    stream = fetch_file(path)
    assert isinstance(stream, FileStream)
    assert len(next(iter(stream))) > 0  # the download is under way
    assert slots_in_use(upstream) == 1
    with pytest.raises(UpstreamBusy):  # another page waits, then gives up
        resolve_project("other")
    stream.close()  # what Django does when the client disconnects
    assert slots_in_use(upstream) == 0
    assert UpstreamFile.objects.get().path == ""  # nothing kept of a partial download
    assert b"".join(fetch_file(path)) == BIG  # the slot is usable again
    assert slots_in_use(upstream) == 0


def test_streamed_file_through_the_view_gives_its_slot_back_when_closed(scripted, settings):
    settings.INDEX_UPSTREAM_MAX_CONCURRENT_FETCHES = 1
    upstream = make_upstream(scripted, "up")
    path = serve(scripted, "demo", BIG)
    resolve_project("demo")
    response = Client().get("/" + path)
    chunks = iter(response.streaming_content)
    next(chunks)
    assert slots_in_use(upstream) == 1
    response.close()  # the WSGI server's close() after a client disconnect
    assert slots_in_use(upstream) == 0
    response = Client().get("/" + path)
    assert slots_in_use(upstream) == 1
    response.close()  # gone before the first byte: the stream never started
    assert slots_in_use(upstream) == 0


def test_slots_are_given_back_after_every_kind_of_failure(scripted, settings):
    settings.INDEX_UPSTREAM_MAX_CONCURRENT_FETCHES = 1
    upstream = make_upstream(scripted, "up", timeout_seconds=0.5)
    # A page the upstream fails to give: 500, then too slow.
    scripted.routes["/simple/broken/"] = Reply(500, b"oops")
    with pytest.raises(UpstreamUnavailable):
        resolve_project("broken")
    scripted.routes["/simple/slow/"] = Reply(200, b"{}", delay=1)
    with pytest.raises(UpstreamUnavailable):
        resolve_project("slow")
    assert slots_in_use(upstream) == 0
    # A file whose bytes do not match: streamed, and fetched whole.
    wrong = serve(scripted, "wrong", BIG, declared=b"what the page declared")
    resolve_project("wrong")
    with pytest.raises(HostileUpstream):
        b"".join(fetch_file(wrong))
    assert slots_in_use(upstream) == 0
    with pytest.raises(HostileUpstream):
        fetch_file(wrong, stream=False)
    assert slots_in_use(upstream) == 0
    # A file the upstream no longer has, and its .metadata broken.
    gone = serve(scripted, "gone", metadata=b"Metadata-Version: 2.1\nName: gone\n")
    resolve_project("gone")
    del scripted.routes["/files/gone-1.0.tar.gz"]
    scripted.routes["/files/gone-1.0.tar.gz.metadata"] = Reply(200, b"not it")
    with pytest.raises(UpstreamUnavailable):
        fetch_file(gone)
    with pytest.raises(HostileUpstream):
        fetch_file(gone + ".metadata")
    assert slots_in_use(upstream) == 0
    # An unread stream dropped by its owner.
    ok = serve(scripted, "fine")
    resolve_project("fine")
    stream = fetch_file(ok)
    assert slots_in_use(upstream) == 1
    del stream
    gc.collect()  # the stream and its generator hold each other
    assert slots_in_use(upstream) == 0


def test_client_gone_midway_under_gunicorn_frees_the_slot(scripted, tmp_path):
    """Through a real server: a client drops a slow first download; with a bound
    of one fetch, the worker's next fetch from the same upstream must not wait
    (a slot kept would make it wait INDEX_UPSTREAM_TIMEOUT, then answer 503)."""
    from tests.gunicorn_server import start_gunicorn

    path = serve(scripted, "demo", BIG)
    serve(scripted, "other")

    def slowly(wfile):
        for start in range(0, len(BIG), 16 * 1024):
            wfile.write(BIG[start:start + 16 * 1024])
            wfile.flush()
            time.sleep(0.02)

    scripted.routes["/files/demo-1.0.tar.gz"].writer = slowly
    proxy = start_gunicorn(tmp_path, workers=1, INDEX_UPSTREAM_URL=f"{scripted.url}/simple/",
                           INDEX_UPSTREAM_MODE="open", INDEX_UPSTREAM_COOLDOWN="0",
                           INDEX_UPSTREAM_TIMEOUT="3", INDEX_UPSTREAM_MAX_CONCURRENT_FETCHES="1")
    try:
        assert requests.get(f"{proxy.url}/simple/demo/", timeout=10).status_code == 200
        with requests.get(f"{proxy.url}/{path}", stream=True, timeout=10) as download:
            assert download.status_code == 200
            next(download.iter_content(16 * 1024))
        # closed: the worker notices at its next write and closes the response
        page = requests.get(f"{proxy.url}/simple/other/", timeout=20)
        assert page.status_code == 200, page.reason  # a slot kept would make this 503
        whole = requests.get(f"{proxy.url}/{path}", timeout=20)  # nothing kept of the part
        assert whole.status_code == 200 and whole.content == BIG
    finally:
        proxy.stop()
