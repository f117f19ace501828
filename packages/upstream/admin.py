"""Admin of the upstream proxy: upstreams, the pages kept from them (refresh,
prefetch, drop), the approval queue, blocks, cooldowns, reserved names and the
dependency-confusion allowances. Registered from packages.admin."""

from urllib.parse import urlsplit

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from packages.upstream.files import drop_kept
from packages.upstream.models import (
    ApprovalState,
    ReservedName,
    Upstream,
    UpstreamAllowance,
    UpstreamApproval,
    UpstreamBlock,
    UpstreamCooldown,
    UpstreamProject,
)
from packages.upstream.purges import purge_names_after_commit
from packages.upstream.tasks import prefetch_upstream_project, refresh_upstream_project


class UpstreamForm(forms.ModelForm):
    # Write-only: the stored password is never sent back to a browser.
    password = forms.CharField(
        required=False, widget=forms.PasswordInput(render_value=False),
        help_text="Leave empty to keep the current password.",
    )
    clear_password = forms.BooleanField(required=False)
    simple_url = forms.URLField(max_length=500, assume_scheme="https",
                                help_text=Upstream._meta.get_field("simple_url").help_text)

    class Meta:
        model = Upstream
        exclude = ("from_environment",)

    def clean_simple_url(self):
        url = self.cleaned_data["simple_url"].strip()
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise forms.ValidationError("An http(s) URL of a simple API, e.g. "
                                        "https://pypi.org/simple/")
        if parts.username or parts.password:
            raise forms.ValidationError("Put credentials in the username and password fields, "
                                        "not in the URL (URLs are logged).")
        return url if url.endswith("/") else url + "/"

    def save(self, commit=True):
        upstream = super().save(commit=False)
        if self.cleaned_data.get("clear_password"):
            upstream.password = ""
        elif not self.cleaned_data.get("password") and self.instance.pk:
            upstream.password = Upstream.objects.get(pk=self.instance.pk).password
        if commit:
            upstream.save()
        return upstream


@admin.register(Upstream)
class UpstreamAdmin(admin.ModelAdmin):
    form = UpstreamForm
    list_display = ("name", "simple_url", "priority", "enabled", "mode", "cooldown_seconds",
                    "from_environment", "kept_projects")
    list_editable = ("priority", "enabled", "mode")
    list_filter = ("enabled", "mode")
    search_fields = ("name", "simple_url")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            _kept=Count("projects", filter=Q(projects__gone=False)))

    @admin.display(description="Kept projects", ordering="_kept")
    def kept_projects(self, upstream):
        return upstream._kept


class ReasonForm(ActionForm):
    reason = forms.CharField(required=False, help_text="Reason (refusal)")


@admin.register(UpstreamProject)
class UpstreamProjectAdmin(admin.ModelAdmin):
    list_display = ("normalized_name", "upstream", "fetched_at", "checked_at", "file_count",
                    "kept_size", "page_bytes", "project_status", "gone")
    list_filter = ("upstream", "gone", "project_status")
    search_fields = ("normalized_name",)
    actions = ("refresh_now", "prefetch_now", "drop_selected")
    exclude = ("files",)
    readonly_fields = ("upstream", "normalized_name", "name", "project_status", "status_reason",
                       "last_serial", "etag", "last_modified", "page_bytes", "fetched_at",
                       "checked_at", "gone")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # drop_selected also deletes the copies
        return actions

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            _files=Count("kept_files"),
            _kept=Sum("kept_files__size", filter=Q(kept_files__path__gt="")),
        )

    @admin.display(description="Files", ordering="_files")
    def file_count(self, kept):
        return kept._files

    @admin.display(description="Kept bytes", ordering="_kept")
    def kept_size(self, kept):
        return kept._kept or 0

    @admin.action(description="Refresh the selected pages now")
    def refresh_now(self, request, queryset):
        _queue(refresh_upstream_project, queryset)
        self.message_user(request, f"{queryset.count()} refresh(es) queued.")

    @admin.action(description="Prefetch every offered file of the selected projects")
    def prefetch_now(self, request, queryset):
        _queue(prefetch_upstream_project, queryset)
        self.message_user(request, f"{queryset.count()} prefetch(es) queued.")

    @admin.action(description="Drop what is kept (pages and stored copies)")
    def drop_selected(self, request, queryset):
        count = drop_kept(queryset)
        self.message_user(request, f"{count} kept row(s) dropped.")

    def delete_model(self, request, obj):
        drop_kept([obj])


