"""Delete files, releases and projects. Filenames stay reserved forever (the
Filename rows are never touched), and stored objects are removed by a Celery task
queued when the database change commits, so a rolled-back delete loses nothing."""

from django.db import transaction
from django.db.models import F

from packages.cache.purge import purge_project_after_commit
from packages.journal import record_journal_entry
from packages.models import File, Project, Release
from packages.storage import delete_stored_after_commit


def _forget_files(project: Project, files: list[File]) -> None:
    size = sum(f.size for f in files)
    if size:
        Project.objects.filter(pk=project.pk).update(total_size=F("total_size") - size)
    paths = [f.path for f in files] + [f.metadata_path for f in files if f.has_metadata]
    delete_stored_after_commit(paths)


def delete_file(file: File, *, by=None) -> None:
    with transaction.atomic():
        file = File.objects.select_related("release__project").get(pk=file.pk)
        release, project = file.release, file.release.project
        record_journal_entry(
            project, f"remove file {file.filename}", version=release.version, by=by
        )
        _forget_files(project, [file])
        file.delete()
        purge_project_after_commit(project)


def delete_release(release: Release, *, by=None) -> None:
    with transaction.atomic():
        release = Release.objects.select_related("project").get(pk=release.pk)
        project = release.project
        files = list(release.files.all())
        for f in files:
            record_journal_entry(
                project, f"remove file {f.filename}", version=release.version, by=by
            )
        record_journal_entry(project, "remove release", version=release.version, by=by)
        _forget_files(project, files)
        release.delete()
        purge_project_after_commit(project)


def delete_project(project: Project, *, by=None) -> None:
    with transaction.atomic():
        project = Project.objects.get(pk=project.pk)
        files = list(File.objects.filter(release__project=project))
        _forget_files(project, files)
        record_journal_entry(project, "remove project", by=by)
        # Purge keys are computed before the row goes away.
        purge_project_after_commit(project)
        project.delete()
