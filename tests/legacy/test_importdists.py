"""manage.py importdists: a folder of good, duplicate and hostile files."""

import io
import os
import shutil
import zipfile

import pytest
from django.core.management import CommandError, call_command

from packages.models import File, JournalEntry, Project, Release, Role
from tests.dists import core_metadata, make_sdist, make_wheel
from tests.factories import create_project, create_user, publish
from tests.legacy.importdists_helpers import run_importdists, write
from tests.legacy.upload_forms import stored_paths

pytestmark = pytest.mark.django_db


@pytest.fixture
def mirror(tmp_path):
    """A bandersnatch-like tree: good files, a duplicate, hostile files, non-dists."""
    root = tmp_path / "mirror" / "packages"
    for name, version in [("alpha", "1.0"), ("alpha", "1.1"), ("Beta.Pkg", "2.0")]:
        filename, content, _ = make_wheel(name, version)
        write(root / name.lower() / "w", filename, content)
        filename, content = make_sdist(name, version)
        write(root / name.lower() / "s", filename, content)
    # The same wheel again in another folder (a pip download next to the mirror).
    (root / "copies").mkdir()
    shutil.copy(root / "alpha" / "w" / "alpha-1.0-py3-none-any.whl", root / "copies")
    hostile = root / "hostile"
    write(hostile, "gamma-1.0-py3-none-any.whl", b"this is not a zip")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("delta-1.0.dist-info/METADATA", core_metadata("delta", "1.0"))
        archive.writestr("delta-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\n")
        archive.writestr("delta-1.0.dist-info/RECORD", "")
        archive.writestr("../../escape.py", "print('owned')\n")
    write(hostile, "delta-1.0-py3-none-any.whl", buffer.getvalue())
    _, content, _ = make_wheel("epsilon", "1.0")
    write(hostile, "epsilon-9.9-py3-none-any.whl", content)  # name says 9.9, metadata 1.0
    write(hostile, "old-1.0-py2.7.egg", b"egg")
    write(root, "index.html", b"<html></html>")
    write(root / "alpha" / "w", "alpha-1.0-py3-none-any.whl.metadata", b"Name: alpha\n")
    return tmp_path / "mirror"


def test_imports_good_files_skips_duplicates_and_lists_refusals(mirror):
    owner = create_user("importer")

    output = run_importdists(str(mirror), "--owner", "importer")

    assert output.splitlines()[-1] == "imported 6, skipped 1, refused 4"
    assert set(Project.objects.values_list("name", flat=True)) == {"alpha", "Beta.Pkg"}
    assert set(Role.objects.values_list("project__name", "user__username", "role_name")) == {
        ("alpha", "importer", "Owner"), ("Beta.Pkg", "importer", "Owner")}
    assert File.objects.count() == 6
    assert sorted(Release.objects.values_list("version", flat=True)) == ["1.0", "1.1", "2.0"]
    refused = {line.split(":")[0].rsplit("/", 1)[-1]: line for line in output.splitlines()
               if line.startswith("refused ")}
    assert set(refused) == {"gamma-1.0-py3-none-any.whl", "delta-1.0-py3-none-any.whl",
                            "epsilon-9.9-py3-none-any.whl", "old-1.0-py2.7.egg"}
    assert "File is not a zip archive." in refused["gamma-1.0-py3-none-any.whl"]
    assert "unsafe member path '../../escape.py'" in refused["delta-1.0-py3-none-any.whl"]
    assert "WHEEL not found at epsilon-9.9.dist-info/WHEEL" in (
        refused["epsilon-9.9-py3-none-any.whl"])
    assert "Use a known file type." in refused["old-1.0-py2.7.egg"]
    # Only the imported files (and the wheels' PEP 658 metadata) are stored.
    assert len(stored_paths()) == 6 + 3
    assert owner.pk


def test_imported_files_are_journaled_like_uploads(mirror):
    create_user("importer")

    run_importdists(str(mirror / "packages" / "beta.pkg"), "--owner", "importer")

    assert list(JournalEntry.objects.values_list("action", flat=True)) == [
        "create", "add Owner importer", "new release",
        "add source file beta_pkg-2.0.tar.gz", "add py3 file beta_pkg-2.0-py3-none-any.whl",
    ]
    assert Release.objects.get().summary == "A test package"


def test_second_run_skips_everything_already_present(mirror):
    create_user("importer")
    run_importdists(str(mirror), "--owner", "importer")
    serial = JournalEntry.objects.latest("id").id

    output = run_importdists(str(mirror), "--owner", "importer", "--batch-size", "3")

    assert output.splitlines()[-1] == "imported 0, skipped 7, refused 4"
    assert JournalEntry.objects.latest("id").id == serial


def test_projects_owned_by_others_are_refused_for_the_importer(mirror):
    create_user("importer")
    create_project("alpha", owner=create_user("someone"))

    output = run_importdists(str(mirror / "packages" / "alpha"), "--owner", "importer")

    assert output.splitlines()[-1] == "imported 0, skipped 0, refused 4"
    assert "The user 'importer' isn't allowed to upload to project 'alpha'" in output


def test_same_filename_with_other_content_is_refused(tmp_path):
    importer = create_user("importer")
    publish("zeta", "1.0", owner=importer, sdist=False)
    _, content, _ = make_wheel("zeta", "1.0", modules={"zeta/other.py": "X = 1\n"})
    write(tmp_path / "incoming", "zeta-1.0-py3-none-any.whl", content)

    output = run_importdists(str(tmp_path / "incoming"), "--owner", "importer")

    assert "File already exists" in output
    assert output.splitlines()[-1] == "imported 0, skipped 0, refused 1"


def test_names_an_upload_refuses_are_refused_with_its_message(tmp_path):
    create_user("importer")
    create_project("foobar")
    for name in ("asyncio", "f00-bar"):
        filename, content, _ = make_wheel(name, "1.0")
        write(tmp_path / "incoming", filename, content)

    output = run_importdists(str(tmp_path / "incoming"), "--owner", "importer")

    assert ("refused", "The name 'asyncio' isn't allowed (conflict with Python Standard "
            "Library module name).") in _refusals(output)
    assert ("refused", "The name 'f00-bar' is too similar to an existing project 'foobar'.") in (
        _refusals(output))
    assert output.splitlines()[-1] == "imported 0, skipped 0, refused 2"
    assert list(Project.objects.values_list("name", flat=True)) == ["foobar"]


def _refusals(output: str) -> list[tuple[str, str]]:
    return [("refused", line.split(": ", 1)[1]) for line in output.splitlines()
            if line.startswith("refused ")]


def test_unknown_owner_is_an_error(tmp_path):
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        run_importdists(str(tmp_path), "--owner", "nobody")


def test_progress_bar_is_drawn_on_a_terminal_only(mirror):
    create_user("importer")
    plain = io.StringIO()
    call_command("importdists", str(mirror / "packages" / "alpha"), "--owner", "importer",
                 stdout=io.StringIO(), stderr=plain)
    assert plain.getvalue() == ""

    primary, secondary = os.openpty()
    with os.fdopen(secondary, "w") as terminal:
        call_command("importdists", str(mirror / "packages" / "beta.pkg"), "--owner",
                     "importer", stdout=io.StringIO(), stderr=terminal)
    drawn = os.read(primary, 65536).decode()
    os.close(primary)
    assert "[" + "#" * 30 + "] 2/2" in drawn
