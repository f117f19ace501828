"""Changelist filters of the curation admin (projects and the journal)."""

from django.contrib import admin
from django.db.models import Exists, OuterRef, Q

from packages.models import FROZEN_PROJECT_STATUSES, ProjectStatus, Release


class _YesNoFilter(admin.SimpleListFilter):
    condition: Q

    def lookups(self, request, model_admin):
        return (("yes", "Yes"), ("no", "No"))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(self.condition)
        if self.value() == "no":
            return queryset.exclude(self.condition)
        return queryset


class PendingFilter(_YesNoFilter):
    title = "pending approval"
    parameter_name = "pending"
    condition = Q(status=ProjectStatus.PENDING)


class FrozenFilter(_YesNoFilter):
    """Frozen: takes no new upload (archived or quarantined)."""

    title = "frozen (no uploads)"
    parameter_name = "frozen"
    condition = Q(status__in=FROZEN_PROJECT_STATUSES)


class HasYankedFilter(_YesNoFilter):
    title = "has yanked releases"
    parameter_name = "has_yanked"

    @property
    def condition(self):
        return Q(Exists(Release.objects.filter(project=OuterRef("pk"), yanked=True)))


class JournalProjectFilter(admin.SimpleListFilter):
    """?project=<name>: the entries of one project, as recorded (no choices listed:
    the project page links here)."""

    title = "project"
    parameter_name = "project"

    def lookups(self, request, model_admin):
        value = self.value()
        return [(value, value)] if value else []

    def queryset(self, request, queryset):
        return queryset.filter(name=self.value()) if self.value() else queryset


class JournalUserFilter(admin.SimpleListFilter):
    """Entries submitted by one user; the choices come from the (small) user table,
    not from a DISTINCT over the journal."""

    title = "user"
    parameter_name = "user"

    def lookups(self, request, model_admin):
        from django.contrib.auth import get_user_model

        User = get_user_model()
        names = User.objects.order_by(User.USERNAME_FIELD).values_list(
            User.USERNAME_FIELD, flat=True)[:200]
        return [(name, name) for name in names]

    def queryset(self, request, queryset):
        return queryset.filter(submitted_by=self.value()) if self.value() else queryset


# Journal actions by kind: the text PyPI's journal starts with.
JOURNAL_ACTION_KINDS = {
    "create": ("create",),
    "new release": ("new release",),
    "add file": ("add ",),
    "remove": ("remove ",),
    "yank": ("yank release", "unyank release"),
    "project status": ("project ",),
    "release quarantine": ("release quarantine",),
    "roles": ("add Owner", "add Maintainer", "remove Owner", "remove Maintainer", "change ",
              "transfer ownership"),
}


class JournalActionFilter(admin.SimpleListFilter):
    title = "action"
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return [(kind, kind) for kind in JOURNAL_ACTION_KINDS]

    def queryset(self, request, queryset):
        prefixes = JOURNAL_ACTION_KINDS.get(self.value())
        if not prefixes:
            return queryset
        condition = Q()
        for prefix in prefixes:
            condition |= Q(action__startswith=prefix)
        if self.value() == "add file":
            condition &= Q(action__contains=" file ") & ~Q(action__startswith="add Owner")
        if self.value() == "remove":
            condition &= ~Q(action__startswith="remove Owner") & ~Q(
                action__startswith="remove Maintainer")
        return queryset.filter(condition)