def _queue(task, queryset) -> None:
    # After commit: a worker must find the rows this request saw.
    for pk in queryset.values_list("pk", flat=True):
        transaction.on_commit(lambda pk=pk: task.delay(pk), robust=True)


@admin.register(UpstreamApproval)
class UpstreamApprovalAdmin(admin.ModelAdmin):
    list_display = ("normalized_name", "upstream", "state", "requested_at", "decided_at",
                    "decided_by", "reason")
    list_filter = ("state", "upstream")
    search_fields = ("normalized_name",)
    action_form = ReasonForm
    actions = ("approve", "refuse")
    readonly_fields = ("upstream", "normalized_name", "requested_at", "decided_at",
                       "decided_by")

    def has_add_permission(self, request):
        return False

    @admin.action(description="Approve the selected projects")
    def approve(self, request, queryset):
        self._decide(request, queryset, ApprovalState.APPROVED)

    @admin.action(description="Refuse the selected projects (with the reason)")
    def refuse(self, request, queryset):
        self._decide(request, queryset, ApprovalState.REFUSED)

    def _decide(self, request, queryset, state) -> None:
        names = set(queryset.values_list("normalized_name", flat=True))
        count = queryset.update(state=state, decided_at=timezone.now(), decided_by=request.user,
                                reason=request.POST.get("reason", "").strip())
        # update() sends no signal: the pages decided here are purged by hand.
        purge_names_after_commit(names)
        self.message_user(request, f"{count} project(s) {state}.", messages.SUCCESS)


@admin.register(UpstreamBlock)
class UpstreamBlockAdmin(admin.ModelAdmin):
    list_display = ("name", "specifier", "upstream", "reason", "created")
    list_filter = ("upstream",)
    search_fields = ("normalized_name", "reason")
    fields = ("name", "specifier", "upstream", "reason")

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "specifier":
            field.validators.append(_valid_specifier)
        return field


def _valid_specifier(value: str) -> None:
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        SpecifierSet(value)
    except InvalidSpecifier:
        raise forms.ValidationError("Not a PEP 440 specifier, e.g. '>=2.0,<2.1'.") from None


@admin.register(UpstreamCooldown)
class UpstreamCooldownAdmin(admin.ModelAdmin):
    list_display = ("name", "upstream", "min_age_seconds", "exempt", "reason")
    list_filter = ("exempt", "upstream")
    search_fields = ("normalized_name",)
    fields = ("name", "upstream", "min_age_seconds", "exempt", "reason")


@admin.register(UpstreamAllowance)
class UpstreamAllowanceAdmin(admin.ModelAdmin):
    list_display = ("name", "allow_merge", "allow_first_upload", "reason", "created")
    search_fields = ("normalized_name",)
    fields = ("name", "allow_merge", "allow_first_upload", "reason")


class ReservedNameForm(forms.ModelForm):
    class Meta:
        model = ReservedName
        fields = ("name", "is_prefix", "team", "reason")


@admin.register(ReservedName)
class ReservedNameAdmin(admin.ModelAdmin):
    """Admins reserve any name; other staff with the permission (team owners)
    only namespaces owned by one of their teams."""

    form = ReservedNameForm
    list_display = ("__str__", "is_prefix", "team", "reason", "created")
    list_filter = ("is_prefix", "team")
    search_fields = ("normalized_name", "reason")

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(team__in=request.user.groups.all())

    def has_change_permission(self, request, obj=None):  # issue 13: superusers only
        return request.user.is_superuser

    has_delete_permission = has_change_permission

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "team" and not request.user.is_superuser:
            kwargs["queryset"] = request.user.groups.all()
            kwargs["required"] = True
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if not request.user.is_superuser:
            form.base_fields["is_prefix"].initial = True
        return form
