"""The Django admin, made for curation: projects, releases and files. Every change
that PyPI journals goes through the domain operations (yanking, deletion, roles,
curation, release_states, ownership), each behind a confirmation page listing
what will change (packages.admin.confirm, packages.admin.plans), so the journal
and cache purges are never skipped. Tokens and users: admin_accounts; the
journal and name registries: admin_records; the dashboard: admin_dashboard."""

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Count, Max, OuterRef, Prefetch, Q, Subquery
from django.db.models.functions import Coalesce
from django.urls import path, reverse
from django.utils.html import format_html

from packages.admin import plans
from packages.admin.confirm import ReasonForm, RequiredReasonForm, confirmed_action
from packages.admin.filters import FrozenFilter, HasYankedFilter, PendingFilter
from packages.admin.paginators import EstimatedCountPaginator
from packages.admin.releases import ReadOnlyInline
from packages.curation import deletion, ownership, roles
from packages.curation import projects as curation
from packages.errors import DomainError
from packages.models import File, Project, ProjectStatus, Release, Role, RoleName
from packages.names import check_new_project_name, normalize_name, ultranormalize_name


class ReleaseInline(ReadOnlyInline):
    model = Release
    fields = ("version", "created", "yanked", "yanked_reason", "quarantined", "summary")
    readonly_fields = fields
    ordering = ("-created",)


class RoleInline(admin.TabularInline):
    """Roles are edited here; save_formset routes changes through packages.curation.roles."""

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


class TransferForm(forms.Form):
    user = forms.ModelChoiceField(get_user_model().objects.filter(is_active=True),
                                  required=False, help_text="The new Owner: a user…")
    group = forms.ModelChoiceField(Group.objects.all(), required=False, label="Team",
                                   help_text="…or a team.")
    keep_as_maintainers = forms.BooleanField(
        required=False, help_text="Previous owners stay as Maintainers instead of losing "
                                  "their role.")

    def clean(self):
        data = super().clean()
        if (data.get("user") is None) == (data.get("group") is None):
            raise forms.ValidationError("Choose exactly one user or one team.")
        return data


