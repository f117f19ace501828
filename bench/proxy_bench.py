"""Benchmark of the upstream proxy (issue 12), in one run:

    .venv/bin/python bench/proxy_bench.py [--packages 20] [--requests 500]

1. starts two instances of this index under gunicorn (2 workers each, SQLite,
   DEBUG off): the upstream, holding ``--packages`` projects with two releases of
   an installable wheel each, and the proxy, with INDEX_UPSTREAM_URL pointing at
   the upstream and one local project;
2. times ``uv pip install`` (no cache) and ``pip install`` of all the upstream
   projects into fresh virtual environments: from the upstream directly, through
   the proxy cold (pages and files fetched, checked and kept on the way), and
   through the proxy warm (everything kept);
3. times ``/simple/<p>/`` (pip's Accept header, one keep-alive connection, c=1)
   and ``/pypi/<p>/json`` of a kept upstream project against a local one:
   requests/s, p50 and p99,
   from Python (requests) and, when installed, with wrk (``--wrk-seconds``,
   c=1 and c=4), which measures the server rather than the client.

``--cache-url redis://...`` gives the proxy a shared cache (as in production);
without it the proxy uses the embedded default (each worker's local memory).
``--skip-installs`` times the pages only (the proxy keeps the page on the way).

Everything stays on 127.0.0.1; nothing reaches the internet.
"""

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.client_env import BIN, client_env  # noqa: E402
from tests.gunicorn_server import start_gunicorn  # noqa: E402

PIP_ACCEPT = ("application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; "
              "q=0.1, text/html; q=0.01")


def upstream_setup(count: int) -> str:
    return (
        "from tests.factories import publish\n"
        f"for i in range({count}):\n"
        "    publish(f'uppkg{i:03d}', '1.0', sdist=False)\n"
        "    publish(f'uppkg{i:03d}', '1.1', sdist=False)\n"
    )


def timed_install(tool: str, index_url: str, names: list[str], tmp: Path) -> float:
    venv = Path(tempfile.mkdtemp(dir=tmp))
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    if tool == "pip":
        command = [str(BIN / "python"), "-m", "pip", "--python", python, "install", "-q",
                   "--index-url", index_url, *names]
    else:
        command = [str(BIN / "uv"), "pip", "install", "-q", "--python", python,
                   "--index-url", index_url, *names]
    started = time.perf_counter()
    result = subprocess.run(command, env=client_env(), capture_output=True, text=True,
                            timeout=600)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{tool} failed:\n{result.stdout}{result.stderr}")
    return elapsed


def page_latency(url: str, count: int) -> tuple[float, float, float]:
    """(requests/s, p50 ms, p99 ms) of ``count`` sequential GETs on one connection."""
    session = requests.Session()
    session.headers["Accept"] = PIP_ACCEPT
    for _ in range(20):  # warm: caches, connections, the kept page
        session.get(url, timeout=30).raise_for_status()
    times = []
    started = time.perf_counter()
    for _ in range(count):
        t = time.perf_counter()
        response = session.get(url, timeout=30)
        times.append((time.perf_counter() - t) * 1000)
        response.raise_for_status()
    total = time.perf_counter() - started
    times.sort()
    return count / total, statistics.median(times), times[int(len(times) * 0.99) - 1]


def wrk_latency(url: str, seconds: int, connections: int) -> tuple[float, float, float]:
    """(requests/s, p50 ms, p99 ms) as wrk measures them (one thread)."""
    result = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency",
         "-H", f"Accept: {PIP_ACCEPT}", url],
        capture_output=True, text=True, check=True, timeout=seconds + 60,
    )
    out = result.stdout
    if "Non-2xx" in out:
        raise SystemExit(f"wrk saw errors for {url}:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return rps, _wrk_ms(out, "50%"), _wrk_ms(out, "99%")


def _wrk_ms(out: str, percentile: str) -> float:
    value, unit = re.search(rf"{percentile}\s+([\d.]+)(us|ms|s)\b", out).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packages", type=int, default=20)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--wrk-seconds", type=int, default=10)
    parser.add_argument("--cache-url", default="", help="the proxy's CACHE_URL (Redis)")
    parser.add_argument("--skip-installs", action="store_true")
    args = parser.parse_args()
    names = [f"uppkg{i:03d}" for i in range(args.packages)]
    tmp = Path(tempfile.mkdtemp(prefix="proxy-bench-"))
    upstream = start_gunicorn(tmp / "upstream", workers=2, setup=upstream_setup(args.packages))
    proxy = None
    try:
        proxy = start_gunicorn(
            tmp / "proxy", workers=2, INDEX_UPSTREAM_URL=f"{upstream.url}/simple/",
            INDEX_UPSTREAM_MODE="open", INDEX_UPSTREAM_COOLDOWN="0",
            setup="from tests.factories import publish\npublish('localpkg', '1.0')\n",
            **({"CACHE_URL": args.cache_url} if args.cache_url else {}),
        )
        rows = []
        for tool in () if args.skip_installs else ("uv", "pip"):
            direct = timed_install(tool, f"{upstream.url}/simple/", names, tmp)
            if tool == "uv":
                cold = timed_install(tool, f"{proxy.url}/simple/", names, tmp)
            else:  # uv made the proxy keep everything; pip starts cold on a fresh proxy
                cold = None
            warm = timed_install(tool, f"{proxy.url}/simple/", names, tmp)
            rows.append((tool, direct, cold, warm))
        pages = {"kept upstream project": f"{proxy.url}/simple/uppkg000/",
                 "local project": f"{proxy.url}/simple/localpkg/",
                 "kept upstream project, JSON API": f"{proxy.url}/pypi/uppkg000/json",
                 "local project, JSON API": f"{proxy.url}/pypi/localpkg/json"}
        python_rows = {label: page_latency(url, args.requests) for label, url in pages.items()}
        wrk_rows = {}
        if shutil.which("wrk") and args.wrk_seconds:
            for connections in (1, 4):
                for label, url in pages.items():
                    wrk_rows[label, connections] = wrk_latency(url, args.wrk_seconds,
                                                               connections)
    finally:
        if proxy is not None:
            proxy.stop()
        upstream.stop()

    if rows:
        print(f"\nInstall {args.packages} packages (2 releases each, wheels), seconds:\n")
        print("| client | from the upstream directly | through the proxy, cold | "
              "through the proxy, warm |")
        print("|---|---|---|---|")
        for tool, direct, cold, warm in rows:
            cold_text = f"{cold:.2f}" if cold is not None else "(kept by the uv run)"
            print(f"| {tool} | {direct:.2f} | {cold_text} | {warm:.2f} |")
    cache = "Redis" if args.cache_url else "local memory"
    print(f"\n`/simple/<p>/` and `/pypi/<p>/json` warm, proxy cache: {cache}; Python client, c=1, "
          f"{args.requests} requests on one connection:\n")
    print("| page | req/s | p50 ms | p99 ms |")
    print("|---|---|---|---|")
    for label, (rps, p50, p99) in python_rows.items():
        print(f"| {label} | {rps:,.0f} | {p50:.2f} | {p99:.2f} |")
    if wrk_rows:
        print(f"\nThe same with wrk, {args.wrk_seconds} s each:\n")
        print("| page | connections | req/s | p50 ms | p99 ms |")
        print("|---|---|---|---|---|")
        for (label, connections), (rps, p50, p99) in wrk_rows.items():
            print(f"| {label} | {connections} | {rps:,.0f} | {p50:.2f} | {p99:.2f} |")


if __name__ == "__main__":
    main()
