"""Admin of releases and files: read-only pages (a release shows its files, hashes
and metadata); yank, quarantine and delete go through the domain behind
confirmation pages (packages.admin.confirm)."""

from django.contrib import admin
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from packages.admin import plans
from packages.admin.confirm import ReasonForm, confirmed_action
from packages.admin.paginators import EstimatedCountPaginator
from packages.curation import deletion, release_states, yanking
from packages.models import File, Project, Release
from packages.names import normalize_name


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class FileInline(ReadOnlyInline):
    model = File
    fields = ("filename", "packagetype", "python_version", "size", "upload_time",
              "sha256_digest", "blake2_256_digest", "md5_digest", "metadata_sha256")
    readonly_fields = fields


class QuarantinedReleaseFilter(admin.SimpleListFilter):
    title = "quarantined"
    parameter_name = "quarantined"

    def lookups(self, request, model_admin):
        return (("yes", "Quarantined"), ("no", "Visible"))

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(quarantined=self.value() == "yes")
        return queryset


@admin.register(Release)
class ReleaseAdmin(admin.ModelAdmin):
    list_display = ("project", "version", "yanked", "quarantined", "is_prerelease", "created",
                    "uploader", "file_count")
    list_filter = ("yanked", QuarantinedReleaseFilter, "is_prerelease", "created")
    # The search is get_search_results' (indexed); this only turns the box on.
    search_fields = ("project__normalized_name",)
    list_select_related = ("project", "uploader")
    # Newest first, along the primary key: the model's ordering (by project
    # name, then date) joins and sorts millions of rows before the first page.
    ordering = ("-id",)
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    inlines = (FileInline,)
    actions = ("yank_selected", "unyank_selected", "quarantine_selected",
               "clear_quarantine_selected", "delete_selected")
    delete_confirmation_template = "admin/packages/delete_confirmation.html"
    delete_selected_confirmation_template = "admin/packages/delete_selected_confirmation.html"
    # Everything on a release came from its upload or was derived by the index
    # (description_html, the renderer's output, is left out and never an input);
    # a curator changes a release only through the actions.
    fields = (
        "project", "version", "canonical_version", "is_prerelease", "created", "uploader",
        "yanked", "yanked_reason", "quarantined", "quarantine_reason", "metadata_version",
        "summary", "description_content_type",
        "requires_python", "requires_dist", "provides_extra", "requires_external",
        "provides_dist", "obsoletes_dist", "classifiers", "project_urls", "license",
        "license_expression", "license_files", "author", "author_email", "maintainer",
        "maintainer_email", "keywords", "home_page", "download_url", "platforms",
        "supported_platforms", "dynamic", "description",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        # A correlated subquery, run for the page's rows only: a GROUP BY over
        # the join of releases and files would aggregate all 10M files first.
        files = File.objects.filter(release=OuterRef("pk")).order_by().values("release")
        return super().get_queryset(request).annotate(
            _files=Coalesce(Subquery(files.annotate(n=Count("pk")).values("n")), 0))

    def get_search_results(self, request, queryset, search_term):
        """``<project>`` or ``<project> <version>``: the project by its normalized
        name (exact, or as a prefix when no project has that name), the version
        as a prefix of the canonical or uploaded one. Indexed lookups only."""
        words = search_term.split()
        if not words:
            return queryset, False
        name = normalize_name(words[0])
        # The project's id, looked up first: the planner then knows how many of
        # the millions of releases it has (a join would hide it).
        exact = Project.objects.filter(normalized_name=name).values_list("pk", flat=True)[:1]
        if exact:
            found = queryset.filter(project_id=exact[0])
        else:
            found = queryset.filter(project__normalized_name__startswith=name)
        if len(words) > 1:
            found = found.filter(Q(version__startswith=words[1])
                                 | Q(canonical_version__startswith=words[1]))
        return found, False

    @admin.display(description="Files")
    def file_count(self, obj):
        return obj._files

    def has_add_permission(self, request):
        return False  # releases come from uploads

    def save_model(self, request, obj, form, change):
        pass  # nothing is editable; saving the stale row would undo a concurrent render

    @admin.action(description="Yank selected releases", permissions=["change"])
    def yank_selected(self, request, queryset):
        return confirmed_action(
            self, request, queryset, title="Yank releases", plan=plans.yank,
            form_class=ReasonForm, done="Yanked {count} release(s).",
            apply=lambda r, reason: yanking.yank_release(r, reason=reason, by=request.user),
        )

    @admin.action(description="Un-yank selected releases", permissions=["change"])
    def unyank_selected(self, request, queryset):
        return confirmed_action(
            self, request, queryset, title="Un-yank releases", plan=plans.unyank,
            apply=lambda r: yanking.unyank_release(r, by=request.user),
            done="Un-yanked {count} release(s).",
        )

    @admin.action(description="Quarantine selected releases (hide their files)",
                  permissions=["change"])
    def quarantine_selected(self, request, queryset):
        return confirmed_action(
            self, request, queryset, title="Quarantine releases",
            plan=plans.quarantine_release, form_class=ReasonForm,
            done="Quarantined {count} release(s).",
            apply=lambda r, reason: release_states.quarantine_release(
                r, reason=reason, by=request.user),
        )

    @admin.action(description="Clear quarantine of selected releases", permissions=["change"])
    def clear_quarantine_selected(self, request, queryset):
        return confirmed_action(
            self, request, queryset, title="Clear release quarantine",
            plan=plans.clear_release_quarantine, done="Released {count} release(s).",
            apply=lambda r: release_states.clear_release_quarantine(r, by=request.user),
        )

    def delete_model(self, request, obj):
        deletion.delete_release(obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for release in queryset:
            deletion.delete_release(release, by=request.user)


@admin.register(File)
class FileAdmin(admin.ModelAdmin):
    list_display = ("filename", "release", "packagetype", "size", "upload_time")
    list_filter = ("packagetype", "upload_time")
    # The search is get_search_results' (indexed); this only turns the box on.
    search_fields = ("filename",)
    list_select_related = ("release__project",)
    # Newest first, along the primary key: in the model's order (by filename)
    # the planner walks the 10M-row filename index to find a prefix's rows.
    ordering = ("-id",)
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    delete_confirmation_template = "admin/packages/delete_confirmation.html"
    delete_selected_confirmation_template = "admin/packages/delete_selected_confirmation.html"

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in File._meta.fields]

    def get_search_results(self, request, queryset, search_term):
        """A SHA-256 digest (exact), or the start of a filename, as typed or as a
        project name spelled in filenames (``My.Project`` -> ``my_project``):
        the unique filename's b-tree answers prefixes, no scan of 10M rows."""
        term = search_term.strip()
        if not term:
            return queryset, False
        if len(term) == 64 and all(c in "0123456789abcdefABCDEF" for c in term):
            return queryset.filter(sha256_digest=term.lower()), False
        escaped = normalize_name(term).replace("-", "_")
        if escaped == term:
            return queryset.filter(filename__startswith=term), False
        return queryset.filter(Q(filename__startswith=term)
                               | Q(filename__startswith=escaped)), False

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        pass  # every field is read-only: a file is what was uploaded

    def delete_model(self, request, obj):
        deletion.delete_file(obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for file in queryset:
            deletion.delete_file(file, by=request.user)
