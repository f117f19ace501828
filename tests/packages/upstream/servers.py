"""Small HTTP servers on 127.0.0.1 for the proxy's tests: a recording proxy in
front of a real index (to count and inspect what the proxy asks), and a
scripted server whose routes say exactly what a hostile upstream sends."""

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests


@dataclass
class Seen:
    method: str
    path: str
    headers: dict
    status: int = 0


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def do_GET(self):
        seen = Seen("GET", self.path, dict(self.headers))
        self.server.owner.requests.append(seen)
        self.server.owner.handle(self, seen)


class _Server:
    host = "127.0.0.1"

    def __init__(self):
        self.requests: list[Seen] = []
        self._httpd = ThreadingHTTPServer((self.host, 0), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.owner = self
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def paths(self, prefix: str = "") -> list[str]:
        return [seen.path for seen in self.requests if seen.path.startswith(prefix)]

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def handle(self, handler, seen):  # pragma: no cover - overridden
        raise NotImplementedError


class RecordingProxy(_Server):
    """Forwards to ``target`` and records each request and its status.
    ``html_only`` makes the index behind it look like an HTML-only one
    (pypiserver): the client's Accept header becomes text/html."""

    def __init__(self, target: str, *, html_only: bool = False):
        self.target = target
        self.html_only = html_only
        super().__init__()

    def handle(self, handler, seen):
        headers = {k: v for k, v in handler.headers.items()
                   if k.lower() in ("accept", "if-none-match", "if-modified-since")}
        if self.html_only:
            headers["Accept"] = "text/html"
        response = requests.get(self.target + handler.path, headers=headers,
                                allow_redirects=False, timeout=30)
        seen.status = response.status_code
        handler.send_response(response.status_code)
        for key in ("Content-Type", "ETag", "Last-Modified", "Location", "X-PyPI-Last-Serial"):
            if key in response.headers:
                handler.send_header(key, response.headers[key])
        handler.send_header("Content-Length", str(len(response.content)))
        handler.end_headers()
        handler.wfile.write(response.content)


@dataclass
class Reply:
    status: int = 200
    body: bytes | None = b""
    headers: dict = field(default_factory=dict)
    delay: float = 0.0  # before the headers
    # Called instead of writing ``body`` (endless or slow bodies).
    writer: object = None


class ScriptedServer(_Server):
    """Answers from ``routes`` (path -> Reply); anything else is 404."""

    def __init__(self, host: str = "127.0.0.1"):
        self.host = host
        self.routes: dict[str, Reply] = {}
        super().__init__()

    def handle(self, handler, seen):
        reply = self.routes.get(handler.path.split("?")[0], Reply(404, b"not here"))
        seen.status = reply.status
        if reply.delay:
            time.sleep(reply.delay)
        try:
            handler.send_response(reply.status)
            for key, value in reply.headers.items():
                handler.send_header(key, value)
            if reply.writer is not None:
                handler.send_header("Connection", "close")
                handler.end_headers()
                reply.writer(handler.wfile)
                handler.close_connection = True
                return
            handler.send_header("Content-Length", str(len(reply.body)))
            handler.end_headers()
            handler.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            handler.close_connection = True
