"""The surrogate keys of cached answers: which keys a change dirties is decided
here. Responses carry them in ``Surrogate-Key``; purges name them."""

ALL_PROJECTS = "all-projects"


def project_key(normalized_name: str) -> str:
    return f"project/{normalized_name}"


def keys_for_project(project) -> list[str]:
    """The keys a change to a project, or to one of its releases or files, dirties."""
    return [project_key(project.normalized_name), ALL_PROJECTS]
