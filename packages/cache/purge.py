"""Purges after commit: nothing is purged for a rolled-back change. Rendered
simple/JSON pages are also keyed by the project's last serial, so a journaled
change needs no purge to show: the next request misses. A change that writes no
journal entry (the upstream proxy's rows and pages, a role holder renamed or
deleted) leaves a PendingPurge row in its own transaction instead, so that a
purge lost on its way is still sent by the catch-up (packages/cache/catchup.py).
"""

from collections.abc import Iterable

from django.db import transaction

from packages.cache.keys import keys_for_project, project_key
from packages.cache.models import PendingPurge
from packages.cache.tasks import purge_cache_keys


def purge_after_commit(keys: Iterable[str]) -> None:
    """Queue a purge of ``keys`` for when the current transaction commits."""
    keys = sorted(set(keys))
    if keys:
        # robust: a purge that fails (broker or CDN down) is logged, never turned
        # into an error for a change that has already committed; a journaled
        # change's keys are sent again by packages/cache/catchup.py.
        transaction.on_commit(lambda: purge_cache_keys.delay(keys), robust=True)


def purge_unjournaled_after_commit(keys: Iterable[str]) -> None:
    """As purge_after_commit, for a change the journal does not record: the keys
    are also kept in a PendingPurge row, written with the change, that the task
    deletes once every target took them and the catch-up sends otherwise."""
    keys = sorted(set(keys))
    if keys:
        pending = PendingPurge.objects.create(keys=" ".join(keys)).pk
        transaction.on_commit(lambda: purge_cache_keys.delay(keys, pending=pending),
                              robust=True)


def purge_project_after_commit(project) -> None:
    purge_after_commit(keys_for_project(project))


# Role holders' names are part of API documents (JSON ``ownership``, XML-RPC
# ``package_roles``), but renaming a user or a team, or deleting one (its roles
# go with it), writes no journal entry: purge the projects concerned, as PyPI
# does when a user is renamed.


def _role_projects(**holder) -> list[str]:
    from packages.models import Role

    return list(
        Role.objects.filter(**holder).values_list("project__normalized_name", flat=True)
    )


def purge_projects_of_renamed_holder(sender, instance, update_fields=None, **kwargs):
    """pre_save receiver for the user model and Group."""
    from django.contrib.auth.models import Group

    is_team = issubclass(sender, Group)
    field = "name" if is_team else sender.USERNAME_FIELD
    if instance.pk is None or (update_fields is not None and field not in update_fields):
        return
    stored = sender._default_manager.filter(pk=instance.pk).values_list(field, flat=True).first()
    if stored is None or stored == getattr(instance, field):
        return
    names = _role_projects(**{"group_id" if is_team else "user_id": instance.pk})
    purge_unjournaled_after_commit(project_key(name) for name in names)


def purge_project_of_deleted_role(sender, instance, **kwargs):
    """pre_delete receiver for Role (also sent for roles deleted with their holder)."""
    purge_unjournaled_after_commit(project_key(name) for name in _role_projects(pk=instance.pk))
