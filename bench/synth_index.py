"""A synthetic index at PyPI's size, bulk-loaded with PostgreSQL COPY.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/indexsite_scale \\
        .venv/bin/python bench/synth_index.py --projects 700000 --files 10000000
    ... bench/synth_index.py --preset small          # 20k projects, 200k files

Migrates the database if needed, then writes users, projects, their Owner (and
some Maintainer) roles, releases, files, the Filename registry and the journal
(``create``, ``add Owner <user>``, ``new release``, ``add <pyver> file <name>``)
shaped like PyPI's: file counts per project follow a Pareto law (most projects
have a few files, a long tail has thousands), wheels and sdists with PyPI's file
names, random digests, sizes and upload times spread over 2005-2026. Serials
follow time across the whole index and every ``Project.last_serial`` is its
highest serial, as ``packages.journal`` keeps them.

The files are not written to storage (the benchmarks read metadata pages). The
tables' secondary indexes and constraints (and the foreign keys of other tables
that point at them) are dropped around the load and built again afterwards
(much faster than maintaining them row by row); their definitions are kept in
``synth_saved_ddl`` until rebuilt, so an interrupted run's next start restores
what is missing first. Each table is COPYed (psycopg 3, one connection per
table) with FREEZE in the transaction that TRUNCATEs it: rows frozen, pages
all-visible, so no later pass rewrites them and VACUUM has little to do. The
journal is kept in memory, sorted by time in Python and COPYed numbered, with
the projects (whose last_serial is then known) after it. The rebuild runs on
two connections (longest first, a job waiting for the locks it needs), starting
with the tables already written while the journal is sorted and written. The
loader refuses a database that already holds projects unless ``--reset``
(which TRUNCATEs the index's tables).
"""

import argparse
import math
import os
import random
import sys
import threading
import time
from array import array
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PRESETS = {"small": (20_000, 200_000), "full": (700_000, 10_000_000)}

# The tables written here; their secondary indexes and constraints (not the
# primary keys) are dropped during the load.
TABLES = ("auth_user", "packages_project", "packages_role", "packages_release",
          "packages_file", "packages_filename", "packages_journalentry")

START = datetime(2005, 3, 1, tzinfo=UTC)
END = datetime(2026, 11, 1, tzinfo=UTC)
SPAN = int((END - START).total_seconds())
# The biggest projects on PyPI have tens of thousands of files; a cap keeps the
# Pareto draw from giving one project a sizable share of the index.
MAX_FILES_PER_PROJECT = 30_000

WORDS = (
    "async aws azure bio cache cli cloud core data db django fast flask geo graph "
    "http image json kit lib log math ml net numpy open pandas parse plot py queue "
    "redis rest sci sdk search sql stats stream task test text time tools torch "
    "type util vector web xml yaml zen api auth box cfg crypt dash doc edge feed "
    "form grid hub io jet lens mail map meta node orm pipe pool port proto pulse "
    "ray route rpc scan schema sense shell signal sim slack snap spark spec stack "
    "sync tab tensor token trace tree vault view wave wire work"
).split()
TOPICS = ("parsing", "testing", "web services", "data analysis", "machine learning",
          "command-line tools", "databases", "image processing", "networking",
          "scientific computing", "cloud deployment", "logging", "configuration")
PYTHONS = ("cp38", "cp39", "cp310", "cp311", "cp312", "cp313")
PLATFORMS = ("manylinux_2_17_x86_64.manylinux2014_x86_64",
             "manylinux_2_17_aarch64.manylinux2014_aarch64", "musllinux_1_2_x86_64",
             "macosx_10_9_x86_64", "macosx_11_0_arm64", "win_amd64", "win32",
             "manylinux_2_17_i686.manylinux2014_i686")
# A release's files: sdist, pure wheel, then binary wheels (python x platform).
BINARY_TAGS = [(py, f"{py}-{py}-{plat}") for py in PYTHONS for plat in PLATFORMS]
MAX_FILES_PER_RELEASE = 2 + len(BINARY_TAGS)


