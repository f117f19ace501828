"""Admin of releases and files: read-only pages (a release shows its files, hashes
and metadata); yank, quarantine and delete go through the domain behind
confirmation pages (packages.admin.confirm)."""

from django.contrib import admin
from django.db.models import Count

from packages.admin import plans
from packages.admin.confirm import ReasonForm, confirmed_action
from packages.curation import deletion, release_states, yanking
from packages.models import File, Release


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
    search_fields = ("project__name", "project__normalized_name", "version")
    list_select_related = ("project", "uploader")
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
        return super().get_queryset(request).annotate(_files=Count("files"))

    @admin.display(description="Files", ordering="_files")
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
    search_fields = ("filename", "sha256_digest")
    list_select_related = ("release__project",)
    delete_confirmation_template = "admin/packages/delete_confirmation.html"
    delete_selected_confirmation_template = "admin/packages/delete_selected_confirmation.html"

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in File._meta.fields]

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        pass  # every field is read-only: a file is what was uploaded

    def delete_model(self, request, obj):
        deletion.delete_file(obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for file in queryset:
            deletion.delete_file(file, by=request.user)
