"""importdists' batch writes (duplicate check from one look-up, one savepoint
per file, journal entries written in bulk at the batch's end) end in the same
state as the same files uploaded one by one, and a refused file in the middle
of a batch leaves nothing behind while the rest commits."""


import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils.datastructures import MultiValueDict

import packages.uploads.operation as operation
from legacy.forms import UploadForm
from legacy.management.commands.importdists import (
    find_distributions,
    read_distribution,
    upload_fields,
)
from packages.errors import UploadRejected
from packages.models import File, Filename, JournalEntry, Project, Release
from packages.uploads.operation import UploadedContent, accept_upload
from tests.dists import make_sdist, make_wheel
from tests.factories import create_user, publish
from tests.legacy.importdists_helpers import run_importdists, write

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    return run_importdists(*args, "--owner", "importer")


def a_mirror(folder):
    """Files meeting every batch rule: new projects, several releases, a release
    spelt two ways (1.0 / 1.0.0), a project made before the import, a name
    reused with other bytes, the same bytes under another name."""
    for name in ("alpha", "beta", "gamma"):
        for version in ("1.0", "2.0"):
            filename, content, _ = make_wheel(name, version)
            write(folder / name, filename, content)
            filename, content = make_sdist(name, version)
            write(folder / name, filename, content)
    filename, content = make_sdist("alpha", "1.0.0")  # joins release 1.0
    write(folder / "alpha", filename, content)
    filename, content, _ = make_wheel("old", "3.0")
    write(folder / "old", filename, content)
    name, _, _ = make_wheel("beta", "1.0")
    _, other, _ = make_wheel("beta", "1.0", modules={"beta/other.py": "X = 1\n"})
    write(folder / "zz-renamed", name, other)  # beta 1.0's name, other bytes: refused
    _, same, _ = make_wheel("gamma", "2.0")
    write(folder / "zz-copied", "gamma-2.0-py2.py3-none-any.whl", same)  # same bytes


def state() -> dict:
    """The rows, with serials as positions in the journal (ids may differ)."""
    entries = list(JournalEntry.objects.order_by("id").values_list(
        "id", "name", "version", "action", "submitted_by"))
    position = {entry[0]: index for index, entry in enumerate(entries)}
    return {
        "journal": [entry[1:] for entry in entries],
        "projects": sorted(
            (p.name, p.total_size, position.get(p.last_serial), p.status)
            for p in Project.objects.all()),
        "releases": sorted(Release.objects.values_list(
            "project__name", "version", "canonical_version", "description_html")),
        "files": sorted(File.objects.values_list(
            "filename", "release__version", "packagetype", "python_version", "size",
            "sha256_digest", "path", "metadata_sha256")),
        "filenames": sorted(Filename.objects.values_list("filename", flat=True)),
    }


def upload_one_by_one(folder, user) -> None:
    """What twine would do: each file its own upload, no batch."""
    for path in find_distributions([str(folder)]):
        fileobj, digests = read_distribution(path)
        with fileobj:
            form = UploadForm(MultiValueDict(upload_fields(path, fileobj, digests)))
            assert form.is_valid()
            try:
                with transaction.atomic():
                    accept_upload(
                        upload=form.upload_request(),
                        content=UploadedContent(filename=path.name, file=fileobj,
                                                digests=digests),
                        uploader=user, purge=False,
                    )
            except UploadRejected:
                pass


class _Undo(Exception):
    pass


@pytest.mark.parametrize("batch_size", ["3", "200"])
def test_batches_end_in_the_state_of_uploads_one_by_one(tmp_path, batch_size):
    importer = create_user("importer")
    publish("old", "1.0", owner=importer)
    a_mirror(tmp_path / "in")
    try:
        with transaction.atomic():
            upload_one_by_one(tmp_path / "in", importer)
            expected = state()
            raise _Undo
    except _Undo:
        pass
    assert File.objects.count() == 2  # undone: only publish()'s files

    output = run(str(tmp_path / "in"), "--batch-size", batch_size)

    assert output.splitlines()[-1] == "imported 14, skipped 0, refused 2"
    assert state() == expected
    # Serials stay commit-ordered: each project's last_serial is its newest entry.
    for project in Project.objects.all():
        assert project.last_serial == JournalEntry.objects.filter(
            name=project.name).order_by("-id").values_list("id", flat=True)[0]


