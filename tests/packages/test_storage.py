import io

import pytest

from packages.storage import distributions_storage, removed_on_failure, save_stored
from tests.factories import publish


def test_failed_upload_removes_what_it_stored(db):
    with pytest.raises(RuntimeError), removed_on_failure() as stored:
        stored.append(save_stored("packages/aa/bb/cc/orphan-1.0.tar.gz", io.BytesIO(b"x")))
        raise RuntimeError("the transaction failed")
    assert not distributions_storage().exists("packages/aa/bb/cc/orphan-1.0.tar.gz")


def test_failed_upload_keeps_an_object_a_committed_file_shares(db):
    # An identical upload committed the same content-addressed path meanwhile.
    file = publish("shared-blob", "1.0", sdist=False).files.get()
    with pytest.raises(RuntimeError), removed_on_failure() as stored:
        stored.extend([file.path, file.metadata_path])
        raise RuntimeError("this upload was refused after storing")
    storage = distributions_storage()
    assert storage.exists(file.path) and storage.exists(file.metadata_path)
    with storage.open(file.path) as handle:
        assert len(handle.read()) == file.size
