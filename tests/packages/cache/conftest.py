import pytest

from tests.packages.cache.processes import RecordingNode


@pytest.fixture
def recording_node(settings):
    """The one CDN node of INDEX_CDN_PURGE_URL, recording what it is asked to purge."""
    node = RecordingNode()
    settings.INDEX_CDN_PURGE_URL = [node.url]
    yield node
    node.stop()
