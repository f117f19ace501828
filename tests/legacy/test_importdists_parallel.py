"""importdists --jobs 2: the files split by project between two forked
processes end in the state one process gives (each project's journal in its
order), and a signal or the death of the parent stops the workers with nothing
left behind that the next run does not clean up or finish."""

import io
import json
import os
import signal
import subprocess
import time
from collections import defaultdict
from pathlib import Path

import pytest
from django.core.management import call_command

from legacy.import_workers import partition, project_key
from packages.models import File, JournalEntry, Project
from tests.factories import create_user
from tests.gunicorn_server import PYTHON, ROOT
from tests.legacy.importdists_helpers import (
    make_mirror,
    migrated_index,
    pending_paths,
    referenced,
    state_of,
    stored_files,
)

PROJECTS = 16  # x 2 versions x (wheel + sdist), plus the look-alikes and a bad file
BATCH = 4
GOOD = PROJECTS * 4 + 4  # the look-alike project "look-alike" is imported
REFUSED = 4 + 1  # "lookalike" (a look-alike of it) and the file that is no zip

STATE = """
import json
import os
from django.db.models import Max
from packages.models import File, JournalEntry, Project
print(json.dumps({
    "files": sorted(File.objects.values_list("filename", "sha256_digest", "path")),
    "journal": list(JournalEntry.objects.order_by("id").values_list(
        "name", "version", "action")),
    "projects": sorted(
        (p.name, p.total_size, p.last_serial,
         JournalEntry.objects.filter(name=p.name).aggregate(m=Max("id"))["m"])
        for p in Project.objects.all()),
}))
"""


def a_mirror(root: Path) -> Path:
    names = [f"par-pkg-{index:02d}" for index in range(PROJECTS)] + ["look-alike", "lookalike"]
    make_mirror(root, names)
    (root / "packages" / "par-pkg-03" / "par_pkg_03-9.0-py3-none-any.whl").write_bytes(
        b"not a zip")
    return root


def per_project(journal: list) -> dict:
    """Each project's journal entries, in their order (projects interleave)."""
    entries = defaultdict(list)
    for name, version, action in journal:
        entries[name].append([version, action])
    return dict(entries)


@pytest.fixture
def index(tmp_path):
    with migrated_index(tmp_path / "index") as server:
        yield server


@pytest.fixture
def single_run(tmp_path, db):
    """What one process gives for the same mirror (in this process, on pytest's
    database: inside its transaction importdists runs in one process)."""
    mirror = a_mirror(tmp_path / "mirror")
    create_user("importer")
    out = io.StringIO()
    call_command("importdists", str(mirror), "--owner", "importer",
                 "--state-dir", str(tmp_path / "reference-state"),
                 stdout=out, stderr=io.StringIO())
    assert out.getvalue().splitlines()[-1] == f"imported {GOOD}, skipped 0, refused {REFUSED}"
    reference = {
        "files": sorted(File.objects.values_list("filename", "sha256_digest", "path")),
        "journal": list(JournalEntry.objects.order_by("id").values_list(
            "name", "version", "action")),
        "projects": sorted(Project.objects.values_list("name", "total_size")),
    }
    reference = json.loads(json.dumps(reference))  # tuples as the subprocess prints them
    assert len(reference["files"]) == GOOD
    return mirror, reference


