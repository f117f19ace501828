"""Records nobody edits through the admin: the journal (the audit log) and the
filename registry; and the prohibited names, which only superusers change."""

from django.contrib import admin

from packages.admin.filters import JournalActionFilter, JournalProjectFilter, JournalUserFilter
from packages.models import Filename, JournalEntry, ProhibitedProjectName


class ViewOnlyAdmin(admin.ModelAdmin):
    """Read-only for everyone, superusers included: no add, change, delete or action."""

    actions = None

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(JournalEntry)
class JournalEntryAdmin(ViewOnlyAdmin):
    """The audit log: every curation action and upload, searchable by project,
    user, action and date. Its ids are the index's serials."""

    list_display = ("id", "name", "version", "action", "submitted_by", "submitted_date")
    search_fields = ("name", "version", "action", "submitted_by")
    list_filter = (JournalProjectFilter, JournalActionFilter, JournalUserFilter)
    date_hierarchy = "submitted_date"
    # The newest first; the id (the serial) orders entries of the same instant.
    ordering = ("-id",)
    show_full_result_count = False  # a COUNT(*) over the whole journal on every page


@admin.register(Filename)
class FilenameAdmin(ViewOnlyAdmin):
    list_display = ("filename", "created")
    search_fields = ("filename",)
    show_full_result_count = False


class SuperuserOnlyChanges:
    """Staff may look; only superusers add, change or delete."""

    def has_add_permission(self, request, *args):
        return request.user.is_active and request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser


@admin.register(ProhibitedProjectName)
class ProhibitedProjectNameAdmin(SuperuserOnlyChanges, admin.ModelAdmin):
    list_display = ("name", "normalized_name", "reason", "created")
    search_fields = ("name", "normalized_name")
    fields = ("name", "normalized_name", "reason", "created")
    readonly_fields = ("normalized_name", "created")
