"""Transfer of a project's ownership to one user or one team: the new holder
becomes the only Owner. Previous owners lose their role, or keep the project as
Maintainers when asked. One transaction; every role change is journaled by
packages.curation.roles, which also purges the project's keys after commit."""

from django.db import transaction

from packages.cache.purge import purge_project_after_commit
from packages.curation.roles import add_role, remove_role
from packages.errors import DomainError
from packages.journal import record_journal_entry
from packages.models import Project, Role, RoleName


def owners_replaced(project: Project, *, user=None, group=None) -> list[Role]:
    """The Owner roles a transfer to ``user`` or ``group`` takes away (for the
    confirmation page, and for the transfer itself)."""
    roles = Role.objects.filter(project=project, role_name=RoleName.OWNER)
    roles = roles.exclude(user=user) if user is not None else roles.exclude(group=group)
    return list(roles.select_related("user", "group"))


def transfer_ownership(
    project: Project, *, user=None, group=None, keep_as_maintainers: bool = False, by=None
) -> list[Role]:
    """Make ``user`` or ``group`` the project's only Owner; returns the roles taken
    from the previous owners."""
    if (user is None) == (group is None):
        raise DomainError("Ownership goes to exactly one user or one team.")
    with transaction.atomic():
        project = Project.objects.select_for_update().get(pk=project.pk)
        previous = owners_replaced(project, user=user, group=group)
        holder = user.get_username() if user is not None else group.name
        record_journal_entry(project, f"transfer ownership to {holder}", by=by)
        add_role(project, role_name=RoleName.OWNER, user=user, group=group, by=by)
        for role in previous:
            if keep_as_maintainers:
                add_role(project, role_name=RoleName.MAINTAINER, user=role.user,
                         group=role.group, by=by)
            else:
                remove_role(role, by=by)
        purge_project_after_commit(project)
    return previous
