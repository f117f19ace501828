"""Users, teams and their API tokens in the admin. A token's secret is shown once,
in the response that created it, and never again: lists and inlines show the
identifier, scope, expiry and last use. Revoking is an action behind a
confirmation page, kept in the admin's history."""

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.template.response import TemplateResponse

from packages.admin import plans
from packages.admin.confirm import confirmed_action
from packages.curation import tokens
from packages.models import ApiToken


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
    list_select_related = ("user",)
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
        # Revoking is the action (behind its confirmation page), never a date typed in.
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

    @admin.action(description="Revoke selected tokens", permissions=["change"])
    def revoke_selected(self, request, queryset):
        def apply(token):
            if not tokens.revoke_token(token):
                return False
            self.log_change(request, token, "Revoked.")
            return True

        return confirmed_action(
            self, request, queryset.select_related("user"), title="Revoke tokens",
            plan=plans.revoke, apply=apply, done="Revoked {count} token(s).",
        )


class TokenInline(admin.TabularInline):
    """A user's tokens with their last use; revoke from the token list (its action)."""

    model = ApiToken
    fk_name = "user"
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ("identifier", "description", "read_only", "created", "expires", "last_used",
              "revoked")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


User = get_user_model()
if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class IndexUserAdmin(UserAdmin):
    """Django's user admin (create users, put them in teams = groups) with their tokens."""

    inlines = (*UserAdmin.inlines, TokenInline)
    list_display = (*UserAdmin.list_display, "is_active")
    list_filter = (*UserAdmin.list_filter, "groups")
