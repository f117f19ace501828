"""Time ``manage.py importdists`` on 10,000 small generated distributions.

    .venv/bin/python bench/importdists_10k.py [--files 10000] [--database-url URL] [--jobs N]

In a scratch folder (removed at the end) it generates ``--files`` small valid
distributions — 2,500 projects x 2 versions x (wheel + sdist) for the default —
laid out like a bandersnatch mirror, then imports them into a fresh index
(SQLite and local storage by default; ``--database-url`` for PostgreSQL, whose
database is dropped and re-created) and prints the time, the rate in files/s
and the CPU seconds the import process used (on a shared machine the wall time
depends on the neighbours; the CPU time much less), then runs the import again
to time the "everything already present" pass. ``--jobs`` is passed on to
importdists (its default otherwise: 2 processes on PostgreSQL, 1 on SQLite);
the CPU time is that of all its processes.
"""

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, manage, recreate_database, server_env

sys.path.insert(0, str(ROOT))

from tests.dists import make_sdist, make_wheel  # noqa: E402


def generate(folder: Path, count: int) -> None:
    projects = max(count // 4, 1)
    made = 0
    for index in range(projects):
        name = f"bench-pkg-{index:05d}"
        for version in ("1.0", "1.1"):
            target = folder / "packages" / name[-2:] / name
            target.mkdir(parents=True, exist_ok=True)
            filename, content, _ = make_wheel(name, version)
            (target / filename).write_bytes(content)
            filename, content = make_sdist(name, version)
            (target / filename).write_bytes(content)
            made += 2
            if made >= count:
                return


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--jobs", type=int, default=None,
                        help="importdists --jobs (default: importdists' own default)")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="indexsite-import-bench-"))
    env = server_env(data_dir=scratch / "data", database_url=args.database_url or None)
    if args.database_url:
        recreate_database(args.database_url)
    try:
        (scratch / "data").mkdir()
        started = time.monotonic()
        generate(scratch / "mirror", args.files)
        print(f"generated {args.files} files in {time.monotonic() - started:.1f} s", flush=True)
        manage(env, "migrate", "-v0")
        manage(env, "shell", "-c",
               "from django.contrib.auth import get_user_model\n"
               "get_user_model().objects.create_user('bench', password='x')")
        jobs = ["--jobs", str(args.jobs)] if args.jobs is not None else []
        for label in ("first import", "second run (all present)"):
            started = time.monotonic()
            cpu_before = _children_cpu()
            result = manage(env, "importdists", str(scratch / "mirror"), "--owner", "bench",
                            "--no-progress", *jobs, check=False, capture_output=True, text=True)
            elapsed = time.monotonic() - started
            cpu = _children_cpu() - cpu_before
            summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
            # The load average says how far the wall time is the neighbours' doing.
            load = " ".join(f"{value:.2f}" for value in os.getloadavg())
            print(f"{label}: {elapsed:.1f} s, {args.files / elapsed:.0f} files/s "
                  f"(CPU {cpu:.1f} s, {args.files / cpu:.0f} files per CPU second; "
                  f"load {load}) -> {summary}", flush=True)
            if result.returncode != 0:
                print(result.stderr[-3000:])
                sys.exit(1)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
