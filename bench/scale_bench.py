"""The index at PyPI's size: every hot read, an upload, XML-RPC, feeds, search
and the admin, against the database bench/synth_index.py fills.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/indexsite_scale \\
        .venv/bin/python bench/scale_bench.py [--duration 8]

Runs gunicorn (2 gthread workers, as simple_bench.py) with Redis as the cache
(BENCH_CACHE_URL, default redis://127.0.0.1:6379/13, flushed) and a Celery broker
nobody consumes (BENCH_BROKER_URL, default redis://127.0.0.1:6379/14, flushed:
an upload's tasks are queued, not run in the request, as in production). wrk
spreads requests over random projects with a Lua script of paths. Prints one
table (markdown) with the goals. Needs wrk and redis-cli. Writes a superuser
``bench-admin``, an uploader ``bench-uploader`` (Owner of the biggest project)
and its token, and the uploaded files (versions 9999.N of that project) into
the database; its INDEX_DATA_DIR is /tmp/indexsite_scale_bench.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import xmlrpc.client
from pathlib import Path

import psycopg
import requests
from common import (
    BIN,
    ROOT,
    WRK_DONE,
    flush_redis,
    require_tools,
    run_wrk,
    server_env,
    setup_django,
    wait_for,
)

DATABASE_URL = os.environ.get("DATABASE_URL",
                              "postgresql://postgres@127.0.0.1:5432/indexsite_scale")
CACHE_URL = os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/13")
BROKER_URL = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/14")
PORT = 8791
DATA_DIR = "indexsite_scale_bench"
PIP_ACCEPT = ("application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; "
              "q=0.1, text/html; q=0.01")
JSON_ACCEPT = "application/vnd.pypi.simple.v1+json"
ADMIN_PASSWORD = "bench-admin-password-14"

LUA = r"""
local paths = {}
for line in io.lines(os.getenv("BENCH_PATHS")) do paths[#paths + 1] = line end
local accept = os.getenv("BENCH_ACCEPT")
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
request = function()
  return wrk.format("GET", paths[math.random(#paths)], {["Accept"] = accept})
end
""" + WRK_DONE

ROWS: list[tuple[str, str, str]] = []


def row(measure: str, figure: str, goal: str = "") -> None:
    ROWS.append((measure, figure, goal))
    print(f"  {measure}: {figure}  {goal}", file=sys.stderr, flush=True)


def env() -> dict:
    return server_env(data_dir=DATA_DIR, database_url=DATABASE_URL, cache_url=CACHE_URL,
                      CELERY_BROKER_URL=BROKER_URL)


class Server:
    def __init__(self, access_log: Path | None = None):
        self.access_log = access_log
        self.process = None

    def start(self):
        options = ["-w", "2", "-k", "gthread", "--threads", "1", "--keep-alive", "30",
                   "--backlog", "2048", "--timeout", "120", "--graceful-timeout", "3"]
        if self.access_log:
            options += ["--access-logfile", str(self.access_log),
                        "--access-logformat", "%(r)s %(s)s %(D)s"]
        self.process = subprocess.Popen(
            [str(BIN / "gunicorn"), "indexsite.wsgi", "-b", f"127.0.0.1:{PORT}", *options,
             "--log-level", "warning"], env=env(), cwd=ROOT, stderr=subprocess.DEVNULL)
        # A loaded machine takes more than common.start_gunicorn's 30 s to boot.
        wait_for(url("/simple/no-such-project-here/"), timeout=180)

    def stop(self):
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=60)
            self.process = None

    def restart(self):
        self.stop()
        self.start()

    def worker_rss_kb(self) -> dict[int, int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        rss = {}
        for pid in children.read_text().split():
            status = Path(f"/proc/{pid}/status").read_text()
            rss[int(pid)] = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))
        return rss


def url(path: str) -> str:
    return f"http://127.0.0.1:{PORT}{path}"


class NotOK(Exception):
    pass


def timed_get(session, path: str, accept: str = "text/html", **kwargs) -> tuple[float, int]:
    started = time.perf_counter()
    response = session.get(url(path), headers={"Accept": accept}, timeout=300, **kwargs)
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise NotOK(f"HTTP {response.status_code} after {ms(elapsed)}")
    return elapsed, len(response.content)


def median_get(session, path: str, accept: str = "text/html", n: int = 5) -> float:
    return statistics.median(timed_get(session, path, accept)[0] for _ in range(n))


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms" if seconds < 10 else f"{seconds:,.1f} s"


def sample(conn, query: str, *args) -> list:
    return [r[0] for r in conn.execute(query, args).fetchall()]


def prepare_accounts(big_project: str) -> str:
    """The admin and the uploader (Owner of ``big_project``) with a token; its secret."""
    setup_django(env())
    from django.contrib.auth.models import User
    from django.db import transaction

    from packages.curation.roles import add_role
    from packages.curation.tokens import create_token
    from packages.models import Project, RoleName

    admin = User.objects.filter(username="bench-admin").first()
    if admin is None:
        admin = User.objects.create_superuser("bench-admin", "", ADMIN_PASSWORD)
    uploader, _ = User.objects.get_or_create(username="bench-uploader")
    project = Project.objects.get(name=big_project)
    with transaction.atomic():
        add_role(project, role_name=RoleName.OWNER, user=uploader, by=admin)
    _, secret = create_token(uploader, projects=[project], description="scale bench")
    return secret


def wrk_paths(paths: list[str], accept: str, connections: int, duration: int) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="scale_bench_"))
    (folder / "paths").write_text("\n".join(paths) + "\n")
    script = folder / "paths.lua"
    script.write_text(LUA)
    return run_wrk(PORT, script, connections, duration, "10s",
                   {"BENCH_PATHS": str(folder / "paths"), "BENCH_ACCEPT": accept})


def bench_simple_index(server: Server) -> None:
    session = requests.Session()
    flush_redis(CACHE_URL)
    server.restart()
    before = server.worker_rss_kb()
    first_html, size_html = timed_get(session, "/simple/")
    first_json, size_json = timed_get(session, "/simple/", JSON_ACCEPT)
    after = server.worker_rss_kb()
    growth = max(after[pid] - before.get(pid, after[pid]) for pid in after) / 1024
    row("`/simple/` HTML, first after a restart, Redis flushed (rendered, streamed)",
        f"{ms(first_html)} ({size_html / 1e6:.1f} MB)", "< 5 s")
    row("`/simple/` JSON, first after a restart, Redis flushed", f"{ms(first_json)} "
        f"({size_json / 1e6:.1f} MB)", "< 5 s")
    row("gunicorn worker RSS growth over both renders (max of 2 workers)",
        f"{growth:,.0f} MB (RSS after: {max(after.values()) / 1024:,.0f} MB)", "bounded")
    row("`/simple/` HTML warm (median of 5)", ms(median_get(session, "/simple/")), "< 1 s")
    row("`/simple/` JSON warm (median of 5)",
        ms(median_get(session, "/simple/", JSON_ACCEPT)), "< 1 s")
    server.restart()
    session = requests.Session()
    row("`/simple/` HTML, first after a gunicorn restart, Redis kept",
        ms(timed_get(session, "/simple/")[0]), "< 5 s")
    row("`/simple/` JSON, first after a gunicorn restart, Redis kept",
        ms(timed_get(session, "/simple/", JSON_ACCEPT)[0]), "< 5 s")


def bench_projects(names: list[str], duration: int) -> None:
    cut = min(1000, len(names) // 2)
    hits, misses = names[:cut], names[cut:]
    session = requests.Session()
    for kind, template, accept in (("`/simple/<p>/`", "/simple/{}/", PIP_ACCEPT),
                                   ("`/pypi/<p>/json`", "/pypi/{}/json", "application/json")):
        hit_paths = [template.format(n) for n in hits]
        for path in hit_paths:  # warm: cached in Redis and in the workers
            session.get(url(path), headers={"Accept": accept}, timeout=60)
        for connections in (1, 16):
            wrk_paths(hit_paths, accept, connections, 2)  # every worker's local cache
            result = wrk_paths(hit_paths, accept, connections, duration)
            row(f"{kind} cache hit ({len(hits):,} projects), c={connections}",
                f"{result['rps']:,.0f} req/s, p50 {result['p50_ms']:.2f} ms, "
                f"p99 {result['p99_ms']:.2f} ms, {result['errors']} errors",
                "as at 1,000 projects")
        for connections, chunk in ((1, misses[: len(misses) // 2]),
                                   (16, misses[len(misses) // 2:])):
            result = wrk_paths([template.format(n) for n in chunk], accept, connections,
                               duration)
            row(f"{kind} cache miss ({len(chunk):,} random projects, few repeats), "
                f"c={connections}",
                f"{result['rps']:,.0f} req/s, p50 {result['p50_ms']:.2f} ms, "
                f"p99 {result['p99_ms']:.2f} ms, {result['errors']} errors", "")


def bench_upload(conn, big_project: str, secret: str, log: Path, uploads: int = 5) -> None:
    sys.path.insert(0, str(ROOT))
    from tests.dists import make_wheel

    files = conn.execute("SELECT count(*) FROM packages_file f JOIN packages_release r "
                         "ON r.id = f.release_id JOIN packages_project p ON p.id = r.project_id "
                         "WHERE p.name = %s", (big_project,)).fetchone()[0]
    base = int(time.time())
    folder = Path(tempfile.mkdtemp(prefix="scale_upload_"))
    totals = []
    for n in range(uploads):
        filename, content, _ = make_wheel(big_project, f"9999.{base}.{n}")
        path = folder / filename
        path.write_bytes(content)
        started = time.perf_counter()
        subprocess.run([str(BIN / "twine"), "upload", "--disable-progress-bar",
                        "--non-interactive", "--repository-url", url("/legacy/"),
                        "-u", "__token__", "-p", secret, str(path)],
                       check=True, capture_output=True)
        totals.append(time.perf_counter() - started)
    server_us = [int(line.split()[-1]) for line in log.read_text().splitlines()
                 if line.startswith("POST /legacy/") and " 200 " in line]
    row(f"twine upload of a tiny wheel to the biggest project ({files:,} files), "
        f"server time (gunicorn %(D)s), median of {len(server_us)}",
        f"{ms(statistics.median(server_us) / 1e6)} (min {ms(min(server_us) / 1e6)}, "
        f"max {ms(max(server_us) / 1e6)})", "< 200 ms")
    row("the same, twine's total (process start to exit), median",
        ms(statistics.median(totals)), "")


def bench_xmlrpc(conn) -> None:
    head = conn.execute("SELECT max(id) FROM packages_journalentry").fetchone()[0]
    proxy = xmlrpc.client.ServerProxy(url("/pypi"))
    for label in ("first", "again (cached)"):
        started = time.perf_counter()
        packages = proxy.list_packages_with_serial()
        row(f"XML-RPC `list_packages_with_serial`, {label}",
            f"{ms(time.perf_counter() - started)} ({len(packages):,} projects)", "")
    for label in ("first", "again"):
        started = time.perf_counter()
        changes = proxy.changelog_since_serial(head - 1000)
        row(f"XML-RPC `changelog_since_serial(head - 1000)`, {label}",
            f"{ms(time.perf_counter() - started)} ({len(changes):,} entries)", "")


def bench_pages(big_project: str) -> None:
    session = requests.Session()
    for path in ("/rss/updates.xml", "/rss/packages.xml",
                 f"/rss/project/{big_project}/releases.xml"):
        try:
            first = timed_get(session, path)[0]
            row(f"RSS `{path}` first / warm (median of 5)",
                f"{ms(first)} / {ms(median_get(session, path))}", "")
        except NotOK as exc:
            row(f"RSS `{path}`", str(exc), "")
    for term in ("redis", "tensor graph", "zzqx"):
        path = f"/search/?q={term.replace(' ', '+')}"
        try:
            first = timed_get(session, path)[0]
            row(f"search `{path}` first / again",
                f"{ms(first)} / {ms(timed_get(session, path)[0])}", "")
        except NotOK as exc:
            row(f"search `{path}`", str(exc), "")


def admin_session() -> requests.Session:
    session = requests.Session()
    session.get(url("/admin/login/"), timeout=30)
    response = session.post(url("/admin/login/?next=/admin/"), data={
        "username": "bench-admin", "password": ADMIN_PASSWORD,
        "csrfmiddlewaretoken": session.cookies["csrftoken"], "next": "/admin/"},
        headers={"Referer": url("/admin/login/")}, timeout=30)
    assert "/admin/login/" not in response.url, "admin login failed"
    return session


def bench_admin(big_project: str, user: str) -> None:
    session = admin_session()
    # Each changelist: plain, with a search, with a filter, with both.
    pages = {
        "projects": ("/admin/packages/project/", "q=redis", "status__exact=active",
                     "q=tensor-graph&has_yanked=no"),
        "releases": ("/admin/packages/release/", f"q={big_project}", "yanked__exact=1",
                     f"q={big_project}&is_prerelease__exact=1"),
        "files": ("/admin/packages/file/", f"q={big_project.replace('-', '_')}-1",
                  "packagetype__exact=sdist", "q=redis&packagetype__exact=bdist_wheel"),
        "journal": ("/admin/packages/journalentry/", f"q={user}", "kind=create",
                    f"q={big_project}&kind=new+release"),
    }
    for name, (path, search, filtered, both) in pages.items():
        times = []
        for query in ("", search, filtered, both):
            full = f"{path}?{query}" if query else path
            try:
                first = timed_get(session, full)[0]
                times.append((query or "(none)", first, median_get(session, full, n=3), ""))
            except NotOK as exc:
                times.append((query or "(none)", 999, 999, str(exc)))
        worst = max(max(first, again) for _, first, again, _ in times)
        detail = "; ".join(f"`{q}` {error or f'{ms(first)}/{ms(again)}'}"
                           for q, first, again, error in times)
        row(f"admin {name} changelist (first/median of 3): {detail}", f"worst {ms(worst)}",
            "< 1 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=8, help="seconds per wrk run")
    parser.add_argument("--pages-only", action="store_true",
                        help="only the feeds, search and admin pages")
    args = parser.parse_args()
    require_tools("wrk", "redis-cli")
    conn = psycopg.connect(DATABASE_URL, autocommit=True)
    projects, files = (conn.execute(f"SELECT reltuples::bigint FROM pg_class WHERE relname = "
                                    f"'packages_{t}'").fetchone()[0] for t in ("project", "file"))
    print(f"index: ~{projects:,} projects, ~{files:,} files", file=sys.stderr)
    big_project = conn.execute("SELECT p.name FROM packages_project p JOIN packages_release r "
                               "ON r.project_id = p.id GROUP BY p.id ORDER BY count(*) DESC "
                               "LIMIT 1").fetchone()[0]
    names = sample(conn, "SELECT normalized_name FROM packages_project TABLESAMPLE SYSTEM (10) "
                         "WHERE status = 'active' ORDER BY random() LIMIT 41000")
    user = conn.execute("SELECT submitted_by FROM packages_journalentry ORDER BY id DESC "
                        "LIMIT 1").fetchone()[0]
    secret = prepare_accounts(big_project)
    flush_redis(BROKER_URL)

    log = Path(tempfile.mkdtemp(prefix="scale_access_")) / "access.log"
    server = Server()
    try:
        if args.pages_only:
            server.start()
            bench_pages(big_project)
            bench_admin(big_project, user)
            return
        bench_simple_index(server)
        bench_projects(names, args.duration)
        # The access log (with each request's time) only for the uploads: it
        # would cost the throughput runs a write per request.
        server.stop()
        server = Server(access_log=log)
        server.start()
        bench_upload(conn, big_project, secret, log)
        server.stop()
        server = Server()
        server.start()
        bench_xmlrpc(conn)
        bench_pages(big_project)
        bench_admin(big_project, user)
    finally:
        server.stop()
        flush_redis(BROKER_URL)
        print_table(projects, files)


def print_table(projects: int, files: int) -> None:
    print(f"\nscale benchmark: ~{projects:,} projects, ~{files:,} files; gunicorn 2 gthread "
          f"workers, Redis cache; {os.cpu_count()} cores\n")
    print("| measure | figure | goal |")
    print("|---|---|---|")
    for measure, figure, goal in ROWS:
        print(f"| {measure} | {figure} | {goal} |")


if __name__ == "__main__":
    main()
