"""Benchmark of the simple repository API against nginx serving the same pages.

    .venv/bin/python bench/simple_bench.py [--reuse] [--duration 10]

Needs PostgreSQL (BENCH_DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/indexsite_bench;
the database is dropped and re-created unless --reuse), Redis (BENCH_CACHE_URL,
default redis://127.0.0.1:6379/5, flushed), ``wrk`` and ``nginx`` on PATH
(``apt-get install wrk nginx``). It

1. fills the database with 100,000 projects, 1,000 of which have 10 files each;
2. starts gunicorn (workers = cores) and measures, with wrk spreading requests
   over the 1,000 projects (a Lua script picks one at random per request, with
   pip's Accept header), requests/s and p50/p99 latency of /simple/<project>/ at
   concurrency 1 and 16;
3. times /simple/ (100,000 projects): warm, first after a gunicorn restart
   (Redis still warm), and first after a restart with Redis flushed (rendered
   from the database);
4. writes the same pages to disk, serves them with nginx (workers = cores), puts
   the shipped Varnish (deploy/varnish.vcl, ``varnishd`` on PATH) in front of
   gunicorn, and runs the same page measurements through both in the same
   rounds, then prints a table with our/nginx and Varnish/nginx ratios (the goal
   for the CDN layer: at least 0.7x nginx's requests per second).
"""

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from common import (
    WRK_DONE,
    flush_redis,
    require_tools,
    reset_database,
    run_wrk,
    server_env,
    setup_django,
    start_gunicorn,
    stop_gunicorn,
    wait_for,
)

DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/indexsite_bench"
)
CACHE_URL = os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/5")
GUNICORN_PORT = 8765
NGINX_PORT = 8766
VARNISH_PORT = 8767
ROOT = Path(__file__).resolve().parent.parent
PROJECTS = 100_000
PROJECTS_WITH_FILES = 1_000
RELEASES_PER_PROJECT = 5  # x 2 files (wheel + sdist) = 10 files
PIP_ACCEPT = (
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, "
    "text/html; q=0.01"
)

LUA = r"""
local names = {}
for line in io.lines(os.getenv("BENCH_NAMES")) do names[#names + 1] = line end
local accept = os.getenv("BENCH_ACCEPT")
local suffix = os.getenv("BENCH_SUFFIX") or ""
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
request = function()
  local name = names[math.random(#names)]
  return wrk.format("GET", "/simple/" .. name .. "/" .. suffix, {["Accept"] = accept})
end
""" + WRK_DONE


def env():
    return server_env(database_url=DATABASE_URL, cache_url=CACHE_URL,
                      data_dir="indexsite-bench-data")


def populate():
    """Rows only (the pages never read file bytes): bulk inserts, a few seconds."""
    setup_django(env())
    from django.utils import timezone

    from packages.models import File, JournalEntry, Project, Release
    from packages.names import normalize_name, ultranormalize_name

    started = time.perf_counter()
    now = timezone.now()
    names = [f"Bench_Project.{i:06d}" for i in range(PROJECTS)]
    JournalEntry.objects.bulk_create(
        [JournalEntry(name=n, action="create", submitted_date=now) for n in names],
        batch_size=5000,
    )
    first_serial = JournalEntry.objects.order_by("id").values_list("id", flat=True).first()
    Project.objects.bulk_create(
        [
            Project(name=n, normalized_name=normalize_name(n),
                    ultranormalized_name=ultranormalize_name(n), last_serial=first_serial + i)
            for i, n in enumerate(names)
        ],
        batch_size=5000,
    )
    with_files = list(
        Project.objects.order_by("id").values_list("id", "normalized_name")[:PROJECTS_WITH_FILES]
    )
    releases = Release.objects.bulk_create(
        [
            Release(project_id=pid, version=f"1.{v}", canonical_version=f"1.{v}",
                    requires_python=">=3.8", summary="bench")
            for pid, _ in with_files for v in range(RELEASES_PER_PROJECT)
        ],
        batch_size=5000,
    )
    files = []
    for release in releases:
        for kind, filename in (
            ("bdist_wheel", f"p{release.project_id}-{release.version}-py3-none-any.whl"),
            ("sdist", f"p{release.project_id}-{release.version}.tar.gz"),
        ):
            digest = f"{release.project_id:016x}{release.version}{kind}".ljust(64, "0")[:64]
            files.append(File(
                release=release, filename=filename, packagetype=kind,
                python_version="py3" if kind == "bdist_wheel" else "source",
                requires_python=">=3.8", size=12345, md5_digest=digest[:32],
                sha256_digest=digest, blake2_256_digest=digest,
                path=f"packages/{digest[:2]}/{digest[2:4]}/{digest[4:]}/{filename}",
                metadata_sha256=digest if kind == "bdist_wheel" else "",
            ))
    File.objects.bulk_create(files, batch_size=5000)
    print(f"populated {PROJECTS} projects, {len(files)} files in "
          f"{time.perf_counter() - started:.1f}s", flush=True)


