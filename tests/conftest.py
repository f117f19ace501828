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