def progress(label: str, done: int, total: int, started: float) -> None:
    elapsed = time.monotonic() - started
    rate = done / elapsed if elapsed else 0
    left = (total - done) / rate if rate else 0
    width = 30
    filled = int(width * done / total) if total else width
    sys.stderr.write(f"\r{label}: [{'#' * filled}{'.' * (width - filled)}] "
                     f"{done:,}/{total:,} {elapsed:,.0f}s elapsed, ~{left:,.0f}s left ")
    sys.stderr.flush()


def log(message: str) -> None:
    sys.stderr.write(f"[{datetime.now(UTC):%H:%M:%S}] {message}\n")
    sys.stderr.flush()


def file_counts(projects: int, files: int, rng: random.Random) -> list[int]:
    """Files per project: a Pareto draw (alpha 1.1) scaled so that the total is
    ``files`` exactly, each project at least one file."""
    weights = [rng.paretovariate(1.1) for _ in range(projects)]
    scale = (files - projects) / sum(weights)
    counts = [1 + min(MAX_FILES_PER_PROJECT - 1, int(w * scale)) for w in weights]
    missing = files - sum(counts)
    while missing > 0:
        i = rng.randrange(projects)
        if counts[i] < MAX_FILES_PER_PROJECT:
            add = min(missing, MAX_FILES_PER_PROJECT - counts[i], 1 + missing // 1000)
            counts[i] += add
            missing -= add
    return counts


class Stamps:
    """Fast text timestamps for COPY (datetime.isoformat per row costs too much)."""

    def __init__(self):
        days = SPAN // 86400 + 2
        self.days = [f"{START + timedelta(days=d):%Y-%m-%d} " for d in range(days)]

    def text(self, seconds: float) -> str:
        whole = int(seconds)
        d, s = divmod(whole, 86400)
        h, s = divmod(s, 3600)
        m, s = divmod(s, 60)
        micro = int((seconds - whole) * 1e6)
        return f"{self.days[d]}{h:02d}:{m:02d}:{s:02d}.{micro:06d}+00"


def default_tail(model, given: list[str]) -> tuple[list[str], str]:
    """The columns a row does not set and their COPY text: every other concrete
    field's Django default (these are Python-side defaults, not the database's)."""
    import json

    columns, values = [], []
    for field in model._meta.concrete_fields:
        if field.column in given or field.primary_key:
            continue
        default = field.get_default()
        if field.get_internal_type() == "JSONField":
            text = r"\N" if default is None else json.dumps(default)
        elif default is None:
            text = r"\N"
        elif isinstance(default, bool):
            text = "t" if default else "f"
        else:
            text = str(default)
        columns.append(field.column)
        values.append(text)
    return columns, "\t".join(values)


def canonical(major: int, minor: int, patch: int, pre: str) -> str:
    """packaging's canonicalize_version for X.Y.Z[rcN]: trailing zeros dropped."""
    parts = [major, minor, patch]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return ".".join(map(str, parts)) + pre


class Writer:
    """A COPY into one table on its own connection, fed text lines in batches."""

    def __init__(self, url: str, table: str, columns: list[str]):
        import psycopg

        self.conn = psycopg.connect(url)
        self.conn.execute("SET synchronous_commit = off")
        # FREEZE: the rows are written frozen and their pages all-visible (the
        # visibility map is set), so nothing rewrites them later for hint bits
        # and the final VACUUM has no heap to visit. PostgreSQL takes FREEZE only
        # into a table created or truncated in the COPY's own transaction: each
        # writer truncates its table first (no foreign key points at it during
        # the load, see drop_secondary; psycopg opens the transaction here and
        # close() commits it).
        self.conn.execute(f"TRUNCATE {table}")
        self.cursor = self.conn.cursor()
        self._copy_cm = self.cursor.copy(
            f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FREEZE)")
        self.copy = self._copy_cm.__enter__()
        self.buffer: list[str] = []
        self.rows = 0

    def add(self, line: str) -> None:
        self.buffer.append(line)
        if len(self.buffer) >= 5000:
            self.flush()

    def flush(self) -> None:
        if self.buffer:
            self.rows += len(self.buffer)
            self.copy.write("\n".join(self.buffer) + "\n")
            self.buffer = []

    def close(self) -> None:
        self.flush()
        self._copy_cm.__exit__(None, None, None)
        self.conn.commit()
        self.conn.close()


# The rebuild runs on WORKERS connections at once: a GIN (trigram, full-text)
# build and a foreign key check are single-threaded, and two B-tree builds on
# two cores keep both busy through their serial phases (the leader's merge and
# the writing of the index), where one build with parallel workers leaves a core
# idle. No parallel workers: they would split maintenance_work_mem (a whole
# sort in memory becomes an external one) on cores that are busy anyway.
WORKERS = 2
SESSION = ("SET statement_timeout = 0", "SET synchronous_commit = off",
           "SET maintenance_work_mem = '2GB'", "SET work_mem = '256MB'",
           "SET max_parallel_maintenance_workers = 1")


class Job:
    """A rebuild step: its statement, the tables it locks (``exclusive``: no
    other job on them at once; else shared with other shared jobs, as CREATE
    INDEX's SHARE lock is) and what must be done first (other jobs, or GATE)."""

    def __init__(self, label, sql, tables, exclusive, cost, ord_=None, after=()):
        self.label, self.sql, self.tables = label, sql, tuple(tables)
        self.exclusive, self.cost, self.ord, self.after = exclusive, cost, ord_, set(after)


# Stands in a job's prerequisites for "its table is written" (see restore_saved_ddl).
GATE = "tables written"


class Scheduler:
    """Runs jobs on ``workers`` connections, the costliest eligible one first.
    A job taken from synth_saved_ddl deletes its row in its own transaction, so
    an interrupted rebuild resumes with the steps still missing."""

    def __init__(self, url: str, jobs: list[Job], workers: int = WORKERS):
        self.url, self.workers = url, workers
        self.pending = sorted(jobs, key=lambda j: (-j.cost, j.ord or 0))
        self.total = len(jobs)
        self.done: set = set()
        self.finished = 0
        self.running: dict[str, list[int]] = {}  # table -> [shared, exclusive] jobs
        self.errors: list[BaseException] = []
        self.cond = threading.Condition()
        self.threads = [threading.Thread(target=self.work) for _ in range(workers)]
        self.started = time.monotonic()
        for thread in self.threads:
            thread.start()

    def release(self, token, error: BaseException | None = None) -> None:
        with self.cond:
            self.done.add(token)
            if error is not None:
                self.errors.append(error)
            self.cond.notify_all()

    def join(self) -> None:
        for thread in self.threads:
            thread.join()
        if self.errors:
            raise self.errors[0]

    def eligible(self, job: Job) -> bool:
        if not job.after <= self.done:
            return False
        for table in job.tables:
            shared, exclusive = self.running.get(table, [0, 0])
            if exclusive or (job.exclusive and shared):
                return False
        return True

    def next_job(self) -> Job | None:
        with self.cond:
            while True:
                if self.errors or not self.pending:
                    return None
                job = next((j for j in self.pending if self.eligible(j)), None)
                if job is not None:
                    break
                if GATE in self.done and not any(
                        sum(counts) for counts in self.running.values()):
                    # Nothing runs and nothing can start: a prerequisite is missing.
                    self.errors.append(RuntimeError(
                        f"cannot schedule {[j.label[:60] for j in self.pending]}"))
                    self.cond.notify_all()
                    return None
                self.cond.wait()
            self.pending.remove(job)
            for table in job.tables:
                self.running.setdefault(table, [0, 0])[1 if job.exclusive else 0] += 1
            return job

    def work(self) -> None:
        import psycopg

        try:
            conn = psycopg.connect(self.url, autocommit=True)
            for statement in SESSION:
                conn.execute(statement)
        except BaseException as exc:
            self.release(None, exc)
            return
        with conn:
            while (job := self.next_job()) is not None:
                t0 = time.monotonic()
                try:
                    if job.ord is None:  # VACUUM: outside a transaction
                        conn.execute(job.sql)
                    else:
                        with conn.transaction():
                            conn.execute(job.sql)
                            conn.execute("DELETE FROM synth_saved_ddl WHERE ord = %s",
                                         (job.ord,))
                except BaseException as exc:
                    log(f"  FAILED {job.label}: {exc}")
                    self.release(None, exc)
                    return
                with self.cond:
                    for table in job.tables:
                        self.running[table][1 if job.exclusive else 0] -= 1
                    self.done.add(id(job))
                    self.finished += 1
                    log(f"  ({self.finished}/{self.total}) {time.monotonic() - t0:6.1f}s "
                        f"[at {time.monotonic() - self.started:5.0f}s] {job.label[:100]}")
                    self.cond.notify_all()


def restore_saved_ddl(url: str, conn, vacuum=(), gated=(), meanwhile=None) -> None:
    """Rebuilds what synth_saved_ddl keeps (indexes, then each unique
    constraint attached to its index, then foreign keys once the tables they
    join are indexed) and VACUUM ANALYZEs the tables in ``vacuum`` once their
    own rebuild is over. With ``meanwhile``, a function run in this thread as
    the rebuild goes on: nothing touches the ``gated`` tables until it returns
    (it writes them)."""
    exists = conn.execute("SELECT to_regclass('synth_saved_ddl')").fetchone()[0]
    if not exists and not vacuum:
        return
    if exists and not conn.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = 'synth_saved_ddl'"
            "::regclass AND attname = 'kind')").fetchone()[0]:
        # Left by an older version of this script: its statements, in order.
        for (ddl,) in conn.execute("SELECT ddl FROM synth_saved_ddl ORDER BY ord").fetchall():
            conn.execute(ddl)
            log(f"  restored {ddl[:100]}")
        conn.execute("DROP TABLE synth_saved_ddl")
        conn.commit()
        return
    rows = conn.execute("SELECT ord, kind, tbl, parent, ddl FROM synth_saved_ddl "
                        "ORDER BY ord").fetchall() if exists else []
    names = {r[2] for r in rows} | {r[3] for r in rows if r[3]} | set(vacuum)
    sizes = dict(conn.execute("SELECT relname, pg_relation_size(oid) FROM pg_class "
                              "WHERE relname = ANY(%s)", (sorted(names),)).fetchall())
    conn.commit()
    jobs, by_table = [], {}

    def add(job: Job) -> None:
        if set(job.tables) & set(gated):
            job.after.add(GATE)
        jobs.append(job)
        for t in job.tables:
            by_table.setdefault(t, []).append(job)

    for kind in ("index", "attach", "fk"):
        for ord_, k, table, parent, ddl in rows:
            if k != kind:
                continue
            locked = (table, parent) if kind == "fk" else (table,)
            # The cost orders the jobs (longest first): the table's size, a GIN
            # build counted four times a B-tree's (trigrams, lexemes per row).
            if kind == "index":
                weight, after = (4 if " USING gin " in ddl else 1), set()
                # Idempotent if an interrupted run built it before its row went.
                ddl = ddl.replace(" INDEX ", " INDEX IF NOT EXISTS ", 1)
            elif kind == "attach":  # after its own index
                name = ddl.split(" USING INDEX ")[-1]
                weight, after = 0, {id(j) for j in by_table.get(table, ())
                                    if f" INDEX IF NOT EXISTS {name} ON " in j.sql}
            else:  # after every index of both tables (it would wait on their locks)
                weight, after = 0.5, {id(j) for t in locked for j in by_table.get(t, ())}
            add(Job(ddl, ddl, locked, kind != "index", sizes.get(table, 0) * weight,
                    ord_, after))
    for table in vacuum:
        add(Job(f"VACUUM ANALYZE {table}", f"VACUUM ANALYZE {table}", (table,),
                True, 0, None, {id(j) for j in by_table.get(table, ())}))
    started = time.monotonic()
    scheduler = Scheduler(url, jobs)
    try:
        if meanwhile is not None:
            meanwhile()
    except BaseException as exc:
        scheduler.release(GATE, exc)
        raise
    finally:
        scheduler.release(GATE)
        scheduler.join()
    if exists and not conn.execute("SELECT EXISTS (SELECT 1 FROM synth_saved_ddl)"
                                   ).fetchone()[0]:
        conn.execute("DROP TABLE synth_saved_ddl")
    conn.commit()
    log(f"rebuilt {len(rows)} indexes/constraints and vacuumed {len(vacuum)} tables in "
        f"{time.monotonic() - started:.0f}s on {WORKERS} connections")


