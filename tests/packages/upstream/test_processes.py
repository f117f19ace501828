"""Single flight across processes: two processes (``manage.py shell`` against
one database, as two gunicorn workers would be) asking for the same uncached
page make one upstream request."""

import json
import threading

from tests.gunicorn_server import start_gunicorn
from tests.packages.upstream.servers import Reply

RESOLVE = """
from packages.upstream.pages import resolve_project
print(resolve_project("evil").page.versions)
"""


def test_two_processes_fetch_an_uncached_page_once(tmp_path, scripted):
    scripted.routes["/simple/evil/"] = Reply(200, json.dumps({
        "meta": {"api-version": "1.1"}, "name": "evil",
        "files": [{"filename": "evil-1.0.tar.gz", "url": "/f/evil-1.0.tar.gz",
                   "hashes": {"sha256": "ab" * 32}}],
    }).encode(), {"Content-Type": "application/vnd.pypi.simple.v1+json"}, delay=3)
    setup = ("from packages.upstream.models import Upstream; "
             f"Upstream.objects.create(name='slow', simple_url='{scripted.url}/simple/', "
             "timeout_seconds=20)")
    server = start_gunicorn(tmp_path, setup=setup)
    try:
        outputs = []
        threads = [threading.Thread(target=lambda: outputs.append(server.shell(RESOLVE)))
                   for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    finally:
        server.stop()
    assert outputs == ["['1.0']\n", "['1.0']\n"]
    assert scripted.paths() == ["/simple/evil/"]
