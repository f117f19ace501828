"""The Django admin, made for curation. Every change that PyPI journals goes
through the domain operations (yanking, deletion, roles, curation, tokens), so
the journal and cache purges are never skipped."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.db import transaction
from django.template.response import TemplateResponse

from packages import curation, deletion, roles, tokens, yanking
from packages.errors import DomainError
from packages.models import (
    ApiToken,
    File,
    Filename,
    JournalEntry,
    ProhibitedProjectName,
    Project,
    Release,
    Role,
)
from packages.names import check_new_project_name


class ReasonActionForm(ActionForm):
    reason = forms.CharField(required=False, help_text="Reason (yank, status change)")


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ReleaseInline(ReadOnlyInline):
    model = Release
    fields = ("version", "created", "yanked", "yanked_reason", "summary")
    readonly_fields = fields
    ordering = ("-created",)


class RoleInline(admin.TabularInline):
    """Roles are edited here; save_formset routes changes through packages.roles."""

    model = Role
    extra = 1
    fields = ("role_name", "user", "group")
    autocomplete_fields = ("user",)


class ProjectForm(forms.ModelForm):
    class Meta:
        model = Project
        fields = "__all__"

    def clean_name(self):
        name = self.cleaned_data["name"]
        if self.instance.pk is None:
            try:
                check_new_project_name(name)
            except DomainError as exc:
                raise forms.ValidationError(exc.message) from None
        return name


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    form = ProjectForm
    list_display = ("name", "normalized_name", "status", "last_serial", "created", "size_mb")
    list_filter = ("status", "created")
    search_fields = ("name", "normalized_name")
    readonly_fields = ("normalized_name", "last_serial", "total_size", "created")
    fields = (
        "name", "normalized_name", "status", "status_reason", "max_file_size",
        "max_project_size", "total_size", "last_serial", "created",
    )
    inlines = (RoleInline, ReleaseInline)
    actions = ("quarantine_selected", "clear_quarantine_selected", "delete_selected")
    action_form = ReasonActionForm

    @admin.display(description="Size (MB)", ordering="total_size")
    def size_mb(self, obj):
        return f"{obj.total_size / 1e6:.1f}"

    def get_readonly_fields(self, request, obj=None):
        # The name is fixed once files refer to it; status goes through curation.
        extra = ("name",) if obj is not None else ()
        return self.readonly_fields + extra

    def save_model(self, request, obj, form, change):
        if not change:
            status = obj.status
            created = curation.create_project(
                obj.name, by=request.user, status_reason=obj.status_reason,
                max_file_size=obj.max_file_size, max_project_size=obj.max_project_size,
            )
            obj.pk = created.pk
            obj.refresh_from_db()
            if status != obj.status:
                curation.set_project_status(obj, status, reason=obj.status_reason, by=request.user)
            return
        new_status, reason = obj.status, obj.status_reason
        stored = Project.objects.get(pk=obj.pk)
        obj.status, obj.status_reason = stored.status, stored.status_reason
        obj.save(update_fields=["max_file_size", "max_project_size"])
        curation.set_project_status(obj, new_status, reason=reason, by=request.user)

    def save_formset(self, request, form, formset, change):
        if formset.model is not Role:
            return super().save_formset(request, form, formset, change)
        project = form.instance
        # The admin's change message reads these three lists.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        with transaction.atomic():
            for role_form in formset.forms:
                instance = role_form.instance
                if role_form in formset.deleted_forms:
                    if instance.pk:
                        roles.remove_role(instance, by=request.user)
                        formset.deleted_objects.append(instance)
                    continue
                data = role_form.cleaned_data
                if not role_form.has_changed() or not data:
                    continue
                if instance.pk and (instance.user_id, instance.group_id) != (
                    getattr(data.get("user"), "pk", None), getattr(data.get("group"), "pk", None)
                ):
                    # A role moved to another holder: a removal and an addition.
                    roles.remove_role(Role.objects.get(pk=instance.pk), by=request.user)
                role = roles.add_role(
                    project, role_name=data["role_name"], user=data.get("user"),
                    group=data.get("group"), by=request.user,
                )
                if instance.pk == role.pk:
                    formset.changed_objects.append((role, role_form.changed_data))
                else:
                    formset.new_objects.append(role)

    def delete_model(self, request, obj):
        deletion.delete_project(obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for project in queryset:
            deletion.delete_project(project, by=request.user)

    @admin.action(description="Quarantine selected projects (hide from every API)")
    def quarantine_selected(self, request, queryset):
        reason = request.POST.get("reason", "")
        count = sum(
            curation.set_project_status(p, "quarantined", reason=reason, by=request.user)
            for p in queryset
        )
        self.message_user(request, f"Quarantined {count} project(s).", messages.SUCCESS)

    @admin.action(description="Clear quarantine of selected projects")
    def clear_quarantine_selected(self, request, queryset):
        count = sum(
            curation.set_project_status(p, "active", by=request.user)
            for p in queryset.filter(status="quarantined")
        )
        self.message_user(request, f"Released {count} project(s) from quarantine.")


class FileInline(ReadOnlyInline):
    model = File
    fields = ("filename", "packagetype", "python_version", "size", "sha256_digest", "upload_time")
    readonly_fields = fields


@admin.register(Release)
class ReleaseAdmin(admin.ModelAdmin):
    list_display = ("project", "version", "yanked", "is_prerelease", "created", "uploader")
    list_filter = ("yanked", "is_prerelease", "created")
    search_fields = ("project__name", "project__normalized_name", "version")
    list_select_related = ("project", "uploader")
    inlines = (FileInline,)
    actions = ("yank_selected", "unyank_selected", "delete_selected")
    action_form = ReasonActionForm
    # Everything on a release came from its upload or was derived by the index
    # (description_html, the renderer's output, is left out and never an input);
    # a curator changes a release only through the actions.
    fields = (
        "project", "version", "canonical_version", "is_prerelease", "created", "uploader",
        "yanked", "yanked_reason", "metadata_version", "summary", "description_content_type",
        "requires_python", "requires_dist", "provides_extra", "requires_external",
        "provides_dist", "obsoletes_dist", "classifiers", "project_urls", "license",
        "license_expression", "license_files", "author", "author_email", "maintainer",
        "maintainer_email", "keywords", "home_page", "download_url", "platforms",
        "supported_platforms", "dynamic", "description",
    )
    readonly_fields = fields

    def has_add_permission(self, request):
        return False  # releases come from uploads

    def save_model(self, request, obj, form, change):
        pass  # nothing is editable; saving the stale row would undo a concurrent render

    @admin.action(description="Yank selected releases (reason from the field above)")
    def yank_selected(self, request, queryset):
        reason = request.POST.get("reason", "")
        count = sum(yanking.yank_release(r, reason=reason, by=request.user) for r in queryset)
        self.message_user(request, f"Yanked {count} release(s).", messages.SUCCESS)

    @admin.action(description="Un-yank selected releases")
    def unyank_selected(self, request, queryset):
        count = sum(yanking.unyank_release(r, by=request.user) for r in queryset)
        self.message_user(request, f"Un-yanked {count} release(s).", messages.SUCCESS)

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


class ApiTokenForm(forms.ModelForm):
    expires_in_days = forms.IntegerField(required=False, min_value=1)

    class Meta:
        model = ApiToken
        fields = ("user", "description", "projects", "read_only")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("__str__", "user", "description", "read_only", "created", "expires",
                    "last_used", "state")
    list_filter = ("read_only", "revoked", "expires")
    search_fields = ("user__username", "description", "identifier")
    autocomplete_fields = ("user", "projects")
    actions = ("revoke_selected",)

    @admin.display(description="State")
    def state(self, obj):
        return "active" if obj.is_active else "revoked/expired"

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = ApiTokenForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("user", "description", "projects", "read_only", "expires_in_days")
        return ("user", "description", "projects", "read_only", "created", "expires",
                "last_used", "revoked")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return ("user", "read_only", "created", "expires", "last_used", "revoked")

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        token, plaintext = tokens.create_token(
            form.cleaned_data["user"],
            projects=list(form.cleaned_data["projects"]),
            read_only=form.cleaned_data["read_only"],
            description=form.cleaned_data["description"],
            expires_in_days=form.cleaned_data.get("expires_in_days"),
        )
        obj.pk = token.pk
        obj.refresh_from_db()
        # Kept on this in-memory object only, for response_add of this very request.
        obj._plaintext = plaintext

    def response_add(self, request, obj, post_url_continue=None):
        # The secret goes into this response's body and nowhere else: a message would
        # travel in the (signed, not encrypted) messages cookie or the session, and a
        # redirect would need it in a URL.
        return TemplateResponse(request, "admin/packages/apitoken/token_created.html", {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "New API token",
            "token": obj,
            "plaintext": obj._plaintext,
        })

    def save_related(self, request, form, formsets, change):
        if change:
            super().save_related(request, form, formsets, change)
        # On add, create_token already stored the projects.

    @admin.action(description="Revoke selected tokens")
    def revoke_selected(self, request, queryset):
        for token in queryset:
            tokens.revoke_token(token)
        self.message_user(request, f"Revoked {queryset.count()} token(s).")


class ViewOnlyAdmin(admin.ModelAdmin):
    """For records nobody may edit: the journal and the filename registry."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(JournalEntry)
class JournalEntryAdmin(ViewOnlyAdmin):
    list_display = ("id", "name", "version", "action", "submitted_by", "submitted_date")
    search_fields = ("name", "action", "submitted_by")
    list_filter = ("submitted_date",)


@admin.register(Filename)
class FilenameAdmin(ViewOnlyAdmin):
    list_display = ("filename", "created")
    search_fields = ("filename",)


@admin.register(ProhibitedProjectName)
class ProhibitedProjectNameAdmin(admin.ModelAdmin):
    list_display = ("name", "normalized_name", "reason", "created")
    search_fields = ("name", "normalized_name")
    fields = ("name", "normalized_name", "reason", "created")
    readonly_fields = ("normalized_name", "created")


from packages import consumers_admin  # noqa: E402,F401
from packages.upstream import admin as upstream_admin  # noqa: E402,F401
