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
nothing behind here either.

The duplicate check (``check_not_duplicate``'s rule) is answered from memory
for the names and SHA-256 digests the caller announced with
``prefetch_duplicates()``: one look-up of the File and Filename rows for all of
them, kept current with the files this transaction adds. A name or digest not
announced, or more than one candidate (whose order the database's collation
decides), is looked up as without a batch.

The batch is a context manager, entered inside the transaction: each project's
total size is written once, when the block ends without error, by what the
batch's committed files added (rather than an UPDATE per file)."""

from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q

from packages.models import File, Filename, Project, Release
from packages.project_updates import update_per_project
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
    # The duplicate check's rows for the names and digests prefetch_duplicates()
    # was given (complete for those keys), and the files added since.
    checked_names: set[str] = field(default_factory=set)
    checked_sha256s: set[str] = field(default_factory=set)
    files_by_name: dict[str, File] = field(default_factory=dict)
    files_by_sha256: dict[str, list[File]] = field(default_factory=dict)
    used_names: set[str] = field(default_factory=set)
    # project pk -> bytes its files added in this batch, written on exit
    sizes_added: dict[int, int] = field(default_factory=dict)
    entered: bool = False
    # packages.upstream.config.enabled_upstreams(), read once for the batch
    upstreams: list | None = None

    def __enter__(self) -> "UploadBatch":
        if not transaction.get_connection().in_atomic_block:
            raise RuntimeError("An UploadBatch is only valid inside transaction.atomic().")
        self.entered = True
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.entered = False
        if exc_type is None:
            self.write_sizes()

    def write_sizes(self) -> None:
        """Move each project's total_size by what this batch added, one
        statement per 200 projects (the rows are locked by this transaction)."""
        sizes, self.sizes_added = self.sizes_added, {}
        update_per_project("total_size", sizes, add=True)

    def prefetch_duplicates(self, filenames, sha256s) -> None:
        """One look-up of the files that could make these names or bytes
        duplicates (and of the names ever used), for the duplicate check."""
        filenames, sha256s = set(filenames), set(sha256s)
        if not filenames and not sha256s:
            return
        for chunk in _chunks(sorted(filenames)):
            self.used_names.update(
                Filename.objects.filter(filename__in=chunk).values_list("filename", flat=True))
            for file in File.objects.filter(filename__in=chunk):
                self._add_file(file)
        for chunk in _chunks(sorted(sha256s)):
            for file in File.objects.filter(Q(sha256_digest__in=chunk)):
                self._add_file(file)
        self.checked_names |= filenames
        self.checked_sha256s |= sha256s

    def duplicate_candidates(self, filename: str, sha256: str) -> tuple[list[File], bool] | None:
        """(files with this name or these bytes, whether the name was ever used),
        or None when the batch cannot tell (not prefetched)."""
        if filename not in self.checked_names or sha256 not in self.checked_sha256s:
            return None
        candidates = {}
        for file in [self.files_by_name.get(filename), *self.files_by_sha256.get(sha256, ())]:
            if file is not None:
                candidates[file.pk] = file
        return list(candidates.values()), filename in self.used_names

    def _add_file(self, file: File) -> None:
        self.files_by_name[file.filename] = file
        same = self.files_by_sha256.setdefault(file.sha256_digest, [])
        if all(other.pk != file.pk for other in same):
            same.append(file)

    def check_use(self, uploader, token) -> None:
        if uploader is not self.uploader or token is not self.token:
            raise RuntimeError("An UploadBatch serves one uploader and token.")
        if not self.entered or not transaction.get_connection().in_atomic_block:
            raise RuntimeError("An UploadBatch is used inside its with block, itself "
                               "inside transaction.atomic().")

    def enabled_upstreams(self) -> list:
        """The upstreams a new project's name is checked against, read once."""
        if self.upstreams is None:
            from packages.upstream.config import enabled_upstreams

            self.upstreams = enabled_upstreams()
        return self.upstreams

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

    def remember(self, project: Project, release: Release, file: File | None = None) -> None:
        """After a file's rows were written in the batch's transaction (its
        savepoint released): the uploader may upload there, the release exists,
        the file and its name are taken."""
        self.allowed.add(project.pk)
        if file is not None:
            self._add_file(file)
            self.used_names.add(file.filename)
            self.sizes_added[project.pk] = self.sizes_added.get(project.pk, 0) + file.size
        known = self.releases[project.pk]
        if all(r.pk != release.pk for r in known):
            known.append(release)


def _chunks(values: list, size: int = 500):
    # Under SQLite's and PostgreSQL's limits on query parameters.
    for start in range(0, len(values), size):
        yield values[start:start + size]


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
