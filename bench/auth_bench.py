"""Benchmark of private reads (INDEX_READ_AUTH=authenticated): what HTTP Basic
credentials cost per request.

    .venv/bin/python bench/auth_bench.py [--reads 1000]

Needs PostgreSQL (BENCH_AUTH_DATABASE_URL, default
postgresql://postgres@127.0.0.1:5432/indexsite_auth_bench, dropped and re-created)
and Redis (BENCH_AUTH_CACHE_URL, default redis://127.0.0.1:6379/11, flushed),
and ``redis-cli``. It

1. creates a user whose password is hashed with the production hasher (Django's
   PBKDF2), a read-only API token of that user and one project, and times one
   password verification in this process;
2. starts gunicorn (one gthread worker per core, keep-alive, as simple_bench.py)
   with private reads and times ``--reads`` sequential GETs of
   ``/simple/<project>/`` over one kept-alive connection: with the token, then
   with the password (verified once, then remembered);
3. restarts it with INDEX_AUTH_VERIFIED_SECONDS=0, the old behaviour of hashing
   every request, and times 20 password reads;
4. sends wrong passwords until the throttle answers 429, timing both kinds of
   answer; then prints a table.
"""

import argparse
import base64
import http.client
import json
import os
import statistics
import time

from common import (
    flush_redis,
    free_port,
    require_tools,
    reset_database,
    server_env,
    setup_django,
    start_gunicorn,
    stop_gunicorn,
)

DATABASE_URL = os.environ.get(
    "BENCH_AUTH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/indexsite_auth_bench"
)
CACHE_URL = os.environ.get("BENCH_AUTH_CACHE_URL", "redis://127.0.0.1:6379/11")
PROJECT = "bench-private"
USERNAME = "bench-reader"
PASSWORD = "a-bench-password-that-is-long"
UNCACHED_READS = 20


def env(**extra):
    return server_env(database_url=DATABASE_URL, cache_url=CACHE_URL,
                      data_dir="indexsite-auth-bench-data", INDEX_READ_AUTH="authenticated",
                      **extra)


def populate() -> dict:
    """The user, its token and the project; the cost of one password check."""
    setup_django(env())
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import check_password, get_hasher

    from packages.curation.tokens import create_token
    from packages.models import Project

    user = get_user_model().objects.create_user(USERNAME, password=PASSWORD)
    token = create_token(user, read_only=True, description="auth bench")[1]
    Project.objects.create(name=PROJECT)
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        assert check_password(PASSWORD, user.password)
        timings.append(time.perf_counter() - started)
    return {"token": token, "hasher": get_hasher().algorithm,
            "iterations": get_hasher().iterations, "hash_s": statistics.median(timings)}


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def timed_reads(port: int, authorization: str, count: int) -> dict:
    """``count`` GETs on one kept-alive connection: total seconds and latencies."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    statuses: dict[int, int] = {}
    latencies = []
    started = time.perf_counter()
    for _ in range(count):
        before = time.perf_counter()
        connection.request("GET", f"/simple/{PROJECT}/", headers={"Authorization": authorization})
        response = connection.getresponse()
        response.read()
        latencies.append(time.perf_counter() - before)
        statuses[response.status] = statuses.get(response.status, 0) + 1
    total = time.perf_counter() - started
    connection.close()
    latencies.sort()
    return {"reads": count, "total_s": total, "per_1000_s": total / count * 1000,
            "p50_ms": latencies[len(latencies) // 2] * 1000,
            "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
            "statuses": statuses}


def wrong_passwords(port: int) -> dict:
    """Wrong passwords until 429: mean time of the 401s and of the 429s."""
    by_status: dict[int, list[float]] = {}
    retry_after = None
    for _ in range(15):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        before = time.perf_counter()
        connection.request("GET", f"/simple/{PROJECT}/",
                           headers={"Authorization": basic(USERNAME, "wrong")})
        response = connection.getresponse()
        response.read()
        by_status.setdefault(response.status, []).append(time.perf_counter() - before)
        retry_after = response.headers.get("Retry-After") or retry_after
        connection.close()
    return {str(status): {"count": len(t), "mean_ms": statistics.mean(t) * 1000}
            for status, t in by_status.items()} | {"retry_after": retry_after}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reads", type=int, default=1000)
    args = parser.parse_args()
    require_tools("redis-cli")
    cores = os.cpu_count() or 1
    options = ["-w", str(cores), "-k", "gthread", "--threads", "1", "--keep-alive", "30"]
    reset_database(env())
    results: dict = populate()
    token = results.pop("token")

    flush_redis(CACHE_URL)
    port = free_port()
    server = start_gunicorn(port, env(), *options, ready_path="/simple/")
    try:
        timed_reads(port, basic("__token__", token), 50)  # warm-up of the workers
        results["token"] = timed_reads(port, basic("__token__", token), args.reads)
        results["password"] = timed_reads(port, basic(USERNAME, PASSWORD), args.reads)
        results["wrong"] = wrong_passwords(port)
    finally:
        stop_gunicorn(server)

    flush_redis(CACHE_URL)
    port = free_port()
    server = start_gunicorn(port, env(INDEX_AUTH_VERIFIED_SECONDS="0"), *options,
                            ready_path="/simple/")
    try:
        results["password_uncached"] = timed_reads(port, basic(USERNAME, PASSWORD),
                                                   UNCACHED_READS)
    finally:
        stop_gunicorn(server)

    print(f"\nPrivate reads: {cores} cores, gunicorn {cores} gthread workers, PostgreSQL + "
          f"Redis, loopback, sequential requests on one connection\n")
    print(f"one password verification in-process ({results['hasher']}, "
          f"{results['iterations']:,} iterations): {results['hash_s'] * 1000:.0f} ms\n")
    print("| credentials | reads | s per 1,000 reads | p50 ms | p99 ms | statuses |")
    print("|---|---|---|---|---|---|")
    for label, key in (("API token (`__token__`)", "token"),
                       ("password, remembered after the first", "password"),
                       ("password, hashed every time (INDEX_AUTH_VERIFIED_SECONDS=0)",
                        "password_uncached")):
        r = results[key]
        print(f"| {label} | {r['reads']:,} | {r['per_1000_s']:.2f} | {r['p50_ms']:.2f} | "
              f"{r['p99_ms']:.2f} | {r['statuses']} |")
    wrong = results["wrong"]
    print("\nwrong passwords, one connection each: "
          + ", ".join(f"{s}: {w['count']} x {w['mean_ms']:.1f} ms"
                      for s, w in wrong.items() if s != "retry_after")
          + f" (Retry-After: {wrong['retry_after']})")
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
