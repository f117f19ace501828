"""Project names: PEP 503 normalization, the look-alike folding, and the one rule
for the name of a new project (an upload's, the admin's, importdists')."""

import re
import sys

from packaging.utils import canonicalize_name

from packages.errors import UploadRejected

# PEP 508 / core metadata "Name" rule (packaging has no public validator for it).
_VALID_NAME = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)


def normalize_name(name: str) -> str:
    """PEP 503: lowercase, runs of ``-``, ``_`` and ``.`` become a single ``-``."""
    return canonicalize_name(name)


def is_valid_name(name: str) -> bool:
    return bool(_VALID_NAME.match(name))


def ultranormalize_name(name: str) -> str:
    """Fold a name further than PEP 503 so that confusable spellings collide:
    ``0``/``o`` and ``1``/``l``/``i`` look alike, and separators are dropped
    (as PyPI's ``ultranormalize_name``)."""
    folded = normalize_name(name).replace("-", "")
    return folded.translate(str.maketrans({"0": "o", "1": "l", "i": "l"}))


# Python's standard library module names are not project names (as on PyPI).
_STDLIB_NAMES = {normalize_name(name) for name in sys.stdlib_module_names}


def check_new_project_name(name: str, *, checked_absent: bool = False) -> None:
    """May a new project be called ``name``? PyPI's rules: a valid name, not a
    standard-library module, not prohibited here, neither taken nor a look-alike.
    ``checked_absent``: the caller has just looked the name up and found no
    project (the upload), so that look-up is not made again."""
    # Imported here: the models import this module for the normalizations above.
    from packages.models import ProhibitedProjectName, Project

    if not is_valid_name(name):
        raise UploadRejected(f"The name '{name}' is invalid.")
    normalized = normalize_name(name)
    if normalized in _STDLIB_NAMES:
        raise UploadRejected(
            f"The name '{name}' isn't allowed (conflict with Python Standard Library module "
            "name)."
        )
    if ProhibitedProjectName.objects.filter(normalized_name=normalized).exists():
        raise UploadRejected(f"The name '{name}' isn't allowed on this index.")
    if not checked_absent:
        existing = Project.objects.filter(normalized_name=normalized).first()
        if existing is not None:
            raise UploadRejected(f"A project named '{existing.name}' already exists.")
    check_not_too_similar(name)


def check_not_too_similar(name: str) -> None:
    """No project whose name folds to the same look-alike form (PyPI's rule)."""
    from packages.models import Project

    similar = Project.objects.filter(ultranormalized_name=ultranormalize_name(name)).first()
    if similar is not None:
        raise UploadRejected(
            f"The name '{name}' is too similar to an existing project '{similar.name}'."
        )