def importdists(index, *args: str, jobs: int = 2) -> subprocess.Popen:
    return subprocess.Popen(
        [PYTHON, "manage.py", "importdists", *args, "--owner", "importer",
         "--batch-size", str(BATCH), "--progress-every", "0.001", "--jobs", str(jobs)],
        cwd=ROOT, env=index.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def wait_for_progress(process: subprocess.Popen, at_least: int) -> int:
    deadline = time.monotonic() + 120
    for line in process.stderr:
        if line.startswith("importdists: "):
            done = int(line.split()[1].split("/")[0])
            if done >= at_least:
                return done
        assert time.monotonic() < deadline, "no progress"
    pytest.fail(f"importdists ended before {at_least} files: {process.wait()}")


def children_of(pid: int) -> list[int]:
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children


def running(pid: int) -> bool:
    """The process exists and is not a zombie waiting to be reaped."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[0] != "Z"


def assert_same_as_one_process(final: dict, reference: dict) -> None:
    assert final["files"] == reference["files"]
    assert per_project(final["journal"]) == per_project(reference["journal"])
    assert [p[:2] for p in final["projects"]] == reference["projects"]
    for name, _size, last_serial, highest_entry in final["projects"]:
        assert last_serial == highest_entry, name


def test_look_alike_names_share_a_worker_and_groups_are_balanced_greedily():
    assert len({project_key(f) for f in [
        "foo_bar-1.0-py3-none-any.whl", "foobar-2.0.tar.gz", "Foo.Bar-1.0.tar.gz",
        "f00bar-1.0.tar.gz", "fo0_bar-3.0-py3-none-any.whl"]}) == 1
    assert project_key("no-version.tar.gz") == "file:no-version.tar.gz"
    files = [Path("m", name) for name in [
        "aaa-1.0.tar.gz", "big-1.0.tar.gz", "big-2.0.tar.gz", "big-3.0.tar.gz",
        "big_too-1.0-py3-none-any.whl", "foo_bar-1.0-py3-none-any.whl", "foobar-1.0.tar.gz",
        "Foo.Bar-2.0.tar.gz", "zzz-1.0.tar.gz", "zzz-2.0.tar.gz",
    ]]

    shares = partition(files, 2)

    # Groups: big 3, foobar 3 (equal sizes: by key), zzz 2, aaa 1, bigtoo 1;
    # each to the share with fewer files (equal: the first): big 0, foobar 1,
    # zzz 0, aaa 1, bigtoo 1.
    assert [[p.name for p in share] for share in shares] == [
        ["big-1.0.tar.gz", "big-2.0.tar.gz", "big-3.0.tar.gz", "zzz-1.0.tar.gz",
         "zzz-2.0.tar.gz"],
        ["aaa-1.0.tar.gz", "big_too-1.0-py3-none-any.whl", "foo_bar-1.0-py3-none-any.whl",
         "foobar-1.0.tar.gz", "Foo.Bar-2.0.tar.gz"],
    ]
    assert sorted(p for share in partition(files, 3) for p in share) == sorted(files)
    assert partition(files, 1) == [files]


def test_two_jobs_end_in_the_rows_and_journal_of_one_process(index, single_run):
    mirror, reference = single_run
    # A record left by a run killed outright: cleaned by the parent before the fork.
    orphan = Path(index.env["INDEX_FILES_DIR"], "ab", "cd", "orphan-1.0.tar.gz")
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"left over")
    record = Path(index.env["INDEX_DATA_DIR"], "importdists", "pending-999999999.txt")
    record.parent.mkdir(parents=True)
    record.write_text("ab/cd/orphan-1.0.tar.gz\n")
    process = importdists(index, str(mirror))
    out, err = process.communicate(timeout=300)

    assert process.returncode == 0, err
    lines = out.splitlines()
    # Printed before the fork, and once (no worker prints it again).
    assert [line for line in lines if "interrupted run" in line] == [
        "deleted 1 stored files of an interrupted run"]
    assert lines[0] == "deleted 1 stored files of an interrupted run"
    assert not orphan.exists()
    assert lines[-1] == f"imported {GOOD}, skipped 0, refused {REFUSED}"
    refusals = [line for line in lines if line.startswith("refused ")]
    assert len(refusals) == REFUSED
    assert sum("lookalike" in line for line in refusals) == 4
    assert sum("par_pkg_03-9.0-py3-none-any.whl" in line for line in refusals) == 1
    final = state_of(index, STATE)
    assert_same_as_one_process(final, reference)
    assert stored_files(index) == referenced(final)
    assert pending_paths(index) == set()

    again = importdists(index, str(mirror))
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    assert out.splitlines()[-1] == f"imported 0, skipped {GOOD}, refused {REFUSED}"
    assert state_of(index, STATE) == final


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_both_workers_and_a_rerun_completes(index, single_run, signum):
    mirror, reference = single_run
    process = importdists(index, str(mirror))
    wait_for_progress(process, at_least=2 * BATCH + 1)
    workers = children_of(process.pid)
    assert len(workers) == 2
    process.send_signal(signum)
    out, err = process.communicate(timeout=120)

    assert process.returncode == 128 + signum, err
    assert f"interrupted by signal {signum}" in err and "run the same command again" in err
    assert not any(running(pid) for pid in workers)
    stopped = state_of(index, STATE)
    assert 0 < len(stopped["files"]) < GOOD
    # Rolled back in-process: the stored files went with their batches.
    assert stored_files(index) == referenced(stopped)
    assert pending_paths(index) == set()

    rerun = importdists(index, str(mirror))
    out, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err
    assert out.splitlines()[-1] == (
        f"imported {GOOD - len(stopped['files'])}, skipped {len(stopped['files'])}, "
        f"refused {REFUSED}")
    final = state_of(index, STATE)
    assert_same_as_one_process(final, reference)
    assert stored_files(index) == referenced(final)


def test_workers_stop_when_the_parent_is_killed_and_a_rerun_cleans_and_completes(
        index, single_run):
    mirror, reference = single_run
    process = importdists(index, str(mirror))
    wait_for_progress(process, at_least=2 * BATCH + 1)
    workers = children_of(process.pid)
    assert len(workers) == 2
    process.kill()
    process.wait()

    deadline = time.monotonic() + 30
    while any(running(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(running(pid) for pid in workers)
    process.communicate(timeout=10)  # the workers held its pipes open until they exited
    killed = state_of(index, STATE)
    assert len(killed["files"]) < GOOD

    rerun = importdists(index, str(mirror))
    out, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err
    assert out.splitlines()[-1].startswith(f"imported {GOOD - len(killed['files'])}, ")
    final = state_of(index, STATE)
    assert_same_as_one_process(final, reference)
    assert stored_files(index) == referenced(final)
    assert pending_paths(index) == set()


def test_jobs_inside_a_transaction_is_refused(db, tmp_path):
    from django.core.management import CommandError

    create_user("importer")
    with pytest.raises(CommandError, match="inside a transaction"):
        call_command("importdists", str(tmp_path), "--owner", "importer", "--jobs", "2",
                     stdout=io.StringIO(), stderr=io.StringIO())


def test_a_share_per_worker_even_with_more_jobs_than_projects():
    files = [Path("m", "one-1.0.tar.gz"), Path("m", "one-2.0.tar.gz")]
    assert partition(files, 4) == [files, [], [], []]


def test_a_worker_killed_outright_stops_the_other_and_the_import_fails(index, single_run):
    mirror, reference = single_run
    process = importdists(index, str(mirror))
    wait_for_progress(process, at_least=2 * BATCH + 1)
    workers = children_of(process.pid)
    assert len(workers) == 2
    os.kill(workers[0], signal.SIGKILL)
    out, err = process.communicate(timeout=120)

    assert process.returncode == 1, err
    assert "an import process failed: worker" in err and "died with exit code -9" in err
    assert "run the same command again" in err
    assert not any(running(pid) for pid in workers)

    rerun = importdists(index, str(mirror))
    out, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err
    final = state_of(index, STATE)
    assert_same_as_one_process(final, reference)
    assert stored_files(index) == referenced(final)
    assert pending_paths(index) == set()


class FakeCommand:
    """What run_workers() needs of the command."""

    def __init__(self):
        self.stop_signal = None
        self.link = None
        self.committed = []

    def file_done(self, worker, in_batch):
        pass

    def batch_committed(self, worker, results):
        self.committed.append((worker, results))


@pytest.mark.parametrize("how", ["raises", "killed"])
def test_a_worker_that_fails_stops_the_others_and_is_named(how):
    from legacy.import_workers import WorkerFailed, run_workers
    from legacy.management.commands.importdists import Interrupted

    command = FakeCommand()

    def run_share(files):
        if files[0].name == "bad":
            time.sleep(0.3)
            if how == "killed":
                os.kill(os.getpid(), signal.SIGKILL)
            raise RuntimeError("disk on fire")
        command.link.send("batch", [(files[0], "imported", None)])
        deadline = time.monotonic() + 60
        while command.stop_signal is None:  # until the parent stops it
            assert time.monotonic() < deadline
            command.link.send("file", 1)  # busy: the parent never waits for a message
            time.sleep(0.001)
        raise Interrupted

    started = time.monotonic()
    expected = "RuntimeError: disk on fire" if how == "raises" else "died with exit code -9"
    with pytest.raises(WorkerFailed, match=expected) as failed:
        run_workers(command, [[Path("good")], [Path("bad")]], run_share)

    assert time.monotonic() - started < 30
    if how == "raises":
        assert "Traceback" in failed.value.details
    assert command.committed == [(0, [(Path("good"), "imported", None)])]
    assert command.stop_signal is None
