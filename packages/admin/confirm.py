"""Confirmation pages for curation actions. An admin action first answers a page
listing exactly what will change for each selected object (and the form the
action needs, e.g. a reason); only the POST from that page, carrying
``confirm=yes`` and a valid form, calls the domain operation. Nothing changes on
the first POST or on any GET."""

from collections.abc import Callable
from dataclasses import dataclass, field

from django import forms
from django.contrib import messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse

from packages.errors import DomainError


@dataclass
class Planned:
    """What an action will do to one object: lines a curator reads; ``noop`` when
    the object is already in the requested state (nothing will change)."""

    obj: object
    lines: list[str] = field(default_factory=list)
    noop: bool = False


class ReasonForm(forms.Form):
    reason = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text="Shown to clients with the state (PEP 592 yank reason, PEP 792 status reason).",
    )


class RequiredReasonForm(ReasonForm):
    reason = forms.CharField(
        max_length=2000, widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text="Shown to clients (PEP 792 status reason).",
    )


class NoForm(forms.Form):
    pass


def confirmed_action(
    modeladmin, request, queryset, *, title: str, plan: Callable[[object], Planned],
    apply: Callable[..., bool], done: str, form_class: type[forms.Form] = NoForm,
):
    """The body of an admin action behind a confirmation page.

    ``plan(obj)`` says what will change; ``apply(obj, **form.cleaned_data)`` makes the
    change through the domain and returns whether anything changed; ``done`` is the
    success message, formatted with ``count``."""
    confirmed = request.POST.get("confirm") == "yes"
    form = form_class(request.POST if confirmed else None)
    objects = list(queryset)
    if confirmed and form.is_valid():
        count = 0
        for obj in objects:
            try:
                count += bool(apply(obj, **form.cleaned_data))
            except DomainError as exc:
                modeladmin.message_user(request, f"{obj}: {exc.message}", messages.ERROR)
        modeladmin.message_user(request, done.format(count=count), messages.SUCCESS)
        return None  # back to the changelist
    opts = modeladmin.model._meta
    return TemplateResponse(request, "admin/packages/confirm_action.html", {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "opts": opts,
        "app_label": opts.app_label,
        "planned": [plan(obj) for obj in objects],
        "form": form,
        "action": request.POST.get("action", ""),
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
    })
