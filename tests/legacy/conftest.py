import pytest


@pytest.fixture(autouse=True)
def _fresh_simple_pages():
    """The simple pages' per-process LRU is keyed by serials, which SQLite may
    reuse across tests (rolled-back ids); start every test without it."""
    from legacy.simple_pages import clear_local_cache

    clear_local_cache()
    yield
    clear_local_cache()
