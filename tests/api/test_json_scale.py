"""A project with many releases is served in a fixed number of queries."""

import hashlib
import json

from django.utils import timezone

from packages.models import File, Project, Release
from packages.storage import distribution_path
from tests.factories import create_project


def build_big_project(name: str, releases: int, files_per_release: int) -> Project:
    """Rows only (no stored bytes): ``releases`` versions 0.0.1 .. with files each."""
    project = create_project(name)
    now = timezone.now()
    Release.objects.bulk_create(
        Release(
            project=project, version=f"{i // 100}.{i % 100}.{i % 7}",
            canonical_version=f"{i // 100}.{i % 100}.{i % 7}", summary=f"release {i}",
            requires_dist=["requests>=2"], created=now,
        )
        for i in range(releases)
    )
    files = []
    for release in Release.objects.filter(project=project).only("id", "version"):
        for n in range(files_per_release):
            filename = f"{name}-{release.version}-py3-none-any{n}.whl"
            blake2 = hashlib.blake2b(filename.encode(), digest_size=32).hexdigest()
            files.append(File(
                release=release, filename=filename, packagetype="bdist_wheel",
                python_version="py3", size=1000 + n, md5_digest="0" * 32,
                sha256_digest="1" * 64, blake2_256_digest=blake2, upload_time=now,
                path=distribution_path(blake2, filename),
            ))
    File.objects.bulk_create(files, batch_size=2000)
    return project


def test_thousand_releases_in_bounded_queries(client, db, django_assert_max_num_queries):
    build_big_project("big", releases=1000, files_per_release=3)
    client.get("/pypi/warm-up/json")  # middleware caches (consumer bans) are loaded once
    with django_assert_max_num_queries(5):
        response = client.get("/pypi/big/json")
    assert response.status_code == 200
    body = json.loads(response.content)
    assert len(body["releases"]) == 1000
    assert sum(len(files) for files in body["releases"].values()) == 3000
    assert body["info"]["version"] == "9.99.5"  # i = 999
    assert len(body["urls"]) == 3
    with django_assert_max_num_queries(5):
        assert client.get("/pypi/big/5.5.1/json").status_code == 200
    # "7" names the stored "7.0.0": found by comparing canonical forms, one more query.
    with django_assert_max_num_queries(6):
        release = client.get("/pypi/big/7/json")
    assert json.loads(release.content)["info"]["version"] == "7.0.0"
    # Served from the serial-keyed cache afterwards: only the project lookup.
    with django_assert_max_num_queries(1):
        assert client.get("/pypi/big/json").content == response.content