def project_names() -> list[str]:
    out = subprocess.run(
        ["psql", DATABASE_URL, "-At", "-c",
         "SELECT p.normalized_name FROM packages_project p WHERE EXISTS "
         "(SELECT 1 FROM packages_release r WHERE r.project_id = p.id) ORDER BY p.id"],
        check=True, capture_output=True, text=True,
    ).stdout.split()
    return out


class Gunicorn:
    def __init__(self, workers: int, worker_class: str):
        self.workers = workers
        self.worker_class = worker_class
        self.process = None

    def start(self):
        options = ["-w", str(self.workers), "-k", self.worker_class, "--backlog", "2048"]
        if self.worker_class == "gthread":
            options += ["--threads", "1", "--keep-alive", "30"]
        self.process = start_gunicorn(GUNICORN_PORT, env(), *options,
                                      ready_path="/simple/no-such-project-here/")

    def stop(self):
        if self.process is not None:
            stop_gunicorn(self.process)
            self.process = None


def start_nginx(root: Path, workers: int) -> subprocess.Popen:
    conf = root / "nginx.conf"
    conf.write_text(f"""
worker_processes {workers};
pid {root}/nginx.pid;
error_log {root}/error.log warn;
daemon off;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    client_body_temp_path {root}/tmp;
    proxy_temp_path {root}/tmp;
    fastcgi_temp_path {root}/tmp;
    uwsgi_temp_path {root}/tmp;
    scgi_temp_path {root}/tmp;
    server {{
        listen 127.0.0.1:{NGINX_PORT};
        root {root}/www;
        default_type application/vnd.pypi.simple.v1+json;
        location /simple/ {{ index index.json; etag on; add_header Vary Accept; }}
    }}
}}
""")
    (root / "tmp").mkdir(exist_ok=True)
    process = subprocess.Popen(["nginx", "-c", str(conf)])
    wait_for(f"http://127.0.0.1:{NGINX_PORT}/simple/")
    return process