def test_a_refused_file_inside_a_batch_leaves_no_row_no_file_no_entry(tmp_path, monkeypatch):
    create_user("importer")
    for name in ("first", "middle", "last"):
        filename, content, _ = make_wheel(name, "1.0")
        write(tmp_path / "in", filename, content)
    real = operation.record_journal_entry

    def refuse_the_middle_file(project, action, **kwargs):
        # Refused after its project, release and file rows (and their journal
        # entries) were written in the batch's transaction, and after storage.
        if action.startswith("add py3 file middle-"):
            raise UploadRejected("refused late")
        return real(project, action, **kwargs)

    monkeypatch.setattr(operation, "record_journal_entry", refuse_the_middle_file)

    output = run(str(tmp_path / "in"))

    assert output.splitlines()[-1] == "imported 2, skipped 0, refused 1"
    assert "refused late" in output
    assert sorted(Project.objects.values_list("name", flat=True)) == ["first", "last"]
    assert not Filename.objects.filter(filename__startswith="middle").exists()
    assert not JournalEntry.objects.filter(name="middle").exists()
    assert [a for a, in JournalEntry.objects.order_by("id").values_list("action")] == [
        "create", "add Owner importer", "new release", "add py3 file first-1.0-py3-none-any.whl",
        "create", "add Owner importer", "new release", "add py3 file last-1.0-py3-none-any.whl",
    ]
    stored = {p.name for p in (tmp_path / "files").rglob("*") if p.is_file()}
    assert not any(name.startswith("middle") for name in stored)
    assert {"first-1.0-py3-none-any.whl", "last-1.0-py3-none-any.whl"} <= stored
    for project in Project.objects.all():
        assert project.last_serial == JournalEntry.objects.filter(
            name=project.name).order_by("-id").values_list("id", flat=True)[0]


def test_duplicates_within_one_batch_follow_the_upload_rules(tmp_path):
    importer = create_user("importer")
    publish("gone", "1.0", owner=importer, sdist=False)
    deleted = File.objects.get()
    deleted.delete()  # its name stays used (Filename)
    filename, content, _ = make_wheel("gone", "1.0")
    write(tmp_path / "in" / "a", filename, content)
    filename, content, _ = make_wheel("twin", "1.0")
    write(tmp_path / "in" / "a", filename, content)
    write(tmp_path / "in" / "b", "twin-1.0-py2.py3-none-any.whl", content)  # same bytes

    output = run(str(tmp_path / "in"))

    assert output.splitlines()[-1] == "imported 1, skipped 0, refused 2"
    assert "previously used by a file that has since been deleted" in output
    assert f"File already exists ('{filename}'" in output
    assert list(File.objects.values_list("filename", flat=True)) == [filename]


def test_statements_per_file_in_a_batch_are_few(tmp_path):
    importer = create_user("importer")
    publish("busy", "0.1", owner=importer)
    for version in range(1, 11):
        filename, content, _ = make_wheel("busy", f"{version}.0")
        write(tmp_path / "in", filename, content)
        filename, content = make_sdist("busy", f"{version}.0")
        write(tmp_path / "in", filename, content)

    with CaptureQueriesContext(connection) as queries:
        output = run(str(tmp_path / "in"))

    assert output.splitlines()[-1] == "imported 20, skipped 0, refused 0"
    # Per file: its savepoint (2 on PostgreSQL), Filename, File; per release
    # (every other file): its row; the project's total size once per batch,
    # and a few statements per batch.
    # The old path made over 11, then 7 with an UPDATE of the size per file.
    assert len(queries) / 20 <= 5.5, [q["sql"][:80] for q in queries.captured_queries]


def test_statements_per_new_project_in_a_batch_are_few(tmp_path):
    create_user("importer")
    for index in range(10):
        filename, content, _ = make_wheel(f"fresh{index}", "1.0")
        write(tmp_path / "in", filename, content)

    with CaptureQueriesContext(connection) as queries:
        output = run(str(tmp_path / "in"))

    assert output.splitlines()[-1] == "imported 10, skipped 0, refused 0"
    assert len(Project.objects.filter(total_size__gt=0, last_serial__gt=0)) == 10
    # Per new project, before the advisory lock: its look-up, the name rules
    # (prohibited, look-alike) and the upstream rules (reserved, allowed); under
    # the lock, the look-up and look-alike again, its row (in a savepoint), its
    # Owner role (look-up, row), its release, Filename and File, the file's
    # savepoint. Not any more: the taken-name look-up the upload had just made,
    # again before and after the lock; a SELECT ... FOR UPDATE of the row just
    # inserted; the role's savepoint; the upstreams, read once per batch; the
    # size and last_serial UPDATEs (once per batch). 25 statements before.
    assert len(queries) / 10 <= 20, [q["sql"][:80] for q in queries.captured_queries]
