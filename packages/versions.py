"""Version rules shared by every API, the one place each is decided: PyPI's
ordering, PyPI's notion of a pre-release, the "latest" release and finding a
release from a version a client wrote.

PyPI orders a project's versions with ``packaging_legacy.version.parse``: valid
PEP 440 versions in PEP 440 order, and any string that is not PEP 440 sorts
*before* every valid version, among themselves by the old setuptools rules.
"""

import functools
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, TypeVar

from django.db import connection
from django.db.models import BooleanField, CharField, F, Func, Value
from packaging.utils import canonicalize_version
from packaging.version import Version
from packaging_legacy.version import LegacyVersion, parse

if TYPE_CHECKING:
    from packages.models import Project, Release

T = TypeVar("T")

# PyPI sets releases.is_prerelease with a database trigger testing this regex on
# the lower-cased version string; it is deliberately broader than PEP 440
# (``1.0+cpu`` counts as a pre-release, ``1.0.post1`` does not).
_PYPI_PRERELEASE = re.compile(r"(a|b|rc|dev|alpha|beta|c|pre|preview)")


def is_prerelease(version: str) -> bool:
    """PyPI's pre-release test (the ``is_prerelease`` trigger), not PEP 440's."""
    return bool(_PYPI_PRERELEASE.search(version.lower()))


def canonical_version(version: str) -> str:
    """The spelling two equal versions share: PEP 440 normal form without
    trailing ``.0`` (``1.0.0`` -> ``1``, ``1.0RC1`` -> ``1rc1``); a string that
    is not PEP 440 is returned unchanged."""
    return canonicalize_version(version, strip_trailing_zero=True)


@functools.lru_cache(maxsize=4096)
def sort_key(version: str) -> Version | LegacyVersion:
    """Key ordering versions as PyPI does (``packaging_legacy.version.parse``):
    legacy strings first, then PEP 440. Parsing is the cost (a cache hit is 30
    times cheaper; the parsed versions are immutable, so sharing them is safe):
    sort with it as a ``key=``, never inside a comparison."""
    return parse(version)


def sort_releases(releases: Iterable[T], *, reverse: bool = False) -> list[T]:
    """Objects with a ``version`` attribute (Release rows) in PyPI's order; the
    index of a release in the ascending list is PyPI's ``_pypi_ordering``."""
    return sorted(releases, key=lambda r: sort_key(r.version), reverse=reverse)


def latest_index(candidates: Sequence[tuple[str, bool]]) -> int | None:
    """Index of the release PyPI shows as the project's version, among
    ``(version, yanked)`` pairs: the newest non-yanked final release, else the
    newest non-yanked pre-release, else the newest yanked final, else the newest
    yanked pre-release. ``None`` for no releases."""
    if not candidates:
        return None
    return max(
        range(len(candidates)),
        key=lambda i: (
            not candidates[i][1],
            not is_prerelease(candidates[i][0]),
            sort_key(candidates[i][0]),
        ),
    )


def latest_release(releases: Iterable[T]) -> T | None:
    """The "latest" of objects with ``version`` and ``yanked`` attributes
    (Release rows), as :func:`latest_index` chooses it. XML-RPC, which never
    answers a yanked release, passes only the non-yanked ones."""
    releases = list(releases)
    index = latest_index([(r.version, r.yanked) for r in releases])
    return None if index is None else releases[index]


# Canonicalizing only drops or adds zeros (leading zeros, trailing ``.0``, epoch
# ``0!``, implicit ``a0``/``post0``) and respells letters and separators, and a
# PEP 440 version's digits are ASCII; so a version and its canonical form have
# the same ASCII digits 1-9 in the same order. Comparing those is a cheap
# necessary condition that spares parsing every version of a project.
_NONZERO_DIGITS = "123456789"
_not_nonzero_digit = re.compile(f"[^{_NONZERO_DIGITS}]")


def _nonzero_digits(version: str) -> str:
    return _not_nonzero_digit.sub("", version)


def match_release(releases: Iterable[T], version: str) -> T | None:
    """The one of ``releases`` (objects with ``version`` and
    ``canonical_version``) that ``version`` names, by :func:`find_release`'s
    rule, for callers that already hold every release of the project."""
    wanted = canonical_version(version)
    digits = _nonzero_digits(wanted)
    # Only these can have canonical_version(r.version) == wanted (see above).
    releases = [r for r in releases if _nonzero_digits(r.version) == digits]
    matches = [
        r for r in releases
        if r.canonical_version in (wanted, version) and canonical_version(r.version) == wanted
    ]
    if not matches:
        matches = [r for r in releases if canonical_version(r.version) == wanted]
    if len(matches) > 1:
        matches = [r for r in matches if r.version == version]
    return matches[0] if len(matches) == 1 else None


def find_release(project: "Project", version: str) -> "Release | None":
    """The release of ``project`` that ``version`` names, as PyPI's JSON API
    and upload find it: the one with the same canonical version (``1`` =
    ``1.0`` = ``1.0.0``, ``v1.0RC1`` = ``1rc1``); among several (legacy
    duplicates), the one spelt exactly ``version``; else None. XML-RPC, which
    wants the exact spelling, checks ``release.version`` on the answer.

    One indexed query when found. Rows whose stored canonical form is stale
    (written without ``Release.save``, e.g. keeping trailing zeros) are found
    too, at the cost of a second query on a miss (what an upload of a new
    version always pays): on PostgreSQL it returns only the versions with the
    same non-zero digits, so a miss stays cheap for a project with 15,000
    releases.
    ``description_html`` is not loaded."""
    wanted = canonical_version(version)
    releases = project.releases.defer("description_html").order_by()
    release = match_release(releases.filter(canonical_version__in={wanted, version}), version)
    if release is None:
        rows = releases.values_list("id", "version", "canonical_version", named=True)
        if connection.vendor == "postgresql":
            # Only the versions with the same non-zero digits, chosen on the
            # server along the project's index: a LIKE of those digits in order
            # (a cheap superset), then exactly (_nonzero_digits: the inner
            # translate() leaves what is not a digit 1-9, the outer one deletes
            # it). 12 ms for 15,000 versions, where fetching and parsing them
            # all took 300 ms.
            digits = _nonzero_digits(wanted)
            not_digits = Func(F("version"), Value(_NONZERO_DIGITS), Value(""),
                              function="translate", output_field=CharField())
            rows = rows.filter(
                Func(F("version"), Value("%" + "%".join(digits) + "%"), arg_joiner=" LIKE ",
                     template="(%(expressions)s)", output_field=BooleanField()),
            ).alias(
                digits=Func(F("version"), not_digits, Value(""),
                            function="translate", output_field=CharField()),
            ).filter(digits=digits)
        found = match_release(rows, version)
        release = None if found is None else releases.get(pk=found.id)
    if release is not None:
        release.project = project
    return release
