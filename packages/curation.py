"""Admin curation of projects: create by hand, change the PEP 792 status."""

from django.db import transaction

from packages.caching import purge_project_after_commit
from packages.journal import record_journal_entry
from packages.models import Project, ProjectStatus
from packages.names import check_new_project_name


def create_project(name: str, *, by=None, **fields) -> Project:
    """Register a project by hand (uploads create theirs in packages.uploads), under
    the name rule an upload obeys."""
    check_new_project_name(name)
    with transaction.atomic():
        project = Project.objects.create(name=name, **fields)
        record_journal_entry(project, "create", by=by)
        purge_project_after_commit(project)
    return project


def set_project_status(project: Project, status: str, *, reason: str = "", by=None) -> bool:
    """Change a project's status; quarantine hides it from every API. Returns
    False when nothing changed."""
    with transaction.atomic():
        project = Project.objects.select_for_update().get(pk=project.pk)
        if project.status == status and project.status_reason == reason:
            return False
        previous = project.status
        project.status = status
        project.status_reason = reason
        project.save(update_fields=["status", "status_reason"])
        if status == ProjectStatus.QUARANTINED and previous != status:
            record_journal_entry(project, "project quarantined", by=by)
        elif previous == ProjectStatus.QUARANTINED and status != previous:
            record_journal_entry(project, "project quarantine cleared", by=by)
        else:
            # Archived/deprecated markers change the simple pages (PEP 792) too.
            record_journal_entry(project, f"project status {status}", by=by)
        purge_project_after_commit(project)
    return True
