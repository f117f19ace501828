"""Project names: PEP 503 normalization and the look-alike folding used to refuse
names too similar to an existing project."""

import re

from packaging.utils import canonicalize_name

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
