"""Admin for the consumer policy: prohibit a client address, network or
User-Agent, with a reason and an optional end time. Saving or deleting a ban
reaches every worker within seconds (packages.access.bans)."""

import ipaddress

from django import forms
from django.contrib import admin, messages
from django.db.models import Q
from django.utils import timezone

from packages.access.bans import compile_user_agent_pattern, end_bans
from packages.models import ConsumerBan


class ConsumerBanForm(forms.ModelForm):
    class Meta:
        model = ConsumerBan
        fields = ("network", "user_agent_pattern", "reason", "ends")

    def clean_network(self):
        value = self.cleaned_data["network"].strip()
        if not value:
            return ""
        try:
            # Host bits are dropped: 203.0.113.7/24 bans 203.0.113.0/24.
            network = ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise forms.ValidationError(
                "Enter an IP address or a CIDR network, e.g. 203.0.113.7 or 2001:db8::/32."
            ) from None
        mapped = network.network_address.ipv4_mapped if network.version == 6 else None
        if mapped is not None and network.prefixlen >= 96:
            # Client addresses are compared as IPv4 (::ffff:203.0.113.7 is 203.0.113.7),
            # so a ban copied in mapped form from a dual-stack log is stored as IPv4.
            network = ipaddress.ip_network(f"{mapped}/{network.prefixlen - 96}")
        return str(network)

    def clean_user_agent_pattern(self):
        pattern = self.cleaned_data["user_agent_pattern"]
        if pattern:
            try:
                compile_user_agent_pattern(pattern)
            except ValueError as exc:
                # Patterns run on RE2 so that no pattern can make matching slow;
                # RE2 has no backreferences or lookarounds.
                raise forms.ValidationError(
                    f"Not a regular expression this index can run ({exc}). Patterns use "
                    "RE2 syntax, which matches in linear time: no backreferences or "
                    "lookarounds, and \\z rather than \\Z for the end of the text."
                ) from None
        return pattern

    def clean(self):
        cleaned = super().clean()
        if (
            not cleaned.get("network")
            and not cleaned.get("user_agent_pattern")
            and not (self.errors)
        ):
            raise forms.ValidationError("Give a network, a User-Agent pattern, or both.")
        return cleaned


class BanStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return (
            ("active", "Active"),
            ("permanent", "Active, permanent"),
            ("temporary", "Active, with an end time"),
            ("ended", "Ended"),
        )

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "active":
            return queryset.filter(Q(ends__isnull=True) | Q(ends__gt=now))
        if self.value() == "permanent":
            return queryset.filter(ends__isnull=True)
        if self.value() == "temporary":
            return queryset.filter(ends__gt=now)
        if self.value() == "ended":
            return queryset.filter(ends__lte=now)
        return queryset


@admin.register(ConsumerBan)
class ConsumerBanAdmin(admin.ModelAdmin):
    form = ConsumerBanForm
    list_display = (
        "__str__",
        "network",
        "user_agent_pattern",
        "reason",
        "created",
        "ends",
        "is_active",
    )
    list_display_links = ("__str__",)
    list_filter = (BanStateFilter, "created", "ends")
    search_fields = ("network", "user_agent_pattern", "reason")
    ordering = ("-created",)
    readonly_fields = ("created",)
    fields = ("network", "user_agent_pattern", "reason", "ends", "created")
    actions = ("end_selected_now", "delete_selected")

    @admin.display(description="Active", boolean=True)
    def is_active(self, obj):
        return obj.ends is None or obj.ends > timezone.now()

    @admin.action(description="End selected bans now")
    def end_selected_now(self, request, queryset):
        count = end_bans(queryset.filter(Q(ends__isnull=True) | Q(ends__gt=timezone.now())))
        self.message_user(request, f"Ended {count} ban(s).", messages.SUCCESS)
