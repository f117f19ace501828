"""Purge latency: from a change's commit to the first request through Varnish
that shows it.

    .venv/bin/python bench/purge_latency.py [--changes 200] [--projects 20]

Starts a private redis-server (the broker), gunicorn on a database of its own
(PostgreSQL when DATABASE_URL points there, else SQLite), one Celery worker
(solo pool) and varnishd with deploy/varnish.vcl in front of gunicorn. Then,
``--changes`` times: warm a project's /simple/ page in Varnish (a HIT), yank or
unyank its release with the domain operation (this process, same database and
broker), note the commit time (an on_commit callback registered before the
change's own), and poll the page through Varnish until it shows the change.
Prints p50/p90/p99/max in milliseconds. Needs varnishd with the xkey vmod.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.gunicorn_server import free_port, start_gunicorn  # noqa: E402
from tests.packages.cache.processes import RedisServer, Varnish, celery, stop  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--projects", type=int, default=20)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="purge-latency-"))
    broker = RedisServer(tmp / "redis")
    varnish_port = free_port()
    setup = ("from tests.factories import publish\n"
             f"for i in range({args.projects}): publish(f'lat{{i}}', '1.0', sdist=False)\n")
    server = start_gunicorn(
        tmp / "server", workers=2, setup=setup, CELERY_BROKER_URL=broker.url,
        INDEX_CDN_PURGE_URL=f"http://127.0.0.1:{varnish_port}/", INDEX_CDN_CATCHUP_SECONDS="0",
    )
    varnish = worker = None
    try:
        varnish = Varnish(server.url, tmp / "varnish", port=varnish_port)
        worker = celery(server.env, tmp / "worker.log", "worker", "--pool", "solo",
                        "--without-gossip", "--without-mingle", "--without-heartbeat",
                        "-l", "WARNING")
        latencies = run(server, varnish, args)
    finally:
        if worker is not None:
            stop(worker)
        if varnish is not None:
            varnish.stop()
        server.stop()
        broker.stop()
    database = "PostgreSQL" if "postgres" in server.env.get("DATABASE_URL", "") else "SQLite"
    print(f"{len(latencies)} changes ({database}, gunicorn 2 workers, 1 solo Celery worker, "
          "Varnish with xkey), commit -> first fresh page through Varnish, ms:")
    figures = {"p50": percentile(latencies, 0.5), "p90": percentile(latencies, 0.9),
               "p99": percentile(latencies, 0.99), "max": max(latencies),
               "mean": statistics.mean(latencies)}
    print("  ".join(f"{name} {value:.1f}" for name, value in figures.items()))
    print("slowest:", ", ".join(f"{value:.0f}" for value in sorted(latencies)[-5:]))


def run(server, varnish, args) -> list[float]:
    # This process makes the changes, as a web node or the admin would.
    os.environ.update(server.env)
    import django

    django.setup()
    import requests
    from django.db import transaction

    from packages.curation.yanking import unyank_release, yank_release
    from packages.models import Release

    session = requests.Session()
    releases = list(Release.objects.filter(project__name__startswith="lat"))
    latencies = []
    # Wait for the worker: the setup's purges are consumed once it is up. The
    # first changes (connections, imports) are not counted.
    import redis

    queue = redis.Redis.from_url(server.env["CELERY_BROKER_URL"])
    while queue.llen("celery"):
        time.sleep(0.1)
    warm_up = 5
    for n in range(args.changes + warm_up):
        release = releases[n % len(releases)]
        url = f"{varnish.url}/simple/{release.project.normalized_name}/"
        for _ in range(50):
            if session.get(url, timeout=10).headers["X-Cache"] == "HIT":
                break
            time.sleep(0.01)
        else:
            raise RuntimeError(f"{url} never became a HIT")
        release.refresh_from_db()
        yanking = not release.yanked
        committed = []
        with transaction.atomic():
            # Registered first, so it runs first after commit, before the
            # change's own callback queues the purge.
            transaction.on_commit(lambda mark=committed: mark.append(time.perf_counter()))
            if yanking:
                yank_release(release, reason="bench")
            else:
                unyank_release(release)
        deadline = time.monotonic() + 30
        while True:
            shows = "data-yanked" in session.get(url, timeout=10).text
            if shows == yanking:
                if n >= warm_up:
                    latencies.append((time.perf_counter() - committed[0]) * 1000)
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"change {n} never showed through Varnish")
            time.sleep(0.0005)
    return latencies


if __name__ == "__main__":
    main()
