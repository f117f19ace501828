"""A signed-in user's pages: their API tokens (``/account/tokens/``: create,
list, revoke) and their projects (``/account/projects/``: the roles they hold,
and on the projects they own, adding and removing Maintainers).

The secret is shown once, in the answer to the POST that created it (with
ready configuration snippets), never stored, never put in a cookie, the
session, a message or a redirect; that answer is ``no-store``. Every change
goes through a domain operation (packages.curation), which journals, purges
and, for tokens, leaves an entry in the admin history."""

import re
from urllib.parse import urlsplit

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from api.pages import index_name, public_base_url
from packages.curation.roles import (
    add_maintainer,
    check_may_change_maintainers,
    remove_maintainer,
)
from packages.curation.tokens import create_token, revoke_token
from packages.errors import DomainError
from packages.http.errors import reason_phrase
from packages.models import ApiToken, Project, ProjectStatus, Role, RoleName
from packages.names import normalize_name
from packages.queries import projects_shown_to


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
                by=request.user,
            )
            created = {
                "token": token, "secret": secret,
                "snippets": snippets(secret, public_base_url(request)),
            }
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


@never_cache
@login_required
@require_POST
def revoke_token_page(request, token_id: int):
    token = ApiToken.objects.filter(pk=token_id, user=request.user).first()
    if token is None:
        raise Http404("No such token")
    if revoke_token(token, by=request.user):
        messages.success(request, f"Token {token.description or token.identifier} revoked.")
    return HttpResponseRedirect("/account/tokens/", status=303)


def snippets(secret: str, base: str) -> dict[str, str]:
    """Ready configuration for the clients people use, with the secret in it."""
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


def _my_projects(user) -> list[dict]:
    """Each project ``user`` holds a role on, with that role (directly or through
    a team) and, where they are an Owner, everyone's roles on it."""
    held = (
        Role.objects.filter(Q(user=user) | Q(group__in=user.groups.all()))
        .select_related("project", "group").order_by("project__normalized_name", "pk")
    )
    rows: dict[int, dict] = {}
    for role in held:
        row = rows.setdefault(role.project_id, {"project": role.project, "held": []})
        row["held"].append({"role": role.role_name, "team": role.group.name if role.group_id else ""})
    owned = [pk for pk, row in rows.items()
             if any(h["role"] == RoleName.OWNER for h in row["held"])]
    for role in (Role.objects.filter(project_id__in=owned).select_related("user", "group")
                 .order_by("role_name", "pk")):
        rows[role.project_id].setdefault("people", []).append(role)
    for row in rows.values():
        row["owner"] = row["project"].pk in owned
        # A pending project's page is shown to its role holders; a quarantined one's is not.
        row["has_page"] = row["project"].status != ProjectStatus.QUARANTINED
    return list(rows.values())


def _projects_answer(request, *, status: int = 200, error: str = ""):
    response = render(request, "api/account_projects.html", {
        "index_name": index_name(), "rows": _my_projects(request.user), "error": error,
    }, status=status)
    if error:
        response.reason_phrase = reason_phrase(error)
    return response


@never_cache
@login_required
@require_safe
def account_projects_page(request):
    return _projects_answer(request)


def _change_maintainers(request, name: str, change, done: str):
    """Run ``change(project, user, by=...)`` for the username posted; a refusal is
    the page again, with its message in the body and the reason phrase."""
    project = projects_shown_to(request.user).filter(normalized_name=normalize_name(name)).first()
    if project is None:
        return _projects_answer(request, status=404, error="No such project.")
    username = request.POST.get("username", "").strip()
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    try:
        # Who may change the roles first: a non-owner learns nothing about users.
        check_may_change_maintainers(project, request.user)
        if user is None:
            raise DomainError(f"There is no user '{username[:150]}'." if username else
                              "Give the username of the Maintainer.")
        change(project, user, by=request.user)
    except DomainError as error:
        return _projects_answer(request, status=error.status, error=error.message)
    messages.success(request, done.format(user=user.get_username(), project=project.name))
    return HttpResponseRedirect("/account/projects/", status=303)


@never_cache
@login_required
@require_POST
def add_maintainer_page(request, name: str):
    return _change_maintainers(request, name, add_maintainer,
                               "{user} is now a Maintainer of {project}.")


@never_cache
@login_required
@require_POST
def remove_maintainer_page(request, name: str):
    return _change_maintainers(request, name, remove_maintainer,
                               "{user} is no longer a Maintainer of {project}.")
