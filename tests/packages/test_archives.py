"""packages.uploads.archives: wheel and sdist structure checks, read without expanding."""

import io
import tarfile
import zipfile

import pytest

from packages.errors import UploadRejected
from packages.uploads.archives import check_archive, inspect_sdist, inspect_wheel
from tests.dists import core_metadata, make_sdist, make_wheel


def zip_of(members: dict[str, bytes]) -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    buffer.seek(0)
    return buffer


def good_wheel_members(**extra) -> dict[str, bytes]:
    return {
        "hello-1.0.dist-info/METADATA": core_metadata("hello", "1.0").encode(),
        "hello-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\n",
        "hello-1.0.dist-info/RECORD": b"",
        **extra,
    }


def test_wheel_inspection_returns_the_metadata_bytes_verbatim():
    filename, content, metadata = make_wheel("hello", "1.0")

    contents = inspect_wheel(io.BytesIO(content), filename, max_ratio=50)

    assert contents.metadata == metadata.encode()
    assert contents.metadata_path == "hello-1.0.dist-info/METADATA"


def test_sdist_inspection_returns_pkg_info():
    filename, content = make_sdist("hello", "1.0")

    contents = inspect_sdist(io.BytesIO(content), filename, max_ratio=50)

    assert contents.metadata == core_metadata("hello", "1.0").encode()
    assert contents.metadata_path == "hello-1.0/PKG-INFO"


def test_small_members_that_compress_very_well_are_accepted():
    members = good_wheel_members(**{"hello/blank.txt": b" " * 500_000})

    inspect_wheel(zip_of(members), "hello-1.0-py3-none-any.whl", max_ratio=50)


def test_the_ratio_limit_is_a_setting():
    members = good_wheel_members(**{"hello/data.bin": b"ab" * 1_000_000})

    inspect_wheel(zip_of(members), "hello-1.0-py3-none-any.whl", max_ratio=5000)
    with pytest.raises(UploadRejected, match="exceeds 50"):
        inspect_wheel(zip_of(members), "hello-1.0-py3-none-any.whl", max_ratio=50)


def test_refuses_a_lying_size_header_by_reading_in_bounded_chunks():
    members = good_wheel_members()
    members["hello-1.0.dist-info/METADATA"] = b"Metadata-Version: 2.1\n" + b"x" * (17 * 2**20)

    with pytest.raises(UploadRejected, match="METADATA' is larger than"):
        inspect_wheel(zip_of(members), "hello-1.0-py3-none-any.whl", max_ratio=10**6)


def test_refuses_duplicate_zip_members():
    buffer = zip_of(good_wheel_members())
    with zipfile.ZipFile(buffer, "a") as archive, pytest.warns(UserWarning):
        archive.writestr("hello-1.0.dist-info/WHEEL", b"again")
    buffer.seek(0)

    with pytest.raises(UploadRejected, match="duplicate member"):
        inspect_wheel(buffer, "hello-1.0-py3-none-any.whl", max_ratio=50)


def test_refuses_invalid_console_script_names():
    members = good_wheel_members(**{
        "hello-1.0.dist-info/entry_points.txt": b"[console_scripts]\nbad name! = hello:main\n",
    })

    with pytest.raises(UploadRejected, match="invalid entry points"):
        inspect_wheel(zip_of(members), "hello-1.0-py3-none-any.whl", max_ratio=50)


def test_refuses_missing_license_file():
    metadata = core_metadata("hello", "1.0", extra=[("License-File", "LICENSE")])
    members = good_wheel_members(**{"hello-1.0.dist-info/METADATA": metadata.encode()})

    with pytest.raises(UploadRejected, match="License-File LICENSE does not exist"):
        inspect_wheel(zip_of(members), "hello-1.0-py3-none-any.whl", max_ratio=50)


def test_refuses_sparse_tar_members():
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.GNU_FORMAT) as archive:
        info = tarfile.TarInfo("hello-1.0/PKG-INFO")
        data = core_metadata("hello", "1.0").encode()
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
        sparse = tarfile.TarInfo("hello-1.0/sparse.bin")
        sparse.type = tarfile.GNUTYPE_SPARSE
        archive.addfile(sparse)
    buffer.seek(0)

    with pytest.raises(UploadRejected, match="Sparse members are not allowed|not a valid"):
        inspect_sdist(buffer, "hello-1.0.tar.gz", max_ratio=50)


def test_sdist_metadata_is_not_cross_checked_as_pypi():
    filename, content = make_sdist("hello", "1.0", metadata=core_metadata("other", "9"))

    check_archive(io.BytesIO(content), filename, filetype="sdist", name="hello", version="1.0",
                  max_ratio=50)


def test_wheel_metadata_version_spelling_may_differ_from_the_form():
    filename, content, _ = make_wheel("hello", "1.0.0")

    check_archive(io.BytesIO(content), filename, filetype="bdist_wheel", name="Hello",
                  version="1.0", max_ratio=50)
