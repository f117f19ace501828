"""The spec's example project (json-api.md §8), built row by row so that every
value in the response is under the test's control."""

import datetime as dt
from pathlib import Path

import pytest
from django.db import transaction

from packages.models import File, Project, Release
from packages.storage import distribution_path
from tests.factories import create_project, create_release, create_user

EXPECTED_TINYPROJ = (Path(__file__).parent / "examples" / "tinyproj.json").read_bytes()
TINYPROJ_SERIAL = 31000017


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def add_file_row(release: Release, filename: str, *, size: int, md5: str, sha256: str,
                 blake2: str, upload_time: dt.datetime, metadata_sha256: str = "",
                 packagetype: str = "bdist_wheel", python_version: str = "py3") -> File:
    """A File row with given digests (the bytes themselves are not needed here)."""
    return File.objects.create(
        release=release, filename=filename, packagetype=packagetype,
        python_version=python_version, size=size, md5_digest=md5, sha256_digest=sha256,
        blake2_256_digest=blake2, upload_time=upload_time,
        path=distribution_path(blake2, filename), metadata_sha256=metadata_sha256,
    )


def build_tinyproj() -> Project:
    ada = create_user("ada")
    project = create_project("tinyproj", owner=ada)
    common = dict(
        author_email="Ada Example <ada@example.org>",
        classifiers=["Programming Language :: Python :: 3", "License :: OSI Approved :: MIT License"],
        description="# tinyproj\n\nA tiny project.\n",
        description_content_type="text/markdown",
        license_expression="MIT",
        license_files=["LICENSE"],
        project_urls=["Source, https://example.org/tinyproj"],
        requires_dist=["requests>=2"],
        summary="A tiny project",
    )
    first = create_release(project, "1.0.0", requires_python=">=3.9", **common)
    add_file_row(
        first, "tinyproj-1.0.0-py3-none-any.whl", size=4210,
        md5="28301adc3e7079e5cb2701b3c4f7ee52",
        sha256="98146fbc0a72c89b6289c66dc02bed8a5395f310718106e5aec9573e5ec98ecd",
        blake2="14a9cddb57a721d0158e8f7d2620398ca40b8c327b028da2f13cdb9a0cd13f2a",
        upload_time=utc(2026, 3, 2, 10, 15, 7, 123456),
        metadata_sha256="5cd112bf5acc83d82d48f6c63e90c4c3801fae18ca3e1ba9c5e772daf05e6e8f",
    )
    add_file_row(
        first, "tinyproj-1.0.0.tar.gz", size=3987,
        md5="6259f75131d3bb108720b962b37f1f00",
        sha256="6bcc8f628b7e8398df923c5dd5e43b2ded6e07b6dac3f95db6b3a328d16aa797",
        blake2="2851d7350462b4b1ec4d7562fd86995bd688686ecae8b6d831208e7764520f5f",
        upload_time=utc(2026, 3, 2, 10, 15, 9), packagetype="sdist", python_version="source",
    )
    second = create_release(
        project, "1.1.0", requires_python=">=3.10", yanked=True,
        yanked_reason="broken import on Windows", **common,
    )
    add_file_row(
        second, "tinyproj-1.1.0-py3-none-any.whl", size=4388,
        md5="b20da84ef78cc456bb8b1ff3d38f0070",
        sha256="7add80c0990b174155126e1e9d746e6c07b35f1630d7befe45f4583e384be743",
        blake2="ab12071e72f1b929bbfc945a65b87affda94ae2bc9e2c06c62288ff4190e177d",
        upload_time=utc(2026, 4, 11, 8, 0, 41, 500000),
        metadata_sha256="7718139a2561674567236ec332e3174fe40c0ee9506b19496585828bdb4a0eb2",
    )
    with transaction.atomic():
        Project.objects.filter(pk=project.pk).update(last_serial=TINYPROJ_SERIAL)
    project.refresh_from_db()
    return project


@pytest.fixture
def pypi_base_url(settings):
    settings.INDEX_BASE_URL = "https://pypi.org"
    return settings.INDEX_BASE_URL


@pytest.fixture
def tinyproj(db, pypi_base_url):
    return build_tinyproj()
