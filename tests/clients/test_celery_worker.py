"""Post-processing after an upload (description rendering, cache purge) runs in
Celery and is idempotent.

With CELERY_BROKER_URL set (the PostgreSQL + Redis CI run) a real
``celery -A indexsite worker`` process is started against the broker and the
test database, on a queue of its own. Without a broker (the SQLite run) tasks
are eager: the same assertions then prove they run in-process on commit."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection, transaction

from indexsite.celery import app
from packages.curation.deletion import delete_release
from packages.curation.tokens import create_token
from packages.models import Release
from packages.storage import delete_stored_after_commit
from packages.tasks import remove_stored_files, render_description
from tests.dists import core_metadata, make_wheel
from tests.factories import create_user
from tests.legacy.upload_forms import post_upload, stored_paths

pytestmark = [pytest.mark.clients, pytest.mark.real_celery,
              pytest.mark.django_db(transaction=True)]
WORKER_TIMEOUT = 60
README = "# Demo\n\nSome *emphasis*.\n"


def _test_database_url() -> str:
    db = connection.settings_dict
    if connection.vendor != "postgresql":
        pytest.fail("A real worker needs a database it can share: run with DATABASE_URL "
                    "pointing to PostgreSQL when CELERY_BROKER_URL is set.")
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return (f"postgresql://{user}{password}@{db.get('HOST') or '127.0.0.1'}:"
            f"{db.get('PORT') or 5432}/{db['NAME']}")


@pytest.fixture
def worker_queue():
    """A worker on a private queue (another worker on the broker must not take
    our tasks), with packages.tasks routed to it; None in the eager run."""
    if django_settings.CELERY_TASK_ALWAYS_EAGER:  # no CELERY_BROKER_URL in the environment
        assert app.conf.task_always_eager
        yield None
        return
    queue = f"indexsite-test-{uuid.uuid4().hex[:8]}"
    previous_routes = app.conf.task_routes
    app.conf.task_routes = {"packages.tasks.*": {"queue": queue}}
    app.amqp.flush_routes()
    del app.amqp.router
    # The worker stores and deletes files where this test does.
    files_dir = django_settings.STORAGES["default"]["OPTIONS"].get("location", "")
    env = {**os.environ, "DATABASE_URL": _test_database_url(),
           "DJANGO_SETTINGS_MODULE": "indexsite.settings", "INDEX_FILES_DIR": files_dir}
    worker = subprocess.Popen(
        [str(Path(sys.executable).parent / "celery"), "-A", "indexsite", "worker",
         "--pool", "solo", "-Q", queue, "--without-gossip", "--without-mingle",
         "--without-heartbeat", "--loglevel", "WARNING"],
        cwd=django_settings.BASE_DIR, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        yield queue
    finally:
        app.conf.task_routes = previous_routes
        app.amqp.flush_routes()
        del app.amqp.router
        worker.terminate()
        _, errors = worker.communicate(timeout=30)
        assert "Traceback" not in errors, errors


def wait_for(predicate, what: str):
    deadline = time.monotonic() + WORKER_TIMEOUT
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


def upload_with_readme(client, token, version):
    metadata = core_metadata("demo", version, description=README)
    filename, content, _ = make_wheel("demo", version, metadata=metadata)
    response = post_upload(client, token, filename, content, metadata)
    assert response.status_code == 200, response.reason_phrase
    return Release.objects.get(version=version)


def rendered(release_id):
    return Release.objects.get(pk=release_id).description_html


def test_description_is_rendered_after_upload_and_rerunning_is_a_no_op(client, worker_queue):
    token = create_token(create_user("alice"))[1]

    release = upload_with_readme(client, token, "1.0")

    wait_for(lambda: rendered(release.id), "the description to be rendered")
    assert "<em>emphasis</em>" in rendered(release.id)
    # Mark the rendering: a second and third run must leave it alone (same input).
    Release.objects.filter(pk=release.id).update(description_html="<p>marker</p>")
    render_description.delay(release.id)
    render_description.delay(release.id)
    # A task queued after those (solo worker: in order) tells when they are done.
    later = upload_with_readme(client, token, "2.0")
    wait_for(lambda: rendered(later.id), "the second release to be rendered")
    assert rendered(release.id) == "<p>marker</p>"
    # Eager: the work ran in-process after commit; else it ran in the worker process.
    assert app.conf.task_always_eager is (worker_queue is None)


def test_changed_input_is_rendered_again(client, worker_queue):
    token = create_token(create_user("alice"))[1]
    release = upload_with_readme(client, token, "1.0")
    wait_for(lambda: rendered(release.id), "the description to be rendered")

    Release.objects.filter(pk=release.id).update(
        description="Plain *text* now", description_content_type="text/plain")
    render_description.delay(release.id)

    wait_for(lambda: "Plain *text* now" in rendered(release.id), "the new rendering")
    assert "<em>" not in rendered(release.id)


def test_deleted_files_are_removed_by_a_task_after_commit(client, worker_queue):
    token = create_token(create_user("alice"))[1]
    release = upload_with_readme(client, token, "1.0")
    paths = set(release.files.values_list("path", flat=True))
    assert paths and paths <= set(stored_paths())
    # A delete that rolls back queues nothing: the stored objects stay.
    with pytest.raises(RuntimeError), transaction.atomic():
        delete_stored_after_commit(sorted(paths))
        raise RuntimeError("rolled back")

    delete_release(release)

    wait_for(lambda: not paths & set(stored_paths()), "the stored files to be removed")
    assert app.conf.task_always_eager is (worker_queue is None)


def test_removing_stored_files_keeps_what_a_row_points_to_and_runs_twice(client, worker_queue):
    token = create_token(create_user("alice"))[1]
    kept = upload_with_readme(client, token, "1.0")
    kept_paths = set(kept.files.values_list("path", flat=True))
    gone = upload_with_readme(client, token, "2.0")
    gone_paths = set(gone.files.values_list("path", flat=True))
    gone.files.all().delete()

    for _ in range(2):  # idempotent: the second run finds nothing left to remove
        remove_stored_files.delay(sorted(kept_paths | gone_paths))
    wait_for(lambda: not gone_paths & set(stored_paths()), "the unreferenced files to go")
    later = upload_with_readme(client, token, "3.0")  # solo worker: runs after those
    wait_for(lambda: rendered(later.id), "the later task")
    assert kept_paths <= set(stored_paths())
