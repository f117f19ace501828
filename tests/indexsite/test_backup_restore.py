"""The backup and restore of docs/operations.md, run as written there: the
commands are read from that page's ``# backup`` and ``# restore`` blocks and run
by bash. A node on PostgreSQL and S3 (moto in server mode) takes an upload; the
database is dumped and the bucket copied; the database is dropped and the S3
server thrown away; both are restored on a new S3 server, and a node started on
the restored state serves the package to pip (hash-checked) and takes uploads.
The nodes run their tasks in-process (no broker): no worker is needed here, and
nothing is left queued on the suite's broker."""

import hashlib
import re
import shutil
import subprocess

import psycopg
import pytest

from tests.conftest import require_external
from tests.dists import make_sdist, make_wheel
from tests.gunicorn_server import ROOT, _postgres_admin_url, start_gunicorn
from tests.indexsite.deployment import (
    UPLOADER_SETUP,
    bucket_objects,
    installed_version,
    moto_s3,
    pip_install,
    require_postgresql_pass,
    s3_client,
    s3_settings,
    twine_upload,
)

pytestmark = pytest.mark.clients
BUCKET = "indexsite-backup"
OPERATIONS = ROOT / "docs" / "operations.md"


def documented(block: str) -> str:
    """The shell block of docs/operations.md whose first line is ``# <block>``."""
    found = re.findall(rf"```sh\n(# {block}\b.*?)```", OPERATIONS.read_text(), re.DOTALL)
    assert len(found) == 1, f"docs/operations.md has no single `# {block}` block"
    return found[0]


def run_documented(block: str, env: dict[str, str]) -> None:
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", documented(block)], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{block}:\n{result.stdout}\n{result.stderr}"


def database_exists(admin_url: str, name: str) -> bool:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() \
            is not None


def drop_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                     "WHERE datname = %s", [name])
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def test_a_node_on_the_restored_database_and_bucket_serves_what_was_backed_up(tmp_path):
    require_postgresql_pass()
    require_external(bool(shutil.which("pg_dump") and shutil.which("pg_restore")),
                     "PostgreSQL's client programs (pg_dump, pg_restore)")
    wheel_name, wheel, _ = make_wheel("backup-demo", "1.0")
    sdist_name, sdist = make_sdist("backup-demo", "1.0")
    (tmp_path / wheel_name).write_bytes(wheel)
    (tmp_path / sdist_name).write_bytes(sdist)
    backup_dir = tmp_path / "backup"

    with moto_s3() as endpoint:
        s3_client(endpoint).create_bucket(Bucket=BUCKET)
        (tmp_path / "before").mkdir()
        node = start_gunicorn(tmp_path / "before", setup=UPLOADER_SETUP, CELERY_BROKER_URL=None,
                              **s3_settings(endpoint, BUCKET))
        database_url = node.env["DATABASE_URL"]
        admin_url = _postgres_admin_url(database_url)
        database = database_url.rsplit("/", 1)[1]
        try:
            token = node.setup_output.strip().splitlines()[-1]
            twine_upload(node.url, token, tmp_path / wheel_name, tmp_path / sdist_name)
            stored = bucket_objects(endpoint, BUCKET)
            assert len(stored) == 3  # the wheel, its .metadata, the sdist

            run_documented("backup", {**node.env, "BACKUP_DIR": str(backup_dir)})
        finally:
            node.stop()  # drops the database it made
    # Nothing of the original state is left: the database is gone, and so is
    # the S3 server (moto keeps its buckets in memory).
    assert not database_exists(admin_url, database)

    try:
        with moto_s3() as endpoint:
            assert s3_client(endpoint).list_buckets()["Buckets"] == []
            restored_env = {**node.env, **s3_settings(endpoint, BUCKET),
                            "BACKUP_DIR": str(backup_dir), "POSTGRES_ADMIN_URL": admin_url}
            run_documented("restore", restored_env)
            assert database_exists(admin_url, database)
            assert bucket_objects(endpoint, BUCKET) == stored

            (tmp_path / "after").mkdir()
            node = start_gunicorn(tmp_path / "after", database_url=database_url,
                                  CELERY_BROKER_URL=None, **s3_settings(endpoint, BUCKET))
            try:
                # pip checks the download against the hash written here, not only
                # against the one the restored page states.
                requirements = tmp_path / "requirements.txt"
                requirements.write_text(
                    f"backup-demo==1.0 --hash=sha256:{hashlib.sha256(wheel).hexdigest()}\n")
                venv = tmp_path / "venv"
                pip_install(f"{node.url}/simple/", venv, hashes=requirements)
                assert installed_version(venv, "backup_demo") == "1.0"
                # The restored users, tokens and sequences take new uploads.
                name, content, _ = make_wheel("backup-demo", "2.0")
                (tmp_path / name).write_bytes(content)
                twine_upload(node.url, token, tmp_path / name)
                assert len(bucket_objects(endpoint, BUCKET)) == 5
            finally:
                node.stop()
    finally:
        drop_database(admin_url, database)
