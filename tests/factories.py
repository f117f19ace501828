"""Rows and stored files for tests that need an index with content but are not
about uploading (the upload path itself is tested through legacy/ and twine)."""

import hashlib
import io

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F

from packages.curation.roles import add_role
from packages.journal import record_journal_entry
from packages.models import File, Filename, PackageType, Project, Release, RoleName
from packages.storage import distribution_path, hash_fileobj, save_stored
from tests.dists import make_sdist, make_wheel


def create_user(username: str = "alice", password: str = "s3cret-password", **extra):
    return get_user_model().objects.create_user(username=username, password=password, **extra)


def create_project(name: str, *, owner=None, **fields) -> Project:
    with transaction.atomic():
        project = Project.objects.create(name=name, **fields)
        record_journal_entry(project, "create", by=owner)
        if owner is not None:
            add_role(project, role_name=RoleName.OWNER, user=owner, by=owner)
    return project


def create_release(project: Project, version: str, **fields) -> Release:
    with transaction.atomic():
        release = Release.objects.create(
            project=project,
            version=version,
            metadata_version=fields.pop("metadata_version", "2.4"),
            summary=fields.pop("summary", "A test package"),
            **fields,
        )
        record_journal_entry(project, "new release", version=version)
    return release


def add_file(release: Release, filename: str, content: bytes, *, metadata: str | None = None,
             requires_python: str = "", packagetype: str | None = None,
             python_version: str | None = None) -> File:
    """Store ``content`` (and PEP 658 ``metadata``) and record the File row."""
    digests = hash_fileobj(io.BytesIO(content))
    path = distribution_path(digests.blake2_256, filename)
    is_wheel = filename.endswith(".whl")
    packagetype = packagetype or (PackageType.WHEEL if is_wheel else PackageType.SDIST)
    python_version = python_version or (filename.split("-")[-3] if is_wheel else "source")
    metadata_fields = {}
    save_stored(path, io.BytesIO(content))
    if metadata is not None:
        data = metadata.encode()
        save_stored(f"{path}.metadata", io.BytesIO(data))
        metadata_fields = {
            "metadata_sha256": hashlib.sha256(data).hexdigest(),
            "metadata_blake2_256": hashlib.blake2b(data, digest_size=32).hexdigest(),
        }
    with transaction.atomic():
        Filename.objects.create(filename=filename)
        file = File.objects.create(
            release=release, filename=filename, packagetype=packagetype,
            python_version=python_version, requires_python=requires_python,
            size=digests.size, md5_digest=digests.md5, sha256_digest=digests.sha256,
            blake2_256_digest=digests.blake2_256, path=path, **metadata_fields,
        )
        Project.objects.filter(pk=release.project_id).update(
            total_size=F("total_size") + digests.size
        )
        record_journal_entry(
            release.project, f"add {python_version} file {filename}", version=release.version
        )
    return file


def publish(name: str, version: str, *, owner=None, requires_python: str | None = None,
            wheel: bool = True, sdist: bool = True, **release_fields) -> Release:
    """A project (created if needed) with a release of an installable wheel and an sdist."""
    project = Project.objects.filter(name=name).first() or create_project(name, owner=owner)
    release = create_release(project, version, requires_python=requires_python or "",
                             **release_fields)
    if wheel:
        filename, content, metadata = make_wheel(name, version, requires_python=requires_python)
        add_file(release, filename, content, metadata=metadata,
                 requires_python=requires_python or "")
    if sdist:
        filename, content = make_sdist(name, version, requires_python=requires_python)
        add_file(release, filename, content, requires_python=requires_python or "")
    return release
