"""PEP 440 ordering, PyPI's pre-release rule and the choice of the latest release."""

from types import SimpleNamespace

import pytest

from packages.versions import (
    canonical_version,
    is_prerelease,
    latest_index,
    latest_release,
    sort_versions,
)


def test_sorts_by_pep440_not_as_text():
    assert sort_versions(["1.10", "1.9", "1.0.post1", "1.0", "1.0rc1", "1.0.dev0", "1!0.1"]) == [
        "1.0.dev0", "1.0rc1", "1.0", "1.0.post1", "1.9", "1.10", "1!0.1",
    ]


def test_legacy_versions_sort_before_every_pep440_version():
    ordered = sort_versions(["0.0.1", "2004d", "foo-bar", "1.0-SNAPSHOT", "0.1"])
    assert ordered[-2:] == ["0.0.1", "0.1"]
    assert set(ordered[:3]) == {"2004d", "foo-bar", "1.0-SNAPSHOT"}


def test_legacy_versions_compare_numerically_among_themselves():
    assert sort_versions(["r10", "r9", "r9.x"]) == ["r9", "r9.x", "r10"]


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("1.0", False), ("1.0.post1", False), ("2!1.0", False),
        ("1.0a1", True), ("1.0b2", True), ("1.0rc1", True), ("1.0.dev3", True),
        ("1.0-preview", True),
        # PyPI's trigger matches these letters anywhere, local versions included.
        ("1.0+cpu", True), ("2.0+abc", True), ("1.0+ubuntu", True),
    ],
)
def test_prerelease_rule_is_pypis_regex(version, expected):
    assert is_prerelease(version) is expected


@pytest.mark.parametrize(
    ("given", "canonical"),
    [("1.0.0", "1"), ("v1.0.0", "1"), ("1.0RC1", "1rc1"), ("1.0-post1", "1.post1"),
     ("1.4.0.0.0", "1.4"), ("not a version", "not a version")],
)
def test_canonical_version_strips_trailing_zeros(given, canonical):
    assert canonical_version(given) == canonical


def test_latest_prefers_newest_final_non_yanked():
    candidates = [("1.0", False), ("2.0", True), ("1.5", False), ("3.0a1", False)]
    assert latest_index(candidates) == 2


def test_latest_falls_back_to_prerelease_then_yanked_final_then_yanked_prerelease():
    assert latest_index([("1.0a1", False), ("1.0b1", False), ("0.9", True)]) == 1
    assert latest_index([("0.9", True), ("1.0", True), ("2.0a1", True)]) == 1
    assert latest_index([("2.0a1", True), ("2.0b1", True)]) == 1
    assert latest_index([]) is None


def test_latest_release_reads_version_and_yanked_attributes():
    rows = [SimpleNamespace(version=v, yanked=y) for v, y in [("1.9", False), ("1.10", False)]]
    assert latest_release(rows).version == "1.10"
    assert latest_release([]) is None
