import pytest


@pytest.fixture(autouse=True)
def _fresh_simple_pages():
    """The simple pages' per-process LRU is keyed by serials, which SQLite may
    reuse across tests (rolled-back ids); start every test without it."""
    from packages.http.shared_cache import local_bodies

    local_bodies.clear()
    yield
    local_bodies.clear()
