import pytest

from tests.gunicorn_server import start_gunicorn
from tests.packages.upstream.servers import RecordingProxy, ScriptedServer

# The real upstream: another instance of this index, on its own database.
SETUP = """
from datetime import timedelta
from django.utils import timezone
from packages.models import File, Project, Release
from tests.factories import publish
publish("alpha", "1.0")
publish("alpha", "2.0")
Release.objects.filter(project__name="alpha", version="2.0").update(
    yanked=True, yanked_reason="broken build")
# 1.0 is old enough for any cooldown in these tests; 2.0 was uploaded just now.
File.objects.filter(release__version="1.0", release__project__name="alpha").update(
    upload_time=timezone.now() - timedelta(days=2))
publish("beta", "1.0", requires_python=">=3.8")
Project.objects.filter(name="beta").update(status="deprecated", status_reason="use gamma")
publish("hidden", "1.0")
Project.objects.filter(name="hidden").update(status="quarantined")
publish("shared", "1.0")
"""


@pytest.fixture(scope="session")
def real_index(tmp_path_factory):
    server = start_gunicorn(tmp_path_factory.mktemp("upstream-index"), workers=2, setup=SETUP)
    yield server
    server.stop()


@pytest.fixture
def real_upstream(real_index):
    """The real index behind a recording proxy (a fresh request log per test)."""
    proxy = RecordingProxy(real_index.url)
    yield proxy
    proxy.stop()


@pytest.fixture
def html_upstream(real_index):
    proxy = RecordingProxy(real_index.url, html_only=True)
    yield proxy
    proxy.stop()


@pytest.fixture
def scripted():
    server = ScriptedServer()
    yield server
    server.stop()


@pytest.fixture
def other_host():
    """A second scripted server under another host name (localhost)."""
    server = ScriptedServer(host="localhost")
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _upstream_settings(settings):
    """Short bounds so that failures show within a test's patience; the
    environment's upstream is re-read for each test."""
    from packages.upstream.config import forget_environment_sync

    settings.INDEX_UPSTREAM_URL = ""
    settings.INDEX_UPSTREAM_TIMEOUT = 3
    settings.INDEX_UPSTREAM_COOLDOWN = 0
    settings.INDEX_UPSTREAM_REVALIDATE = 600
    forget_environment_sync()
    yield
    forget_environment_sync()


@pytest.fixture(autouse=True)
def _no_fetch_left_claimed():
    """Every test ends with no page or file claimed in this process: a claim
    left behind would make the next request for it wait and answer 504."""
    from packages.upstream import flights

    yield
    assert flights._local == {}
