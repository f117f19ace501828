"""Records nobody edits through the admin: the journal (the audit log) and the
filename registry; and the prohibited names, which only superusers change."""

from django.contrib import admin
from django.db.models import Q

from packages.admin.filters import JournalActionFilter, JournalProjectFilter, JournalUserFilter
from packages.admin.paginators import EstimatedCountPaginator
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
    # The search is get_search_results' (indexed); this only turns the box on.
    search_fields = ("name",)
    # A date filter rather than date_hierarchy: the hierarchy lists the years
    # (months, days) that have entries with a SELECT DISTINCT over the journal,
    # seconds at PyPI's 16M entries. Its URLs (submitted_date__year=...) still work.
    list_filter = (JournalProjectFilter, JournalActionFilter, JournalUserFilter,
                   "submitted_date")
    # The newest first; the id (the serial) orders entries of the same instant.
    ordering = ("-id",)
    paginator = EstimatedCountPaginator
    show_full_result_count = False  # a COUNT(*) over the whole journal on every page
    show_facets = admin.ShowFacets.NEVER

    def get_search_results(self, request, queryset, search_term):
        """The entries of the project recorded under exactly that name; else of
        projects whose name starts with the term, or of the user named so (all
        indexed: migration 0007's (name, id) and (submitted_by, id))."""
        term = search_term.strip()
        if not term:
            return queryset, False
        # A project's exact name first: the planner estimates an equality from
        # the column's statistics (a few dozen rows, read through the index),
        # while it takes a prefix for a common one and walks the whole journal
        # backwards to find a quiet project's entries.
        if queryset.filter(name=term).exists():
            return queryset.filter(name=term), False
        return queryset.filter(Q(name__startswith=term) | Q(submitted_by=term)), False


@admin.register(Filename)
class FilenameAdmin(ViewOnlyAdmin):
    list_display = ("filename", "created")
    search_fields = ("filename",)
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    def get_search_results(self, request, queryset, search_term):
        # Prefixes, case kept: the unique filename's b-tree answers them (10M rows).
        term = search_term.strip()
        return (queryset.filter(filename__startswith=term) if term else queryset), False


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