def _per_project(queryset, link: str, **aggregates):
    """A correlated subquery per aggregate: evaluated for the page's rows only,
    in the changelist's one query (no per-row query, no GROUP BY over the table)."""
    grouped = queryset.filter(**{link: OuterRef("pk")}).order_by().values(link)
    return {name: Subquery(grouped.annotate(v=agg).values("v")) for name, agg in
            aggregates.items()}


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    form = ProjectForm
    list_display = ("name", "status_shown", "owners", "release_count", "file_count",
                    "size_mb", "last_upload", "last_serial")
    list_filter = ("status", PendingFilter, FrozenFilter, HasYankedFilter, "created")
    # The search is get_search_results' (indexed); this only turns the box on.
    search_fields = ("normalized_name",)
    # At PyPI's size (700k projects) a COUNT(*) per page costs more than the page:
    # see packages.admin.paginators.
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    readonly_fields = ("normalized_name", "last_serial", "total_size", "created", "journal")
    fields = (
        "name", "normalized_name", "status", "status_reason", "max_file_size",
        "max_project_size", "total_size", "last_serial", "created", "journal",
    )
    inlines = (RoleInline, ReleaseInline)
    actions = ("quarantine_selected", "archive_selected", "deprecate_selected",
               "activate_selected", "approve_selected", "refuse_selected",
               "transfer_selected", "delete_selected")
    delete_confirmation_template = "admin/packages/delete_confirmation.html"
    delete_selected_confirmation_template = "admin/packages/delete_selected_confirmation.html"

    def get_queryset(self, request):
        stats = _per_project(File.objects, "release__project", _files=Count("pk"),
                             _last_upload=Max("upload_time"))
        releases = _per_project(Release.objects, "project", _releases=Count("pk"))
        return super().get_queryset(request).annotate(
            _files=Coalesce(stats["_files"], 0), _last_upload=stats["_last_upload"],
            _releases=Coalesce(releases["_releases"], 0),
        ).prefetch_related(Prefetch(
            "roles", Role.objects.filter(role_name=RoleName.OWNER).select_related(
                "user", "group"), to_attr="owner_roles"))

    def get_search_results(self, request, queryset, search_term):
        """Names as written, PEP 503 normalized, and folded to their look-alike form
        (``Dj4ngo_Tools`` finds ``django-tools``' confusables): substrings of the
        normalized and folded names, which trigram indexes answer on PostgreSQL
        (migrations 0003 and 0007); a term shorter than a trigram is a prefix,
        which the names' b-tree indexes answer."""
        term = search_term.strip()
        if not term:
            return queryset, False
        normalized, folded = normalize_name(term), ultranormalize_name(term)
        lookup = "contains" if len(folded) >= 3 else "startswith"
        return queryset.filter(
            Q(**{f"normalized_name__{lookup}": normalized})
            | Q(**{f"ultranormalized_name__{lookup}": folded})), False

    @admin.display(description="Status", ordering="status")
    def status_shown(self, obj):
        if obj.status_reason:
            return f"{obj.status} ({obj.status_reason[:60]})"
        return obj.status

    @admin.display(description="Owners")
    def owners(self, obj):
        return ", ".join(sorted(r.holder_name for r in getattr(obj, "owner_roles", [])))

    # The counts are not sortable: sorting on them runs their subqueries for
    # every project (minutes at 700k projects) before the first row shows.
    @admin.display(description="Releases")
    def release_count(self, obj):
        return obj._releases

    @admin.display(description="Files")
    def file_count(self, obj):
        return obj._files

    @admin.display(description="Last upload")
    def last_upload(self, obj):
        return obj._last_upload

    @admin.display(description="Storage (MB)", ordering="total_size")
    def size_mb(self, obj):
        return f"{obj.total_size / 1e6:.1f}"

    @admin.display(description="Journal")
    def journal(self, obj):
        url = reverse("admin:packages_journalentry_changelist")
        return format_html('<a href="{}?project={}">Journal entries of {}</a>', url, obj.name,
                           obj.name)

    def get_readonly_fields(self, request, obj=None):
        # The name is fixed once files refer to it; status goes through the actions,
        # behind their confirmation pages.
        extra = ("name", "status", "status_reason") if obj is not None else ()
        return self.readonly_fields + extra

    def has_delete_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def get_urls(self):
        from packages.admin.dashboard import dashboard_view

        return [path("dashboard/", self.admin_site.admin_view(dashboard_view),
                     name="packages_dashboard"), *super().get_urls()]

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=["max_file_size", "max_project_size"])
            return
        status = obj.status
        created = curation.create_project(
            obj.name, by=request.user, status_reason=obj.status_reason,
            max_file_size=obj.max_file_size, max_project_size=obj.max_project_size,
        )
        obj.pk = created.pk
        obj.refresh_from_db()
        if status != obj.status:
            curation.set_project_status(obj, status, reason=obj.status_reason, by=request.user)

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

    def _status(self, request, queryset, status, *, title, form_class=ReasonForm,
                allowed_from=None):
        def apply(project, reason=""):
            if allowed_from is not None and project.status not in allowed_from:
                return False
            return curation.set_project_status(project, status, reason=reason, by=request.user)

        return confirmed_action(
            self, request, queryset, title=title, form_class=form_class,
            plan=plans.project_status(status, allowed_from=allowed_from), apply=apply,
            done=f"{{count}} project(s) now {status}.",
        )

    @admin.action(description="Quarantine selected projects (hide from every API)",
                  permissions=["change"])
    def quarantine_selected(self, request, queryset):
        return self._status(request, queryset, ProjectStatus.QUARANTINED,
                            title="Quarantine projects")

    @admin.action(description="Archive selected projects (no new uploads)",
                  permissions=["change"])
    def archive_selected(self, request, queryset):
        return self._status(request, queryset, ProjectStatus.ARCHIVED, title="Archive projects")

    @admin.action(description="Deprecate selected projects (with a message)",
                  permissions=["change"])
    def deprecate_selected(self, request, queryset):
        return self._status(request, queryset, ProjectStatus.DEPRECATED,
                            title="Deprecate projects", form_class=RequiredReasonForm)

    @admin.action(description="Make selected projects active again (clears quarantine, "
                              "archive, deprecation)", permissions=["change"])
    def activate_selected(self, request, queryset):
        return self._status(
            request, queryset, ProjectStatus.ACTIVE, title="Make projects active",
            allowed_from=(ProjectStatus.QUARANTINED, ProjectStatus.ARCHIVED,
                          ProjectStatus.DEPRECATED),
        )

    @admin.action(description="Approve selected pending projects", permissions=["change"])
    def approve_selected(self, request, queryset):
        return confirmed_action(
            self, request, queryset, title="Approve projects", plan=plans.approve,
            apply=lambda p: curation.approve_project(p, by=request.user),
            done="{count} project(s) approved.",
        )

    @admin.action(description="Refuse selected pending projects", permissions=["change"])
    def refuse_selected(self, request, queryset):
        return confirmed_action(
            self, request, queryset, title="Refuse projects", plan=plans.refuse,
            form_class=RequiredReasonForm, done="{count} project(s) refused.",
            apply=lambda p, reason: curation.refuse_project(p, reason=reason, by=request.user),
        )

    @admin.action(description="Transfer ownership of selected projects",
                  permissions=["change"])
    def transfer_selected(self, request, queryset):
        def apply(project, user, group, keep_as_maintainers):
            ownership.transfer_ownership(project, user=user, group=group, by=request.user,
                                         keep_as_maintainers=keep_as_maintainers)
            return True

        return confirmed_action(
            self, request, queryset, title="Transfer ownership", plan=plans.transfer,
            form_class=TransferForm, apply=apply, done="Ownership of {count} project(s) "
                                                       "transferred.",
        )


# Registered here so that Django's autodiscovery of packages.admin finds them all.
import packages.admin.accounts  # noqa: E402,F401
import packages.admin.bans  # noqa: E402,F401
import packages.admin.records  # noqa: E402,F401
import packages.admin.releases  # noqa: E402,F401
import packages.upstream.admin  # noqa: E402,F401

admin.site.index_template = "admin/packages/index.html"