def drop_secondary(conn) -> None:
    """Keep the definitions of the tables' secondary indexes and constraints in
    synth_saved_ddl, then drop them (primary keys stay: ids are written in order).
    Foreign keys from other tables that point at these (tokens, the admin log)
    go too, so that each COPY may TRUNCATE its table (for FREEZE). A unique
    constraint is kept as its index plus an ``ADD CONSTRAINT ... USING INDEX``:
    the index builds beside the others (ADD CONSTRAINT UNIQUE would lock the
    table against them), and the result is the same constraint."""
    tables = ", ".join(f"'{t}'::regclass" for t in TABLES)
    constraints = conn.execute(f"""
        SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), contype,
               confrelid::regclass::text, pg_get_indexdef(conindid)
        FROM pg_constraint
        WHERE (conrelid IN ({tables}) AND contype = 'u')
           OR (contype = 'f' AND (conrelid IN ({tables}) OR confrelid IN ({tables})))
        ORDER BY contype DESC, conname""").fetchall()  # unique before foreign keys
    indexes = conn.execute(f"""
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid),
               i.indrelid::regclass::text
        FROM pg_index i WHERE i.indrelid IN ({tables}) AND NOT i.indisprimary
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid
                          AND c.contype IN ('p', 'u'))
        ORDER BY 1""").fetchall()
    conn.execute("CREATE TABLE synth_saved_ddl (ord serial PRIMARY KEY, kind text NOT NULL, "
                 "tbl text NOT NULL, parent text, ddl text NOT NULL)")
    saved = []
    for t, name, _definition, kind, _parent, indexdef in constraints:
        if kind == "u":
            saved.append(("index", t, None, indexdef))
            saved.append(("attach", t, None,
                          f"ALTER TABLE {t} ADD CONSTRAINT {name} UNIQUE USING INDEX {name}"))
    saved += [("index", t, None, definition) for _, definition, t in indexes]
    saved += [("fk", t, parent, f"ALTER TABLE {t} ADD CONSTRAINT {name} {definition}")
              for t, name, definition, kind, parent, _ in constraints if kind == "f"]
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO synth_saved_ddl (kind, tbl, parent, ddl) "
                        "VALUES (%s, %s, %s, %s)", saved)
    for t, name, _, _kind, _, _ in sorted(constraints, key=lambda c: c[3] != "f"):
        conn.execute(f"ALTER TABLE {t} DROP CONSTRAINT {name}")
    for name, _, _ in indexes:
        conn.execute(f"DROP INDEX {name}")
    conn.commit()
    log(f"dropped {len(constraints)} constraints and {len(indexes)} indexes for the load")


