"""importdists interrupted for real (a subprocess killed with SIGKILL, or stopped
with SIGTERM) and run again: it continues where it stopped and ends in the state
a single uninterrupted run gives, with no stored file left over from the batch
that was rolled back."""

import io
import json
import signal
import subprocess
import time
from pathlib import Path

import pytest
from django.core.management import call_command

from packages.models import File, JournalEntry
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

PROJECTS = 12  # x 2 versions x (wheel + sdist) = 48 files
BATCH = 5

STATE = """
import json
from packages.models import File, JournalEntry
print(json.dumps({
    "files": sorted(File.objects.values_list("filename", "sha256_digest", "path")),
    "journal": list(JournalEntry.objects.order_by("id").values_list(
        "name", "version", "action")),
}))
"""


def a_mirror(root: Path) -> Path:
    return make_mirror(root, [f"resume-pkg-{index:02d}" for index in range(PROJECTS)])


@pytest.fixture
def index(tmp_path):
    with migrated_index(tmp_path / "index") as server:
        yield server


def importdists(index, *args: str) -> subprocess.Popen:
    # One process (the default on PostgreSQL is two): SIGSTOP freezes the batch
    # in flight, and the journal's global order is one process's. Two processes:
    # test_importdists_parallel.
    return subprocess.Popen(
        [PYTHON, "manage.py", "importdists", *args, "--owner", "importer",
         "--batch-size", str(BATCH), "--progress-every", "0.001", "--jobs", "1"],
        cwd=ROOT, env=index.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def wait_for_progress(process: subprocess.Popen, at_least: int) -> int:
    """Read progress lines until one says ``at_least`` files are done (mid-batch
    when ``at_least`` is not a multiple of the batch size); returns that count."""
    deadline = time.monotonic() + 120
    for line in process.stderr:
        if line.startswith("importdists: "):
            done = int(line.split()[1].split("/")[0])
            if done >= at_least and done % BATCH in (1, 2):
                # Frozen at once: the batch in flight (a few files stored, not
                # committed) stays in flight until the test decides.
                process.send_signal(signal.SIGSTOP)
                return done
        assert time.monotonic() < deadline, "no progress"
    pytest.fail(f"importdists ended before {at_least} files: {process.wait()}")


@pytest.fixture
def single_run(tmp_path, db):
    """What one uninterrupted run of the same mirror gives (in this process, on
    pytest's database): the reference the interrupted runs must end at."""
    mirror = a_mirror(tmp_path / "mirror")
    create_user("importer")
    call_command("importdists", str(mirror), "--owner", "importer",
                 "--state-dir", str(tmp_path / "reference-state"),
                 stdout=io.StringIO(), stderr=io.StringIO())
    reference = {
        "files": sorted(File.objects.values_list("filename", "sha256_digest", "path")),
        "journal": list(JournalEntry.objects.order_by("id").values_list(
            "name", "version", "action")),
    }
    reference = json.loads(json.dumps(reference))  # tuples as the subprocess prints them
    assert len(reference["files"]) == PROJECTS * 4
    return mirror, reference


def test_killed_midway_then_run_again_ends_as_one_run_without_orphans(index, single_run):
    mirror, reference = single_run
    process = importdists(index, str(mirror))
    done = wait_for_progress(process, at_least=2 * BATCH + 2)
    process.kill()  # SIGKILL: no handler runs, the batch in flight is simply lost
    process.communicate()

    after_kill = state_of(index, STATE)
    committed = len(after_kill["files"])
    assert committed % BATCH == 0 and committed < done  # whole batches only
    orphans = stored_files(index) - referenced(after_kill)
    assert orphans and orphans <= pending_paths(index)  # the lost batch's files, recorded

    rerun = importdists(index, str(mirror))
    out, err = rerun.communicate(timeout=300)

    assert rerun.returncode == 0, err
    assert out.splitlines()[-1] == (
        f"imported {PROJECTS * 4 - committed}, skipped {committed}, refused 0")
    final = state_of(index, STATE)
    assert final == reference
    assert stored_files(index) == referenced(final)
    assert pending_paths(index) == set()


def test_killed_run_leaves_no_orphan_even_when_its_files_are_not_imported_again(
        index, single_run, tmp_path):
    mirror, _reference = single_run
    process = importdists(index, str(mirror))
    wait_for_progress(process, at_least=BATCH + 2)
    process.kill()
    process.communicate()
    assert stored_files(index) - referenced(state_of(index, STATE))

    (tmp_path / "empty").mkdir()
    rerun = importdists(index, str(tmp_path / "empty"))
    out, err = rerun.communicate(timeout=120)

    assert rerun.returncode == 0, err
    assert "stored files of an interrupted run" in out.splitlines()[0]
    assert stored_files(index) == referenced(state_of(index, STATE))


def test_sigterm_rolls_back_the_batch_in_progress_and_a_rerun_completes(index, single_run):
    mirror, reference = single_run
    process = importdists(index, str(mirror))
    wait_for_progress(process, at_least=BATCH + 2)
    process.send_signal(signal.SIGTERM)
    process.send_signal(signal.SIGCONT)
    out, err = process.communicate(timeout=60)

    assert process.returncode == 128 + signal.SIGTERM
    assert "interrupted by signal 15" in err and "run the same command again" in err
    stopped = state_of(index, STATE)
    assert len(stopped["files"]) % BATCH == 0
    # Rolled back in-process: its stored files went with it, nothing is left to clean.
    assert stored_files(index) == referenced(stopped)
    assert pending_paths(index) == set()

    rerun = importdists(index, str(mirror))
    rerun.communicate(timeout=300)
    assert rerun.returncode == 0
    assert state_of(index, STATE) == reference
