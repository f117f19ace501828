"""Version rules shared by every API: PEP 440 ordering (with PyPI's treatment of
non-PEP 440 legacy strings), PyPI's notion of a pre-release, the canonical
spelling used to find a release from a URL, and the choice of the "latest"
release shown by the JSON API (and XML-RPC).

PyPI orders a project's versions with ``packaging_legacy.version.parse``: valid
PEP 440 versions in PEP 440 order, and any string that is not PEP 440 sorts
*before* every valid version, among themselves by the old setuptools rules.
"""

import re
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from packaging.utils import canonicalize_version
from packaging.version import InvalidVersion, Version

T = TypeVar("T")

# PyPI sets releases.is_prerelease with a database trigger testing this regex on
# the lower-cased version string; it is deliberately broader than PEP 440
# (``1.0+cpu`` counts as a pre-release, ``1.0.post1`` does not).
_PYPI_PRERELEASE = re.compile(r"(a|b|rc|dev|alpha|beta|c|pre|preview)")

# Pieces of a legacy (non PEP 440) version string, setuptools' historical parser.
_LEGACY_PART = re.compile(r"(\d+|[a-z]+|\.|-)")
_LEGACY_REPLACE = {"pre": "c", "preview": "c", "-": "final-", "rc": "c", "dev": "@"}


def is_prerelease(version: str) -> bool:
    """PyPI's pre-release test (the ``is_prerelease`` trigger), not PEP 440's."""
    return bool(_PYPI_PRERELEASE.search(version.lower()))


def canonical_version(version: str) -> str:
    """The spelling two equal versions share: PEP 440 normal form without
    trailing ``.0`` (``1.0.0`` -> ``1``, ``1.0RC1`` -> ``1rc1``); a string that
    is not PEP 440 is returned unchanged."""
    return canonicalize_version(version, strip_trailing_zero=True)


def _legacy_parts(version: str) -> tuple[str, ...]:
    parts: list[str] = []
    for piece in _LEGACY_PART.split(version.lower()):
        piece = _LEGACY_REPLACE.get(piece, piece)
        if not piece or piece == ".":
            continue
        if piece[:1].isdigit():
            parts.append(piece.zfill(8))
        else:
            parts.append("*" + piece)
    parts.append("*final")
    # Drop "-" markers before a pre-release tag and zeros before a tag, so that
    # 1.0 == 1.0.0 and 1.0-a1 == 1.0a1 as the old parser had it.
    result: list[str] = []
    for part in parts:
        if part.startswith("*"):
            if part < "*final":
                while result and result[-1] == "*final-":
                    result.pop()
            while result and result[-1] == "00000000":
                result.pop()
        result.append(part)
    return tuple(result)


def sort_key(version: str) -> tuple[Any, ...]:
    """Key ordering versions as PyPI does: legacy strings first, then PEP 440."""
    try:
        return (1, Version(version))
    except InvalidVersion:
        return (0, _legacy_parts(version))


def sort_versions(versions: Iterable[str], *, reverse: bool = False) -> list[str]:
    return sorted(versions, key=sort_key, reverse=reverse)


def latest_index(candidates: Sequence[tuple[str, bool]]) -> int | None:
    """Index of the release PyPI shows as the project's version, among
    ``(version, yanked)`` pairs: the newest non-yanked final release, else the
    newest non-yanked pre-release, else the newest yanked final, else the newest
    yanked pre-release. ``None`` for no releases."""
    if not candidates:
        return None
    # Highest PEP 440 order wins within the best (yanked, prerelease) group.
    best = min(
        range(len(candidates)),
        key=lambda i: (
            candidates[i][1],
            is_prerelease(candidates[i][0]),
            _Descending(sort_key(candidates[i][0])),
        ),
    )
    return best


def latest_release(releases: Iterable[T]) -> T | None:
    """The "latest" of objects with ``version`` and ``yanked`` attributes
    (Release rows), as :func:`latest_index` chooses it."""
    releases = list(releases)
    index = latest_index([(r.version, r.yanked) for r in releases])
    return None if index is None else releases[index]


class _Descending:
    """Wraps a sort key so that ``min`` picks the largest one."""

    __slots__ = ("key",)

    def __init__(self, key):
        self.key = key

    def __lt__(self, other: "_Descending") -> bool:
        return other.key < self.key

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Descending) and self.key == other.key