def load(url: str, n_projects: int, n_files: int, seed: int) -> dict:
    from packages.models import File, Project, Release
    from packages.names import ultranormalize_name

    rng = random.Random(seed)
    stamps = Stamps()
    counts = file_counts(n_projects, n_files, rng)
    n_users = max(10, n_projects // 4)
    log(f"{n_projects:,} projects, {n_files:,} files (largest {max(counts):,}, median "
        f"{sorted(counts)[n_projects // 2]}), {n_users:,} users")

    # Users: a few own many projects (a Pareto pick), most own one or two.
    usernames = [f"user{i}" for i in range(1, n_users + 1)]
    users = Writer(url, "auth_user", ["id", "password", "last_login", "is_superuser",
                                      "username", "first_name", "last_name", "email",
                                      "is_staff", "is_active", "date_joined"])
    for i, username in enumerate(usernames, 1):
        joined = stamps.text(rng.random() * SPAN)
        users.add(f"{i}\t!\t\\N\tf\t{username}\t\t\t{username}@example.org\tf\tt\t{joined}")
    users.close()

    given = {
        Project: ["id", "name", "normalized_name", "ultranormalized_name", "created",
                  "last_serial", "status", "total_size"],
        Release: ["id", "project_id", "version", "canonical_version", "is_prerelease",
                  "created", "uploader_id", "metadata_version", "summary", "author",
                  "requires_python", "license"],
        File: ["id", "release_id", "filename", "packagetype", "python_version",
               "requires_python", "size", "md5_digest", "sha256_digest",
               "blake2_256_digest", "upload_time", "path", "uploader_id",
               "metadata_sha256", "metadata_blake2_256"],
    }
    writers, tails, project_columns = {}, {}, []
    for model, columns in given.items():
        rest, tails[model] = default_tail(model, columns)
        if model is Project:
            project_columns = columns + rest
        else:
            writers[model] = Writer(url, model._meta.db_table, columns + rest)
    roles = Writer(url, "packages_role", ["project_id", "user_id", "role_name"])
    filenames = Writer(url, "packages_filename", ["id", "filename", "created"])
    # Serials follow time over the whole index: the journal is kept here (each
    # entry's instant, its text and its project), sorted by time once every
    # project is drawn and written numbered (write_journal), together with the
    # projects, whose last_serial is then known: no staging table, no sort and
    # UPDATE in PostgreSQL, and both tables are COPYed frozen like the others.
    j_time: list[float] = []
    j_text: list[str] = []
    j_project = array("i")
    project_rows: list[tuple[str, str]] = []

    release_id = file_id = 0
    getbits = rng.getrandbits
    started = time.monotonic()
    for pid in range(1, n_projects + 1):
        f_count = counts[pid - 1]
        word_a, word_b = rng.choice(WORDS), rng.choice(WORDS)
        style = rng.random()
        if style < 0.5:
            name = f"{word_a}-{word_b}-{pid}"
        elif style < 0.8:
            name = f"{word_a}_{word_b}{pid}"
        else:
            name = f"{word_a.capitalize()}{word_b.capitalize()}{pid}"
        normalized = name.lower().replace("_", "-")
        dist = normalized.replace("-", "_")
        # More projects are created in recent years, as on PyPI.
        created = SPAN * rng.random() ** 0.5
        active_until = created + (SPAN - created) * rng.random() ** 0.5
        owner = min(n_users, int(rng.paretovariate(1.0)) + rng.randrange(n_users) // 2)
        owner_name = usernames[owner - 1]
        summary = f"A {word_a} {word_b} library for {rng.choice(TOPICS)}"

        per_release = 2 if f_count < 100 else rng.choice((2, 5, 12, 24, 48))
        per_release = min(per_release, MAX_FILES_PER_RELEASE)
        n_releases = max(1, round(f_count / per_release),
                         math.ceil(f_count / MAX_FILES_PER_RELEASE))
        base, extra = divmod(f_count, n_releases)
        sdist_only = f_count == n_releases and rng.random() < 0.5

        def event(t, version, action, *, head=f"{name}\t", by=owner_name, pid=pid):
            j_time.append(t)
            j_text.append(f"{head}{version}\t{action}\t{by}")
            j_project.append(pid)

        event(created, r"\N", "create")
        event(created + 0.001, r"\N", f"add Owner {owner_name}")
        roles.add(f"{pid}\t{owner}\tOwner")
        if rng.random() < 0.1:
            maintainer = rng.randrange(1, n_users + 1)
            if maintainer != owner:
                roles.add(f"{pid}\t{maintainer}\tMaintainer")
                event(created + 0.002, r"\N", f"add Maintainer {usernames[maintainer - 1]}")

        major, minor, patch = 0, rng.randrange(1, 5), 0
        total_size = 0
        step = (active_until - created) / n_releases
        for j in range(n_releases):
            roll = rng.random()
            if roll < 0.05:
                major, minor, patch = major + 1, 0, 0
            elif roll < 0.3:
                minor, patch = minor + 1, 0
            else:
                patch += 1
            pre = f"rc{rng.randrange(1, 4)}" if rng.random() < 0.03 else ""
            version = f"{major}.{minor}.{patch}{pre}"
            release_id += 1
            r_time = created + 1 + step * (j + rng.random() * 0.9)
            requires_python = ">=3.8" if r_time > SPAN * 0.6 else ""
            writers[Release].add(
                f"{release_id}\t{pid}\t{version}\t{canonical(major, minor, patch, pre)}\t"
                f"{'t' if pre else 'f'}\t{stamps.text(r_time)}\t{owner}\t2.1\t{summary}\t"
                f"{owner_name}\t{requires_python}\tMIT\t{tails[Release]}")
            event(r_time, version, "new release")
            n_here = base + (1 if j >= n_releases - extra else 0)
            for i in range(n_here):
                file_id += 1
                if i == 0:
                    kind = "sdist" if (n_here > 1 or sdist_only) else "wheel"
                    if kind == "sdist":
                        filename = f"{dist}-{version}.tar.gz"
                    else:
                        filename = f"{dist}-{version}-py3-none-any.whl"
                    pyver = "source" if kind == "sdist" else "py3"
                elif i == 1:
                    kind, pyver = "wheel", "py3"
                    filename = f"{dist}-{version}-py3-none-any.whl"
                else:
                    kind = "wheel"
                    pyver, tag = BINARY_TAGS[i - 2]
                    filename = f"{dist}-{version}-{tag}.whl"
                size = int(rng.lognormvariate(10.5, 1.6)) + 300
                total_size += size
                blake = f"{getbits(256):064x}"
                f_time = stamps.text(r_time + i * 2)
                if kind == "wheel":
                    meta = f"{getbits(256):064x}\t{getbits(256):064x}"
                    packagetype = "bdist_wheel"
                else:
                    meta = "\t"
                    packagetype = "sdist"
                writers[File].add(
                    f"{file_id}\t{release_id}\t{filename}\t{packagetype}\t{pyver}\t"
                    f"{requires_python}\t{size}\t{getbits(128):032x}\t{getbits(256):064x}\t"
                    f"{blake}\t{f_time}\t"
                    f"packages/{blake[:2]}/{blake[2:4]}/{blake[4:]}/{filename}\t{owner}\t"
                    f"{meta}\t{tails[File]}")
                filenames.add(f"{file_id}\t{filename}\t{f_time}")
                event(r_time + i * 2 + 0.5, version, f"add {pyver} file {filename}")
        project_rows.append((
            f"{pid}\t{name}\t{normalized}\t{ultranormalize_name(name)}\t"
            f"{stamps.text(created)}\t", f"\tactive\t{total_size}\t{tails[Project]}"))
        if pid % 2000 == 0 or pid == n_projects:
            progress("rows", file_id, n_files, started)
    sys.stderr.write("\n")
    for writer in (*writers.values(), roles, filenames):
        writer.close()
    log(f"COPY done in {time.monotonic() - started:.0f}s: {release_id:,} releases, "
        f"{file_id:,} files ({len(j_time):,} journal entries to number)")
    return {"releases": release_id, "files": file_id, "journal": len(j_time),
            "pending": (j_time, j_text, j_project, project_rows, project_columns)}


def write_journal(url: str, pending: tuple) -> None:
    """The journal numbered in time order (ties in drawing order), then the
    projects with their last_serial: the serial of their last entry."""
    j_time, j_text, j_project, project_rows, project_columns = pending
    started = time.monotonic()
    # Floats compare fast in CPython's sort; sorted() is stable, so equal
    # instants keep the order they were drawn in.
    order = sorted(range(len(j_time)), key=j_time.__getitem__)
    log(f"journal sorted by time in {time.monotonic() - started:.0f}s")
    stamp = Stamps().text
    last = [0] * (len(project_rows) + 1)
    journal = Writer(url, "packages_journalentry",
                     ["id", "name", "version", "action", "submitted_by", "submitted_date"])
    chunk = 20_000
    for first in range(0, len(order), chunk):
        ks = order[first:first + chunk]
        serials = range(first + 1, first + 1 + len(ks))
        journal.copy.write("\n".join([f"{serial}\t{j_text[k]}\t{stamp(j_time[k])}"
                                      for serial, k in zip(serials, ks, strict=True)]) + "\n")
        for serial, k in zip(serials, ks, strict=True):
            last[j_project[k]] = serial  # serials rise: the last one is the highest
        journal.rows += len(ks)
    journal.close()
    log(f"journal written in {time.monotonic() - started:.0f}s: {len(order):,} entries")
    del order
    projects = Writer(url, "packages_project", project_columns)
    for pid, (head, tail) in enumerate(project_rows, 1):
        projects.add(f"{head}{last[pid]}{tail}")
    projects.close()
    log(f"projects written with their last_serial in {time.monotonic() - started:.0f}s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--projects", type=int)
    parser.add_argument("--files", type=int)
    parser.add_argument("--preset", choices=sorted(PRESETS))
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--reset", action="store_true",
                        help="TRUNCATE the index's tables first")
    args = parser.parse_args()
    n_projects, n_files = PRESETS[args.preset] if args.preset else (None, None)
    n_projects = args.projects or n_projects
    n_files = args.files or n_files
    if not n_projects or not n_files or n_files < n_projects:
        parser.error("give --projects and --files (files >= projects), or --preset")
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("DATABASE_URL must point at a PostgreSQL database")

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "indexsite.settings")
    os.environ.setdefault("SECRET_KEY", "synth-index-only")
    import django
    import psycopg

    django.setup()
    from django.core.management import call_command

    wall = time.monotonic()
    call_command("migrate", verbosity=0)
    log("migrated")
    conn = psycopg.connect(url)
    conn.execute("SET statement_timeout = 0")
    restore_saved_ddl(url, conn)
    if conn.execute("SELECT EXISTS (SELECT 1 FROM packages_project)").fetchone()[0]:
        if not args.reset:
            sys.exit("the database already holds projects: --reset to TRUNCATE them")
        conn.execute("TRUNCATE packages_project, packages_release, packages_file, "
                     "packages_filename, packages_journalentry, packages_role, auth_user "
                     "RESTART IDENTITY CASCADE")
        conn.commit()
        log("truncated")
    drop_secondary(conn)
    conn.execute("DROP TABLE IF EXISTS synth_journal_stage")  # an older run's
    conn.commit()

    phases = {}
    step = time.monotonic()
    counts = load(url, n_projects, n_files, args.seed)
    phases["COPY"] = time.monotonic() - step

    # The tables already written get their indexes, constraints and VACUUM
    # ANALYZE while the journal is sorted and written (a Python sort on one
    # core, PostgreSQL's builds on the other); the journal's and the projects'
    # own follow once they are written.
    step = time.monotonic()
    journal_done = []

    def journal() -> None:
        write_journal(url, counts.pop("pending"))
        journal_done.append(time.monotonic() - step)
        for table in TABLES:
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                         f"(SELECT coalesce(max(id), 1) FROM {table}))")
        conn.commit()

    restore_saved_ddl(url, conn, vacuum=TABLES, meanwhile=journal,
                      gated=("packages_project", "packages_journalentry"))
    phases["journal and projects (beside the rebuild)"] = journal_done[0]
    phases["indexes, constraints, VACUUM ANALYZE"] = time.monotonic() - step
    size = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))"
                        ).fetchone()[0]
    conn.close()
    log("phases: " + ", ".join(f"{name} {seconds:,.0f}s" for name, seconds in phases.items()))
    log(f"done in {time.monotonic() - wall:,.0f}s: {n_projects:,} projects, "
        f"{counts['releases']:,} releases, {counts['files']:,} files, "
        f"{counts['journal']:,} journal entries; database {size}")


if __name__ == "__main__":
    main()
