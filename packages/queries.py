"""Reads shared by the APIs (simple, JSON, feeds, XML-RPC)."""

from packages.models import Project, ProjectStatus
from packages.names import normalize_name


def visible_projects():
    """Projects clients may see: quarantined ones are hidden from every API."""
    return Project.objects.exclude(status=ProjectStatus.QUARANTINED)


def find_visible_project(name: str) -> Project | None:
    """The visible project whose PEP 503 normalized name matches ``name``."""
    return visible_projects().filter(normalized_name=normalize_name(name)).first()