def start_varnish(root: Path) -> subprocess.Popen:
    """The shipped VCL in front of gunicorn, as a deployment runs it."""
    vcl = (ROOT / "deploy" / "varnish.vcl").read_text()
    vcl = vcl.replace("@BACKEND_HOST@", "127.0.0.1").replace("@BACKEND_PORT@", str(GUNICORN_PORT))
    (root / "varnish.vcl").write_text(vcl)
    process = subprocess.Popen(
        ["varnishd", "-F", "-j", "none", "-a", f"127.0.0.1:{VARNISH_PORT}",
         "-f", str(root / "varnish.vcl"), "-n", str(root / "varnish"), "-s", "malloc,256m",
         "-T", "none"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(f"http://127.0.0.1:{VARNISH_PORT}/simple/")
    return process


def wrk(port: int, names_file: Path, connections: int, duration: int) -> dict:
    script = names_file.parent / "spread.lua"
    script.write_text(LUA)
    return run_wrk(port, script, connections, duration, "5s",
                   {"BENCH_NAMES": str(names_file), "BENCH_ACCEPT": PIP_ACCEPT})


def median_run(runs: list[dict]) -> dict:
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def time_get(url: str, accept: str = "text/html") -> tuple[float, int]:
    request = urllib.request.Request(url, headers={"Accept": accept})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as response:
        size = len(response.read())
    return time.perf_counter() - started, size


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reuse", action="store_true", help="keep the populated database")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="alternating runs per server")
    parser.add_argument("--worker-class", default="gthread", choices=["sync", "gthread"])
    args = parser.parse_args()
    require_tools("wrk", "nginx", "varnishd", "psql", "redis-cli")
    cores = os.cpu_count() or 1
    if not args.reuse:
        reset_database(env())
        populate()
    names = project_names()
    work = Path(tempfile.mkdtemp(prefix="indexsite-bench-"))
    work.chmod(0o755)  # nginx workers run as an unprivileged user
    names_file = work / "names.txt"
    names_file.write_text("\n".join(names) + "\n")
    flush_redis(CACHE_URL)

    results = {}
    server = Gunicorn(cores, args.worker_class)
    server.start()
    nginx = varnish = None
    try:
        base = f"http://127.0.0.1:{GUNICORN_PORT}"
        # Cold index first (nothing cached anywhere): rendered from the database.
        results["index_cold"], index_size = time_get(f"{base}/simple/")
        results["index_warm"] = statistics.median(
            time_get(f"{base}/simple/")[0] for _ in range(7)
        )
        results["index_json_warm"] = statistics.median(
            time_get(f"{base}/simple/", "application/vnd.pypi.simple.v1+json")[0]
            for _ in range(5)
        )
        # Pages into the caches and onto disk for nginx.
        www = work / "www"
        for name in names:
            request = urllib.request.Request(f"{base}/simple/{name}/",
                                             headers={"Accept": PIP_ACCEPT})
            body = urllib.request.urlopen(request).read()
            page = www / "simple" / name
            page.mkdir(parents=True)
            (page / "index.json").write_bytes(body)
        index_body = urllib.request.urlopen(f"{base}/simple/").read()
        (www / "simple" / "index.json").write_bytes(index_body)
        nginx = start_nginx(work, cores)
        nginx_base = f"http://127.0.0.1:{NGINX_PORT}"
        results["nginx_index_first"] = time_get(f"{nginx_base}/simple/")[0]
        results["nginx_index_warm"] = statistics.median(
            time_get(f"{nginx_base}/simple/")[0] for _ in range(7)
        )
        varnish = start_varnish(work)
        for name in names:  # every page into Varnish once (pip's Accept: one variant)
            urllib.request.urlopen(urllib.request.Request(
                f"http://127.0.0.1:{VARNISH_PORT}/simple/{name}/",
                headers={"Accept": PIP_ACCEPT})).read()
        # The machine is shared and noisy: alternate short runs of the servers
        # and keep the median of each, so that all see the same conditions.
        for connections in (1, 16):
            wrk(GUNICORN_PORT, names_file, connections, 2)  # warm-up of every worker
            wrk(NGINX_PORT, names_file, connections, 1)
            wrk(VARNISH_PORT, names_file, connections, 1)
            ours, theirs, cdn = [], [], []
            for _ in range(args.rounds):
                ours.append(wrk(GUNICORN_PORT, names_file, connections, args.duration))
                theirs.append(wrk(NGINX_PORT, names_file, connections, args.duration))
                cdn.append(wrk(VARNISH_PORT, names_file, connections, args.duration))
                print(f"c={connections}: indexsite {ours[-1]} nginx {theirs[-1]} "
                      f"varnish {cdn[-1]}", flush=True)
            results[f"ours_c{connections}"] = median_run(ours)
            results[f"nginx_c{connections}"] = median_run(theirs)
            results[f"varnish_c{connections}"] = median_run(cdn)
        varnish.terminate()
        varnish.wait(timeout=30)
        varnish = None
        server.stop()
        server.start()
        results["index_restart"] = time_get(f"{base}/simple/")[0]
        server.stop()
        flush_redis(CACHE_URL)
        server.start()
        results["index_restart_flushed"] = time_get(f"{base}/simple/")[0]
    finally:
        server.stop()
        if nginx is not None:
            nginx.send_signal(signal.SIGQUIT)
            nginx.wait(timeout=30)
        if varnish is not None:
            varnish.terminate()
            varnish.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)

    print_report(results, cores, args.worker_class, index_size, len(names))
    print(json.dumps(results, indent=1))


def print_report(r: dict, cores: int, worker_class: str, index_size: int, projects: int):
    print(f"\nsimple API benchmark: {cores} cores, gunicorn {cores} {worker_class} workers, "
          f"PostgreSQL + Redis; {projects} projects x 10 files; /simple/ = {PROJECTS} projects "
          f"({index_size / 1e6:.1f} MB HTML)\n")
    print("| measure | indexsite | nginx static | indexsite/nginx |")
    print("|---|---|---|---|")
    for c in (1, 16):
        ours, theirs = r[f"ours_c{c}"], r[f"nginx_c{c}"]
        print(f"| /simple/<project>/ c={c} req/s | {ours['rps']:.0f} | {theirs['rps']:.0f} | "
              f"{ours['rps'] / theirs['rps']:.2f} |")
        for p in ("p50", "p99"):
            print(f"| /simple/<project>/ c={c} {p} ms | {ours[p + '_ms']:.2f} | "
                  f"{theirs[p + '_ms']:.2f} | {ours[p + '_ms'] / max(theirs[p + '_ms'], 0.001):.1f} |")
    print(f"| /simple/ warm, s | {r['index_warm']:.3f} | {r['nginx_index_warm']:.3f} | "
          f"{r['index_warm'] / r['nginx_index_warm']:.1f} |")
    print(f"| /simple/ JSON warm, s | {r['index_json_warm']:.3f} | | |")
    print(f"| /simple/ first after restart (Redis warm), s | {r['index_restart']:.3f} | "
          f"{r['nginx_index_first']:.3f} | {r['index_restart'] / r['nginx_index_first']:.1f} |")
    print(f"| /simple/ first after restart, Redis flushed, s | "
          f"{r['index_restart_flushed']:.3f} | | |")
    print(f"| /simple/ first ever (cold render), s | {r['index_cold']:.3f} | | |")
    print("\n| /simple/<project>/ through the shipped Varnish | Varnish | nginx static | "
          "Varnish/nginx (goal >= 0.7 req/s) |")
    print("|---|---|---|---|")
    for c in (1, 16):
        cdn, theirs = r[f"varnish_c{c}"], r[f"nginx_c{c}"]
        print(f"| c={c} req/s | {cdn['rps']:.0f} | {theirs['rps']:.0f} | "
              f"{cdn['rps'] / theirs['rps']:.2f} |")
        for p in ("p50", "p99"):
            print(f"| c={c} {p} ms | {cdn[p + '_ms']:.2f} | {theirs[p + '_ms']:.2f} | "
                  f"{cdn[p + '_ms'] / max(theirs[p + '_ms'], 0.001):.1f} |")
    errors = r["ours_c1"]["errors"] + r["ours_c16"]["errors"]
    print(f"\nerrors: indexsite {errors}, nginx {r['nginx_c1']['errors'] + r['nginx_c16']['errors']}")


if __name__ == "__main__":
    main()
