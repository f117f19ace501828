"""Several uploads in one transaction: what they may share.

``accept_upload(..., batch=UploadBatch(...))`` runs every check of every file,
but a look-up that does not depend on the file is made once per batch rather
than once per file: the project row, the uploader's permission on it, a release
already found or created, the archive inspection the caller already made of
the same bytes. importdists sends its files this way (one transaction per batch
of files); twine's endpoint passes no batch, so each upload looks everything up.

Why the remembered values stay true until the batch commits: a project is
remembered only once this transaction holds its row lock (``_record_upload``
takes it with SELECT ... FOR UPDATE), so its status, size and releases cannot
change under us; and a value is remembered only after the file's own savepoint
has committed, so a refused file that rolled back its project or release leaves
nothing behind here either."""

from dataclasses import dataclass, field

from django.db import transaction

from packages.models import Project, Release
from packages.uploads.archives import ArchiveContents


@dataclass
class UploadBatch:
    """Valid inside the one ``transaction.atomic()`` it was made in, for one
    uploader (and token): make a new one per transaction."""

    uploader: object
    token: object = None
    # normalized name -> the project row this transaction has locked
    projects: dict[str, Project] = field(default_factory=dict)
    # pks of the projects check_may_upload() let this uploader (and token) into
    allowed: set[int] = field(default_factory=set)
    # project pk -> every release of that locked project
    releases: dict[int, list[Release]] = field(default_factory=dict)
    # (sha256, filename, filetype, max ratio) -> the inspection of those bytes
    archives: dict[tuple, ArchiveContents] = field(default_factory=dict)

    def check_use(self, uploader, token) -> None:
        if uploader is not self.uploader or token is not self.token:
            raise RuntimeError("An UploadBatch serves one uploader and token.")
        if not transaction.get_connection().in_atomic_block:
            raise RuntimeError("An UploadBatch is only valid inside transaction.atomic().")

    def project(self, normalized_name: str) -> Project | None:
        return self.projects.get(normalized_name)

    def releases_of(self, project: Project) -> list[Release] | None:
        """Every release of the project, if the batch holds its lock."""
        return self.releases.get(project.pk)

    def lock_project(self, project: Project, releases: list[Release]) -> None:
        """The project's row is locked by this transaction; ``releases``, all of
        its releases, were read under that lock."""
        self.projects[project.normalized_name] = project
        self.releases[project.pk] = list(releases)

    def remember(self, project: Project, release: Release) -> None:
        """After a file's rows were written in the batch's transaction (its
        savepoint released): the uploader may upload there, the release exists."""
        self.allowed.add(project.pk)
        known = self.releases[project.pk]
        if all(r.pk != release.pk for r in known):
            known.append(release)


def inspect_archive_once(
    batch: UploadBatch | None, fileobj, filename: str, *, filetype: str, sha256: str,
    max_ratio: int,
) -> ArchiveContents:
    """``inspect_archive`` of these bytes, made once per batch (keyed by their
    SHA-256, the name and the type: the inspection depends on nothing else)."""
    from packages.uploads.archives import inspect_archive

    key = (sha256, filename, filetype, max_ratio)
    if batch is not None and key in batch.archives:
        return batch.archives[key]
    contents = inspect_archive(fileobj, filename, filetype=filetype, max_ratio=max_ratio)
    if batch is not None:
        batch.archives[key] = contents
    return contents
