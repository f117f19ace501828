"""PyPI's version rules (packages/versions.py): ordering (packaging_legacy's),
the pre-release rule and the flag stored from it, the latest release, and
finding a release from a version a client wrote."""

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps as django_apps
from django.db import connection
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from packaging_legacy.version import parse as legacy_parse

from packages.models import Release
from packages.versions import (
    canonical_version,
    find_release,
    is_prerelease,
    latest_index,
    latest_release,
    sort_key,
    sort_releases,
)
from tests.factories import create_project, create_release


def test_sorts_by_pep440_not_as_text():
    assert sorted(["1.10", "1.9", "1.0.post1", "1.0", "1.0rc1", "1.0.dev0", "1!0.1"], key=sort_key) == [
        "1.0.dev0", "1.0rc1", "1.0", "1.0.post1", "1.9", "1.10", "1!0.1",
    ]


def test_legacy_versions_sort_before_every_pep440_version():
    ordered = sorted(["0.0.1", "2004d", "foo-bar", "1.0-SNAPSHOT", "0.1"], key=sort_key)
    assert ordered[-2:] == ["0.0.1", "0.1"]
    assert set(ordered[:3]) == {"2004d", "foo-bar", "1.0-SNAPSHOT"}


def test_legacy_versions_compare_numerically_among_themselves():
    assert sorted(["r10", "r9", "r9.x"], key=sort_key) == ["r9", "r9.x", "r10"]


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


# --- PyPI's order is packaging_legacy's -------------------------------------------

# Strings PyPI holds from before PEP 440 next to PEP 440 ones; "r١" has an
# Arabic-Indic digit, a digit to str.isdigit but not to setuptools' old parser.
MIXED_VERSIONS = [
    "1.0", "0.9", "1.0.post1", "1.0rc1", "2!0.1", "1.0+cpu", "r10", "r9", "r9.x", "r١",
    "2004d", "foo-bar", "1.0-SNAPSHOT", "0.1dev-r123", "1.0-preview-2", "1.0-final",
    "0.0.1", "v2", "1.0pre", "1.0.0-alpha.beta", "2.0-a1", "2.0a1-2",
]


def test_orders_legacy_and_pep440_strings_as_packaging_legacy():
    ordered = sorted(MIXED_VERSIONS, key=sort_key)
    assert [legacy_parse(v) for v in ordered] == sorted(legacy_parse(v) for v in MIXED_VERSIONS)
    assert sorted(["r2", "r١"], key=sort_key) == sorted(["r2", "r١"], key=legacy_parse)


@hypothesis_settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet="0123456789١.-+_!abcdefilnoprstvx", max_size=12), max_size=8))
def test_any_strings_sort_as_packaging_legacy(versions):
    ordered = sorted(versions, key=sort_key)
    assert sorted(ordered) == sorted(versions)
    assert [legacy_parse(v) for v in ordered] == sorted(legacy_parse(v) for v in versions)


def test_sort_releases_orders_rows_by_version():
    rows = [SimpleNamespace(version=v) for v in ["1.10", "r10", "1.9", "r9"]]
    assert [r.version for r in sort_releases(rows)] == ["r9", "r10", "1.9", "1.10"]


def test_a_local_version_is_not_the_latest_final():
    # PyPI's rule: 1.1+cpu is a pre-release, so 1.0 is the latest final.
    assert latest_index([("1.0", False), ("1.1+cpu", False)]) == 0


# --- the stored is_prerelease follows PyPI's rule ---------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("version", ["1.1+cpu", "1.0.post1", "2.0rc1", "1.0", "2004d", "foo-bar"])
def test_release_save_stores_pypis_prerelease_flag(version):
    release = create_release(create_project("flagged"), version)
    release.refresh_from_db()
    assert release.is_prerelease is is_prerelease(version)


@pytest.mark.django_db
def test_migration_recomputes_stored_flags_in_batches(monkeypatch):
    project = create_project("flagged")
    for version in ["1.0", "1.1+cpu", "1.2.post1", "2.0a1", "2.0"]:
        create_release(project, version)
    # As the PEP 440 rule stored them: wrong for 1.1+cpu, and one more forged.
    Release.objects.filter(version__in=["1.1+cpu", "2.0"]).update(is_prerelease=False)
    Release.objects.filter(version="1.0").update(is_prerelease=True)
    migration = importlib.import_module("packages.migrations.0004_release_prerelease_rule")
    monkeypatch.setattr(migration, "BATCH_SIZE", 2)

    migration.recompute_is_prerelease(django_apps, SimpleNamespace(connection=connection))

    assert dict(Release.objects.values_list("version", "is_prerelease")) == {
        "1.0": False, "1.1+cpu": True, "1.2.post1": False, "2.0a1": True, "2.0": False,
    }


# --- finding a release from a version a client wrote ------------------------------


def _imported(project, version: str, canonical: str) -> Release:
    """A row written without Release.save (an old import), its canonical form as stored."""
    (release,) = Release.objects.bulk_create(
        [Release(project=project, version=version, canonical_version=canonical)]
    )
    return release


@pytest.mark.django_db
@pytest.mark.parametrize("spelling", ["1", "1.0", "1.0.0", "v1.0.0", "1.0.0.0"])
def test_find_release_by_canonical_version(spelling, django_assert_num_queries):
    project = create_project("found")
    create_release(project, "0.9")
    wanted = create_release(project, "1.0.0")
    with django_assert_num_queries(1):
        release = find_release(project, spelling)
    assert release.pk == wanted.pk and release.version == "1.0.0"
    assert release.project is project


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("rows", "spelling", "found"),
    [
        # Canonical forms stored with their zeros (an import) are found too.
        ([("7.0.0", "7.0.0")], "7", "7.0.0"),
        ([("7.0.0", "7.0.0")], "7.0", "7.0.0"),
        # Legacy duplicates: the exact spelling.
        ([("1.0", None), ("1.0.0", "1.0.0")], "1.0.0", "1.0.0"),
        ([("1.0", None), ("1.0.0", "1.0.0")], "1.0", "1.0"),
        # Not PEP 440: by its text.
        ([("2004d", None)], "2004d", "2004d"),
        ([("2004d", None)], "2004D", None),
        ([("1.0.0", None)], "1.0.1", None),
        ([("1.0.0", None)], "1.0rc1", None),
        ([], "1.0", None),
    ],
)
def test_find_release_rules(rows, spelling, found):
    project = create_project("found")
    for version, stored_canonical in rows:
        if stored_canonical is None:
            create_release(project, version)
        else:
            _imported(project, version, stored_canonical)
    release = find_release(project, spelling)
    assert (release and release.version) == found
