import os
import shutil

import pytest


@pytest.fixture(autouse=True)
def _isolated_storage(settings, tmp_path):
    """Every test stores distribution files in its own folder."""
    storages = dict(settings.STORAGES)
    if storages["default"]["BACKEND"].endswith("FileSystemStorage"):
        storages["default"] = {
            **storages["default"],
            "OPTIONS": {**storages["default"]["OPTIONS"], "location": str(tmp_path / "files")},
        }
        settings.STORAGES = storages
    yield


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Users made by tests get their password hashed in microseconds, not the
    production hasher's deliberate ~0.3 s."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _celery_eager(request):
    """Tasks run in-process unless a test is marked ``real_celery`` (those start a
    real worker against the broker). With CELERY_BROKER_URL set for the whole
    run, other tests would otherwise queue work that no worker of theirs takes."""
    from indexsite.celery import app

    if request.node.get_closest_marker("real_celery"):
        yield
        return
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = previous


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def require_external(available: bool, what: str) -> None:
    """Tests that drive a program or server from outside the lock file (Chromium,
    Varnish, Redis) fail in CI when it is missing (.ci/run installs and starts
    them), and are reported as skipped, never passed, on a developer's machine
    that lacks them."""
    if available:
        return
    message = f"{what} is not available here: .ci/run installs and starts it"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def redis_reachable(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture
def browser_page(monkeypatch):
    """A page in Debian's headless Chromium, driven by Playwright (which never
    downloads a browser of its own here)."""
    require_external(os.path.exists(CHROMIUM), "Debian's chromium")
    # Playwright's sync API runs an event loop in this thread; the ORM calls the
    # test makes between browser steps are still plain synchronous calls.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        page = browser.new_page()
        page.set_default_timeout(15_000)
        yield page
        browser.close()


@pytest.fixture(scope="session", autouse=True)
def _close_stray_test_database_sessions(django_db_setup, django_db_blocker):
    """A live-server request thread can keep its PostgreSQL session past its
    test (seen after a token-authenticated request: the thread never reached
    request_finished); end such sessions before the test database is dropped,
    which PostgreSQL refuses while anyone is connected."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
