"""A signed-in user's API tokens (``/account/tokens/``): create, list, revoke.

The secret is shown once, in the answer to the POST that created it (with
ready configuration snippets), never stored, never put in a cookie, the
session, a message or a redirect; that answer is ``no-store``."""

import re
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from api.pages import index_name
from packages.curation.tokens import create_token, revoke_token
from packages.models import ApiToken, Project


def user_projects(user):
    """The projects ``user`` has a role on, directly or through a team."""
    return Project.objects.filter(
        Q(roles__user=user) | Q(roles__group__in=user.groups.all())
    ).distinct().order_by("normalized_name")


class TokenForm(forms.Form):
    description = forms.CharField(max_length=255, required=False)
    scope = forms.ChoiceField(
        choices=[("all", "All projects"), ("selected", "Selected projects")],
        widget=forms.RadioSelect, initial="all",
    )
    projects = forms.ModelMultipleChoiceField(queryset=Project.objects.none(), required=False)
    permission = forms.ChoiceField(
        choices=[("upload", "Upload and read"), ("read", "Read only")],
        widget=forms.RadioSelect, initial="upload",
    )
    expires_in_days = forms.IntegerField(min_value=1, max_value=3650, required=False)

    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["projects"].queryset = user_projects(user)

    def clean(self):
        data = super().clean()
        if data.get("scope") == "selected" and not data.get("projects"):
            raise forms.ValidationError("Choose at least one project, or all projects.")
        return data


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def tokens_page(request):
    form = TokenForm(request.user, request.POST or None)
    created = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            token, secret = create_token(
                request.user,
                projects=list(data["projects"]) if data["scope"] == "selected" else None,
                read_only=data["permission"] == "read",
                description=data["description"],
                expires_in_days=data["expires_in_days"],
            )
            created = {"token": token, "secret": secret, "snippets": snippets(secret)}
            form = TokenForm(request.user)
        else:
            status = 400
    tokens = (
        ApiToken.objects.filter(user=request.user).prefetch_related("projects").order_by("-created")
    )
    response = render(request, "api/tokens.html", {
        "index_name": index_name(), "form": form, "tokens": tokens, "created": created,
    }, status=status)
    if status == 400:
        response.reason_phrase = "The token form has errors"
    return response


@login_required
@require_POST
def revoke_token_page(request, token_id: int):
    token = ApiToken.objects.filter(pk=token_id, user=request.user).first()
    if token is None:
        raise Http404("No such token")
    revoke_token(token)
    return HttpResponseRedirect("/account/tokens/", status=303)


def snippets(secret: str) -> dict[str, str]:
    """Ready configuration for the clients people use, with the secret in it."""
    base = settings.INDEX_BASE_URL
    url = urlsplit(base)
    name = re.sub(r"[^a-z0-9]+", "-", index_name().lower()).strip("-") or "indexsite"
    env = name.upper().replace("-", "_")
    return {
        ".pypirc": (
            f"[distutils]\nindex-servers =\n    {name}\n\n[{name}]\n"
            f"repository = {base}/legacy/\nusername = __token__\npassword = {secret}\n"
        ),
        "uv (pyproject.toml and environment)": (
            f'[[tool.uv.index]]\nname = "{name}"\nurl = "{base}/simple/"\n'
            f'publish-url = "{base}/legacy/"\n\n'
            f"export UV_INDEX_{env}_USERNAME=__token__\nexport UV_INDEX_{env}_PASSWORD={secret}\n"
        ),
        "poetry": (
            f"poetry source add --priority=primary {name} {base}/simple/\n"
            f"poetry config repositories.{name} {base}/legacy/\n"
            f"poetry config http-basic.{name} __token__ {secret}\n"
        ),
        "pip.conf": (
            f"[global]\nindex-url = {url.scheme}://__token__:{secret}@{url.netloc}{url.path}/simple/\n"
        ),
    }
