"""Real processes for the cache tests: varnishd with the shipped VCL, a private
redis-server (a broker these tests may stop), a TCP forwarder that plays a
network path to a CDN node (closed: the node is unreachable but keeps its
cache), Celery worker and beat processes, and a CDN node that only records the
keys it is asked to purge."""

import shutil
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import requests

from tests.conftest import require_external
from tests.gunicorn_server import ROOT, free_port

VARNISHD = shutil.which("varnishd") or "/usr/sbin/varnishd"
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
CELERY = str(Path(sys.executable).parent / "celery")
XKEY = ("/usr/lib/x86_64-linux-gnu/varnish/vmods/libvmod_xkey.so",
        "/usr/lib/varnish/vmods/libvmod_xkey.so")


def _wait_for_port(port: int, process: subprocess.Popen, what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                output = process.stdout.read().decode() if process.stdout else ""
                raise RuntimeError(f"{what} did not start: {output}") from None
            time.sleep(0.05)


class Varnish:
    """varnishd running deploy/varnish.vcl in front of ``backend_url``."""

    def __init__(self, backend_url: str, tmp: Path, port: int | None = None):
        require_external(Path(VARNISHD).exists(), "Debian's varnish (varnishd)")
        require_external(any(Path(p).exists() for p in XKEY),
                         "the xkey vmod (Debian's varnish-modules)")
        backend = urlsplit(backend_url)
        vcl = (ROOT / "deploy" / "varnish.vcl").read_text()
        vcl = vcl.replace("@BACKEND_HOST@", backend.hostname).replace(
            "@BACKEND_PORT@", str(backend.port))
        self.port = port or free_port()
        tmp.mkdir(parents=True, exist_ok=True)
        (tmp / "index.vcl").write_text(vcl)
        self.process = subprocess.Popen(
            [VARNISHD, "-F", "-j", "none", "-a", f"127.0.0.1:{self.port}",
             "-f", str(tmp / "index.vcl"), "-n", str(tmp / "varnish"), "-s", "malloc,32m",
             "-T", "none"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )
        _wait_for_port(self.port, self.process, "varnishd")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def get(self, path: str) -> requests.Response:
        return requests.get(self.url + path, timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)
        self.process.stdout.close()


class RedisServer:
    """A private redis-server on its own port, nothing saved to disk; stop() and
    start() again keep the port (a broker that went down and came back)."""

    def __init__(self, tmp: Path):
        require_external(Path(REDIS_SERVER).exists(), "Debian's redis-server")
        self.tmp = tmp
        self.port = free_port()
        self.process = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.tmp)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )
        _wait_for_port(self.port, self.process, "redis-server")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)
            self.process.stdout.close()


class Forwarder:
    """A TCP path to ``target_port`` on a port of its own; close() makes that port
    refuse connections (the node cut off), open() lets them through again."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.port = free_port()
        self._server = None
        self.open()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def open(self) -> None:
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen(16)
        self._server = server
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()

    def close(self) -> None:
        # shutdown() first: close() alone leaves the port listening while the
        # accepting thread is blocked in accept() (Linux).
        try:
            self._server.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._server.close()

    def _accept(self, server) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return  # closed
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source, sink) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def celery(env: dict, log: Path, *args: str) -> subprocess.Popen:
    """``celery -A indexsite <args>`` in the project's folder, its output to ``log``
    (a file: a pipe nobody reads fills up with reconnection tracebacks and
    blocks the process)."""
    with open(log, "w") as output:
        return subprocess.Popen([CELERY, "-A", "indexsite", *args], cwd=ROOT, env=env,
                                stdout=output, stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen) -> None:
    """Stop a process started here."""
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_for(predicate, what: str, timeout: float = 60, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class RecordingNode:
    """A CDN node that answers every PURGE as Varnish does and records its key;
    with ``up`` false it answers 503 (a node restarting) and records nothing."""

    def __init__(self):
        self.keys: list[str] = []
        self.up = True
        node = self

        class Handler(BaseHTTPRequestHandler):
            def do_PURGE(self):  # noqa: N802 - the HTTP method's name
                if node.up:
                    node.keys.append(self.headers["X-Purge-Key"])
                    self.send_response(200, "Purged 0")
                else:
                    self.send_response(503, "Restarting")
                self.send_header("X-Purged-Objects", "0")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
