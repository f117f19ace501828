"""Lookups shared by the management commands; each failure is a one-line CommandError."""

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from packages.models import Project, Release
from packages.names import normalize_name
from packages.versions import find_release


def get_user(username: str):
    try:
        return get_user_model().objects.get_by_natural_key(username)
    except get_user_model().DoesNotExist:
        raise CommandError(f"Unknown user: {username}") from None


def get_project(name: str) -> Project:
    project = Project.objects.filter(normalized_name=normalize_name(name)).first()
    if project is None:
        raise CommandError(f"Unknown project: {name}")
    return project


def get_release(project_name: str, version: str) -> Release:
    project = get_project(project_name)
    release = find_release(project, version)
    if release is None:
        raise CommandError(f"Unknown version {version} of {project.name}")
    return release
