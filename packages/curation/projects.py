"""Admin curation of projects: create by hand, change the PEP 792 status
(active, archived, deprecated, quarantined), and settle the moderation queue
(approve or refuse a pending project). Each change is one transaction with its
journal entry, which moves the project's serial so that cached pages refresh,
and a purge after commit."""

from django.db import transaction

from packages.cache.purge import purge_project_after_commit
from packages.errors import DomainError
from packages.journal import record_journal_entry
from packages.models import Project, ProjectStatus
from packages.names import check_new_project_name


def create_project(name: str, *, by=None, **fields) -> Project:
    """Register a project by hand (uploads create theirs in packages.uploads.operation), under
    the name rule an upload obeys."""
    check_new_project_name(name)
    with transaction.atomic():
        project = Project.objects.create(name=name, **fields)
        record_journal_entry(project, "create", by=by)
        purge_project_after_commit(project)
    return project


def status_action(previous: str, status: str) -> str:
    if status == ProjectStatus.QUARANTINED:
        return "project quarantined"  # mirrors look for this (xmlrpc_queries)
    if previous == ProjectStatus.QUARANTINED:
        return "project quarantine cleared"
    if previous == ProjectStatus.PENDING and status == ProjectStatus.ACTIVE:
        return "project approved"
    # Archived/deprecated markers change the simple pages (PEP 792) too.
    return f"project status {status}"


def set_project_status(project: Project, status: str, *, reason: str = "", by=None) -> bool:
    """Change a project's status (and the PEP 792 reason shown with it).
    Quarantine hides it from every API, archive refuses new uploads, deprecate
    only marks it. Returns False when nothing changed."""
    if status not in ProjectStatus.values:
        raise DomainError(f"'{status}' is not a project status.")
    with transaction.atomic():
        project = Project.objects.select_for_update().get(pk=project.pk)
        if project.status == status and project.status_reason == reason:
            return False
        previous = project.status
        project.status = status
        project.status_reason = reason
        project.save(update_fields=["status", "status_reason"])
        record_journal_entry(project, status_action(previous, status), by=by)
        purge_project_after_commit(project)
    return True


def approve_project(project: Project, *, by=None) -> bool:
    """A pending project (INDEX_PROJECT_CREATION=moderated) becomes active and
    installable. Returns False when it was not pending."""
    with transaction.atomic():
        project = Project.objects.select_for_update().get(pk=project.pk)
        if project.status != ProjectStatus.PENDING:
            return False
        return set_project_status(project, ProjectStatus.ACTIVE, by=by)


def refuse_project(project: Project, *, reason: str = "", by=None) -> bool:
    """A pending project is refused: it becomes quarantined with the reason, so it
    stays hidden and its name stays taken (deleting a project is a superuser's
    act, packages.curation.deletion). Returns False when it was not pending."""
    with transaction.atomic():
        project = Project.objects.select_for_update().get(pk=project.pk)
        if project.status != ProjectStatus.PENDING:
            return False
        project.status = ProjectStatus.QUARANTINED
        project.status_reason = reason
        project.save(update_fields=["status", "status_reason"])
        record_journal_entry(project, "project refused", by=by)
        purge_project_after_commit(project)
    return True
