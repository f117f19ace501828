"""importdists' speed-ups keep every upload rule: what a batch remembers
(packages.uploads.batch) is kept current, the progress it reports, and the
description rendered once."""

import io
import os
import re

import pytest
from django.core.management import call_command

from legacy.import_progress import Progress
from packages.models import File, JournalEntry, Project, Release
from packages.uploads.descriptions import source_key
from tests.dists import core_metadata, make_sdist, make_wheel
from tests.factories import create_user, publish
from tests.legacy.importdists_helpers import run_importdists, write

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    return run_importdists(*args, "--owner", "importer")


def test_project_size_limit_counts_the_files_imported_earlier_in_the_same_batch(
        tmp_path, settings):
    create_user("importer")
    for version in ("1.0", "1.1", "1.2"):
        filename, content, _ = make_wheel("sized", version)
        write(tmp_path / "in", filename, content)
    sizes = sorted(p.stat().st_size for p in (tmp_path / "in").iterdir())
    settings.INDEX_MAX_PROJECT_SIZE = sizes[0] + sizes[1] + sizes[2] - 1

    output = run(str(tmp_path / "in"))

    assert output.splitlines()[-1] == "imported 2, skipped 0, refused 1"
    assert "Project size too large." in output
    project = Project.objects.get()
    assert project.total_size == sum(File.objects.values_list("size", flat=True))


def test_a_release_made_before_the_batch_is_found_by_the_upload_rule(tmp_path):
    importer = create_user("importer")
    publish("legacy-rel", "1.0", owner=importer, sdist=False)
    # 1.0.0 is the release 1.0 (PEP 440): the sdist joins it, no new release.
    filename, content = make_sdist("legacy-rel", "1.0.0")
    write(tmp_path / "in", filename, content)
    filename, content, _ = make_wheel("legacy-rel", "2.0")
    write(tmp_path / "in", filename, content)
    filename, content = make_sdist("legacy-rel", "2.0")
    write(tmp_path / "in", filename, content)

    output = run(str(tmp_path / "in"))

    assert output.splitlines()[-1] == "imported 3, skipped 0, refused 0"
    assert sorted(Release.objects.values_list("version", flat=True)) == ["1.0", "2.0"]
    assert Release.objects.get(version="1.0").files.count() == 2
    actions = list(JournalEntry.objects.order_by("id").values_list("action", flat=True))
    assert actions.count("new release") == 2  # 1.0 by publish, 2.0 by the import


def test_a_refused_file_leaves_the_batch_going_for_the_next_ones(tmp_path):
    create_user("importer")
    filename, content, _ = make_wheel("mixed", "1.0")
    write(tmp_path / "in" / "a", filename, content)
    _, other, _ = make_wheel("mixed", "1.0", modules={"mixed/other.py": "X = 1\n"})
    write(tmp_path / "in" / "b", filename, other)  # same name, other bytes
    filename, content = make_sdist("mixed", "1.0")
    write(tmp_path / "in" / "c", filename, content)

    output = run(str(tmp_path / "in"), "--batch-size", "10")

    assert output.splitlines()[-1] == "imported 2, skipped 0, refused 1"
    assert "File already exists" in output
    assert list(JournalEntry.objects.order_by("id").values_list("action", flat=True)) == [
        "create", "add Owner importer", "new release", "add py3 file " + filename.replace(
            ".tar.gz", "-py3-none-any.whl"), f"add source file {filename}"]


def test_description_is_stored_rendered_with_the_release(tmp_path):
    create_user("importer")
    metadata = core_metadata("described", "1.0", description="Some *text*.\n")
    filename, content, _ = make_wheel("described", "1.0", metadata=metadata)
    write(tmp_path / "in", filename, content)

    run(str(tmp_path / "in"))

    release = Release.objects.get()
    assert "<em>text</em>" in release.description_html
    assert release.description_rendered_from == source_key(
        release.description, release.description_content_type)


def test_progress_lines_when_not_a_terminal_say_rate_and_eta():
    now = [100.0]
    stream = io.StringIO()
    progress = Progress(stream, 1000, every=5, clock=lambda: now[0])

    now[0] = 102.0
    progress.update(400)  # under 5 s since the start: nothing yet
    now[0] = 105.0
    progress.update(500)
    now[0] = 106.0
    progress.update(600)  # 1 s after the last line: nothing

    assert stream.getvalue() == "importdists: 500/1000 100.0 files/s ETA 0:00:05\n"


def test_no_progress_prints_nothing_even_on_a_terminal(tmp_path):
    create_user("importer")
    filename, content, _ = make_wheel("quiet", "1.0")
    write(tmp_path / "in", filename, content)
    primary, secondary = os.openpty()
    with os.fdopen(secondary, "w") as terminal:
        call_command("importdists", str(tmp_path / "in"), "--owner", "importer",
                     "--no-progress", stdout=io.StringIO(), stderr=terminal)
        os.set_blocking(primary, False)
        try:
            drawn = os.read(primary, 65536)
        except BlockingIOError:
            drawn = b""
    os.close(primary)
    assert drawn == b""


def test_terminal_bar_shows_rate_and_eta(tmp_path):
    create_user("importer")
    for name in ("bar-a", "bar-b"):
        filename, content, _ = make_wheel(name, "1.0")
        write(tmp_path / "in", filename, content)
    primary, secondary = os.openpty()
    with os.fdopen(secondary, "w") as terminal:
        call_command("importdists", str(tmp_path / "in"), "--owner", "importer",
                     stdout=io.StringIO(), stderr=terminal)
    drawn = os.read(primary, 65536).decode()
    os.close(primary)
    assert re.search(r"\[#{30}\] 2/2 [0-9.]+ files/s ETA 0:00:00", drawn), repr(drawn)
