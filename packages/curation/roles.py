"""Per-project roles for users and teams (Django groups), each change journaled."""

from django.db import transaction
from django.db.models import Q

from packages.cache.keys import project_key
from packages.cache.purge import purge_after_commit
from packages.errors import DomainError, Forbidden
from packages.journal import record_journal_entry
from packages.models import Project, Role, RoleName


class RoleConflict(DomainError):
    status = 409


class RoleNotFound(DomainError):
    status = 404


def _holder(user, group) -> str:
    return user.get_username() if user is not None else group.name


def add_role(project: Project, *, role_name: str, user=None, group=None, by=None) -> Role:
    """Grant a role; if the holder already has one, change it instead."""
    if (user is None) == (group is None):
        raise ValueError("A role belongs to exactly one user or one group")
    # No savepoint of its own inside a caller's transaction (every caller lets an
    # error roll its whole transaction back): two round trips fewer for each
    # project an upload or importdists creates.
    with transaction.atomic(savepoint=False):
        existing = Role.objects.filter(project=project, user=user, group=group).first()
        holder = _holder(user, group)
        if existing is not None:
            if existing.role_name != role_name:
                record_journal_entry(
                    project, f"change {existing.role_name} {holder} to {role_name}", by=by
                )
                existing.role_name = role_name
                existing.save(update_fields=["role_name"])
                purge_after_commit([project_key(project.normalized_name)])
            return existing
        role = Role.objects.create(project=project, user=user, group=group, role_name=role_name)
        record_journal_entry(project, f"add {role_name} {holder}", by=by)
        purge_after_commit([project_key(project.normalized_name)])
        return role


def remove_role(role: Role, *, by=None) -> None:
    with transaction.atomic():
        role = Role.objects.select_related("project", "user", "group").get(pk=role.pk)
        record_journal_entry(role.project, f"remove {role.role_name} {role.holder_name}", by=by)
        purge_after_commit([project_key(role.project.normalized_name)])
        role.delete()


def roles_of_user(user, project: Project) -> set[str]:
    """The role names the user holds on the project, directly or through a team."""
    if user is None or not user.is_authenticated:
        return set()
    return set(
        Role.objects.filter(project=project)
        .filter(Q(user=user) | Q(group__in=user.groups.all()))
        .values_list("role_name", flat=True)
    )


def can_upload(user, project: Project) -> bool:
    return bool(roles_of_user(user, project) & {RoleName.OWNER, RoleName.MAINTAINER})


def check_may_change_maintainers(project: Project, by) -> None:
    """Only an Owner (directly or through a team) adds or removes Maintainers."""
    if RoleName.OWNER not in roles_of_user(by, project):
        raise Forbidden(f"Only an Owner of {project.name} can change its Maintainers.")


def add_maintainer(project: Project, user, *, by) -> Role:
    """An Owner of ``project`` (``by``, directly or through a team) makes ``user``
    a Maintainer. Unlike add_role it never changes a role the user already holds:
    an Owner is not demoted through this."""
    check_may_change_maintainers(project, by)
    with transaction.atomic():
        # One change to a project's roles at a time: the check below then holds.
        Project.objects.select_for_update().filter(pk=project.pk).first()
        existing = Role.objects.filter(project=project, user=user).first()
        if existing is not None:
            raise RoleConflict(
                f"'{user.get_username()}' already holds the {existing.role_name} role on "
                f"{project.name}."
            )
        return add_role(project, role_name=RoleName.MAINTAINER, user=user, by=by)


def remove_maintainer(project: Project, user, *, by) -> None:
    """An Owner of ``project`` removes ``user``'s Maintainer role; Owners (and the
    acting user's own role) are changed by a curator, not here."""
    check_may_change_maintainers(project, by)
    if user.pk == by.pk:
        raise DomainError("You cannot remove your own role.")
    with transaction.atomic():
        Project.objects.select_for_update().filter(pk=project.pk).first()
        role = Role.objects.filter(project=project, user=user).first()
        if role is None:
            raise RoleNotFound(f"'{user.get_username()}' holds no role on {project.name}.")
        if role.role_name != RoleName.MAINTAINER:
            raise Forbidden(
                f"'{user.get_username()}' is an {role.role_name} of {project.name}: only "
                "Maintainers can be removed here."
            )
        remove_role(role, by=by)
