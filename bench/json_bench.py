"""Benchmark of PyPI's JSON API (/pypi/<project>/json).

    .venv/bin/python bench/json_bench.py [--reuse] [--duration 10]

Needs PostgreSQL (BENCH_JSON_DATABASE_URL, default
postgresql://postgres@127.0.0.1:5432/indexsite_json_bench; dropped and re-created
unless --reuse), Redis (BENCH_JSON_CACHE_URL, default redis://127.0.0.1:6379/6,
flushed) and ``wrk`` on PATH (``apt-get install wrk``). It

1. fills the database with 200 typical projects (10 releases x 2 files, full
   metadata) and one big project of 3,000 releases and 10,000 files;
2. starts gunicorn (workers = cores, sync) on loopback;
3. times the first (uncached, built from the database) and warm responses of the
   big project's JSON, and the first response of a typical project;
4. measures with wrk requests/s and p50/p99 latency at concurrency 1 and 16 of
   /pypi/<typical>/json spread over the 200 projects, of /pypi/big/json, and of
   /pypi/big/json with a matching If-None-Match (304), then prints a table.
"""

import argparse
import json
import os
import shutil
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
)

DATABASE_URL = os.environ.get(
    "BENCH_JSON_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/indexsite_json_bench"
)
CACHE_URL = os.environ.get("BENCH_JSON_CACHE_URL", "redis://127.0.0.1:6379/6")
PORT = 8767
TYPICAL_PROJECTS = 200
TYPICAL_RELEASES = 10  # x 2 files
BIG_RELEASES = 3_000
BIG_FILES = 10_000

LUA = r"""
local paths = {}
for line in io.lines(os.getenv("BENCH_PATHS")) do paths[#paths + 1] = line end
local etag = os.getenv("BENCH_ETAG")
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
request = function()
  local headers = {}
  if etag and etag ~= "" then headers["If-None-Match"] = etag end
  return wrk.format("GET", paths[math.random(#paths)], headers)
end
""" + WRK_DONE


def env():
    return server_env(database_url=DATABASE_URL, cache_url=CACHE_URL,
                      data_dir="indexsite-json-bench-data",
                      INDEX_BASE_URL="https://index.example")


def populate():
    """Rows only (the JSON never reads file bytes): bulk inserts."""
    setup_django(env())
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from packages.models import File, JournalEntry, Project, Release, Role
    from packages.names import normalize_name, ultranormalize_name

    started = time.perf_counter()
    now = timezone.now()
    owner = get_user_model().objects.create_user("bench-owner", password="x" * 16)
    names = [f"typical-{i:03d}" for i in range(TYPICAL_PROJECTS)] + ["big"]
    serial = JournalEntry.objects.create(name="bench", action="populate").id
    projects = Project.objects.bulk_create(
        Project(name=n, normalized_name=normalize_name(n),
                ultranormalized_name=ultranormalize_name(n), last_serial=serial)
        for n in names
    )
    Role.objects.bulk_create(Role(project=p, user=owner, role_name="Owner") for p in projects)
    metadata = dict(
        summary="A typical project", description="# Title\n\n" + "Some words. " * 300,
        description_content_type="text/markdown", author_email="Dev <dev@example.org>",
        license_expression="MIT", license_files=["LICENSE"], requires_python=">=3.9",
        requires_dist=["requests>=2", "click>=8; extra == 'cli'"], provides_extra=["cli"],
        classifiers=["Programming Language :: Python :: 3", "License :: OSI Approved :: MIT License"],
        project_urls=["Source, https://example.org/src", "Docs, https://example.org/docs"],
    )
    releases = []
    for project in projects:
        count = BIG_RELEASES if project.name == "big" else TYPICAL_RELEASES
        releases += [
            Release(project=project, version=f"{v // 100}.{v % 100}.0",
                    canonical_version=f"{v // 100}.{v % 100}", created=now, **metadata)
            for v in range(count)
        ]
    releases = Release.objects.bulk_create(releases, batch_size=2000)
    files = []
    big_index = 0
    for release in releases:
        kinds = [("bdist_wheel", "-py3-none-any.whl"), ("sdist", ".tar.gz")]
        if release.project.name == "big":
            # 10,000 files over 3,000 releases: four files for the first 1,000, three after.
            kinds.append(("bdist_wheel", "-cp312-cp312-manylinux_2_28_x86_64.whl"))
            if big_index < BIG_FILES - 3 * BIG_RELEASES:
                kinds.append(("bdist_wheel", "-cp313-cp313-win_amd64.whl"))
            big_index += 1
        for kind, suffix in kinds:
            filename = f"{release.project.name}-{release.version}{suffix}"
            digest = f"{release.id:016x}{suffix}".encode().hex().ljust(64, "0")[:64]
            files.append(File(
                release=release, filename=filename, packagetype=kind,
                python_version="source" if kind == "sdist" else "py3",
                size=12345, md5_digest=digest[:32], sha256_digest=digest,
                blake2_256_digest=digest, upload_time=now,
                path=f"packages/{digest[:2]}/{digest[2:4]}/{digest[4:]}/{filename}",
                metadata_sha256=digest if kind == "bdist_wheel" else "",
            ))
    File.objects.bulk_create(files, batch_size=5000)
    print(f"populated {len(projects)} projects, {len(releases)} releases, {len(files)} files "
          f"in {time.perf_counter() - started:.1f}s", flush=True)


