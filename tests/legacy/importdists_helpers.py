"""What the importdists tests share: writing a mirror's files and running the
command in this process; for those running it as a real subprocess, a migrated
index of its own (the subprocess cannot see pytest's database), a mirror of
generated files, and the reads of what the import left behind."""

import io
import json
from contextlib import contextmanager
from pathlib import Path

from django.core.management import call_command

from tests.dists import make_sdist, make_wheel
from tests.gunicorn_server import GunicornServer


def write(folder: Path, filename: str, content: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / filename).write_bytes(content)
    return folder / filename


def run_importdists(*args: str) -> str:
    """``manage.py importdists *args`` in this process (on pytest's database,
    inside its transaction: one process); what it printed on stdout."""
    out = io.StringIO()
    call_command("importdists", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def make_mirror(root: Path, names: list[str]) -> Path:
    """A bandersnatch-like folder: versions 1.0 and 1.1 of each project, a
    wheel and an sdist each."""
    for name in names:
        folder = root / "packages" / name
        folder.mkdir(parents=True)
        for version in ("1.0", "1.1"):
            filename, content, _ = make_wheel(name, version)
            (folder / filename).write_bytes(content)
            filename, content = make_sdist(name, version)
            (folder / filename).write_bytes(content)
    return root


@contextmanager
def migrated_index(folder: Path):
    """A migrated database and storage folder of their own, with the user
    ``importer``; ``.env`` is the environment to run manage.py in."""
    server = GunicornServer(tmp=folder)
    server.env = server._environment()
    try:
        server.manage("migrate", "--noinput")
        server.shell("from django.contrib.auth import get_user_model\n"
                     "get_user_model().objects.create_user('importer')")
        yield server
    finally:
        server.stop()


def state_of(index, script: str) -> dict:
    """What ``script`` (run by manage.py shell) prints as JSON."""
    return json.loads(index.shell(script))


def stored_files(index) -> set[str]:
    root = Path(index.env["INDEX_FILES_DIR"])
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def referenced(state: dict) -> set[str]:
    """The storage paths the state's File rows (and a wheel's metadata) use."""
    paths = {path for _name, _sha, path in state["files"]}
    return paths | {f"{path}.metadata" for path in paths if path.endswith(".whl")}


def pending_paths(index) -> set[str]:
    """What the records of uncommitted batches list."""
    records = Path(index.env["INDEX_DATA_DIR"], "importdists").glob("pending-*.txt")
    return {line for record in records for line in record.read_text().split()}
