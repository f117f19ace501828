"""The surrogate keys of cached answers: which keys a change dirties is decided
here. Responses carry them in ``Surrogate-Key``; purges name them."""

from packages.names import normalize_name

ALL_PROJECTS = "all-projects"


def project_key(normalized_name: str) -> str:
    return f"project/{normalized_name}"


def keys_for_project(project) -> list[str]:
    """The keys a change to a project, or to one of its releases or files, dirties."""
    return [project_key(project.normalized_name), ALL_PROJECTS]


def keys_for_project_name(name: str) -> list[str]:
    """The same keys from a project's name as the journal keeps it (the catch-up
    of lost purges, packages/cache/catchup.py)."""
    return [project_key(normalize_name(name)), ALL_PROJECTS]