def wrk(paths: list[str], connections: int, duration: int, etag: str = "") -> dict:
    work = Path(tempfile.mkdtemp(prefix="indexsite-json-bench-"))
    try:
        (work / "paths.txt").write_text("\n".join(paths) + "\n")
        (work / "spread.lua").write_text(LUA)
        result = run_wrk(PORT, work / "spread.lua", connections, duration, "10s",
                         {"BENCH_PATHS": str(work / "paths.txt"), "BENCH_ETAG": etag})
    finally:
        shutil.rmtree(work, ignore_errors=True)
    del result["requests"]
    return result


def timed_get(path: str) -> tuple[float, bytes, dict]:
    started = time.perf_counter()
    with urllib.request.urlopen(f"http://127.0.0.1:{PORT}{path}", timeout=120) as response:
        body = response.read()
        headers = dict(response.headers)
    return time.perf_counter() - started, body, headers


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reuse", action="store_true", help="keep the populated database")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    args = parser.parse_args()
    require_tools("wrk", "redis-cli")
    cores = os.cpu_count() or 1
    if not args.reuse:
        reset_database(env())
        populate()
    flush_redis(CACHE_URL)

    results: dict = {}
    typical = [f"/pypi/typical-{i:03d}/json" for i in range(TYPICAL_PROJECTS)]
    server = start_gunicorn(PORT, env(), "-w", str(cores), "--backlog", "2048",
                            ready_path="/pypi/no-such-project/json")
    try:
        results["big_first_s"], big_body, headers = timed_get("/pypi/big/json")
        results["big_bytes"] = len(big_body)
        big = json.loads(big_body)
        results["big_releases"] = len(big["releases"])
        results["big_files"] = sum(len(f) for f in big["releases"].values())
        results["big_warm_s"] = min(timed_get("/pypi/big/json")[0] for _ in range(5))
        results["typical_first_s"], typical_body, _ = timed_get(typical[0])
        results["typical_bytes"] = len(typical_body)
        for path in typical:  # every typical document into the cache
            timed_get(path)
        for connections in (1, 16):
            wrk(typical, connections, 2)  # warm-up of every worker
            results[f"typical_c{connections}"] = wrk(typical, connections, args.duration)
            results[f"big_c{connections}"] = wrk(["/pypi/big/json"], connections, args.duration)
            results[f"big_304_c{connections}"] = wrk(
                ["/pypi/big/json"], connections, args.duration, etag=headers["ETag"]
            )
    finally:
        stop_gunicorn(server)

    print(f"\nJSON API benchmark: {cores} cores, gunicorn {cores} sync workers, PostgreSQL + "
          f"Redis, loopback, wrk {args.duration}s per run\n")
    print(f"typical project: {TYPICAL_RELEASES} releases x 2 files, "
          f"{results['typical_bytes'] / 1e3:.1f} kB; big project: {results['big_releases']} "
          f"releases, {results['big_files']} files, {results['big_bytes'] / 1e6:.2f} MB\n")
    print("| request | c | req/s | p50 ms | p99 ms | errors |")
    print("|---|---|---|---|---|---|")
    for label, key in (("/pypi/<typical>/json (200 projects)", "typical"),
                       ("/pypi/big/json", "big"), ("/pypi/big/json, If-None-Match (304)", "big_304")):
        for c in (1, 16):
            r = results[f"{key}_c{c}"]
            print(f"| {label} | {c} | {r['rps']:.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | "
                  f"{r['errors']} |")
    print(f"\nbig project, first request (built from PostgreSQL, cached in Redis): "
          f"{results['big_first_s']:.3f} s; warm single request: {results['big_warm_s']:.3f} s; "
          f"typical project first request: {results['typical_first_s']:.3f} s")
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
