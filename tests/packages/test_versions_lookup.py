"""find_release on a miss (every upload of a new version) without parsing every
version of the project, and with exactly the rule it had when it did."""

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

import packages.versions as versions
from packages.models import Release
from packages.versions import _nonzero_digits, canonical_version, find_release
from tests.factories import create_project, create_release

# Pieces of PEP 440 spellings (and of what is not PEP 440), mixed at random.
_PIECES = ["0", "00", "1", "01", "7", "10", "2004", ".", "-", "_", "!", "+", "v", "V",
           "a", "b", "c", "rc", "RC", "alpha", "beta", "pre", "preview", "post", "rev",
           "r", "dev", "ubuntu", " ", "\t", "\u3000", "\u0661", "\u00b2", "x"]


@hypothesis_settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), min_size=1, max_size=12).map("".join))
def test_canonical_form_keeps_the_nonzero_digits_in_order(version):
    # What the lookup's filter relies on: a version and its canonical form have
    # the same digits 1-9 in the same order, whatever the spelling.
    assert _nonzero_digits(version) == _nonzero_digits(canonical_version(version))


def _reference(rows, version):
    """find_release's rule as it was written before (every version parsed)."""
    wanted = canonical_version(version)
    matches = [r for r in rows if r.canonical_version in (wanted, version)
               and canonical_version(r.version) == wanted]
    if not matches:
        matches = [r for r in rows if canonical_version(r.version) == wanted]
    if len(matches) > 1:
        matches = [r for r in matches if r.version == version]
    return matches[0] if len(matches) == 1 else None


# (version, canonical form as stored; None: written by Release.save)
_ROWS = [
    ("1.0.0", None), ("1.0", "1.0"), ("2.0.0", "2.0.0"), ("V3.0RC1", "v3.0rc1"),
    ("4.01", "4.01"), ("0!5.0.post0", "0!5.0.post0"), ("6.0-1", "6.0-1"),
    ("7.0+Ubuntu-01", "7.0+ubuntu-01"), ("2004d", None), ("10.0", "wrong"),
    ("11.0.dev", "11.0.dev"), ("12.0", None), ("12.0.0", "12.0.0"), ("0.0", "0.0"),
    (" 13.0 ", "13.0"), ("1.2.3", None), ("1.2.3.0", "1.2.3.0"), ("123", None),
]
_SPELLINGS = [
    "1", "1.0", "1.0.0", "2", "2.0", "3rc1", "v3.0.0rc1", "4.1", "4.01", "5.post0", "5",
    "6.post1", "6-1", "7+ubuntu.1", "7+ubuntu-01", "2004d", "2004D", "10", "11.dev0",
    "12", "12.0", "12.0.0", "0", "0.0.0", "13", "1.2.3", "123", "1.23", "9.9", "1!1",
]


@pytest.mark.django_db
def test_find_release_answers_as_the_rule_over_every_version():
    project = create_project("lookup")
    for version, stored in _ROWS:
        if stored is None:
            create_release(project, version)
        else:
            Release.objects.bulk_create(
                [Release(project=project, version=version, canonical_version=stored)])
    rows = list(project.releases.all())
    for spelling in _SPELLINGS:
        found = find_release(project, spelling)
        expected = _reference(rows, spelling)
        assert (found and found.pk) == (expected and expected.pk), spelling


@pytest.mark.django_db
def test_a_miss_parses_only_versions_with_the_same_digits(monkeypatch):
    project = create_project("many")
    Release.objects.bulk_create(
        [Release(project=project, version=f"{major}.{minor}.0", canonical_version=f"{major}.{minor}")
         for major in range(1, 21) for minor in range(1, 16)])
    # A stale row (trailing zeros kept) that only the second query finds.
    Release.objects.bulk_create(
        [Release(project=project, version="99.0.0", canonical_version="99.0.0")])
    parsed = []
    original = versions.canonical_version

    def counting(version):
        parsed.append(version)
        return original(version)

    monkeypatch.setattr(versions, "canonical_version", counting)
    assert find_release(project, "21.5") is None  # a new version: not there
    # 301 versions: before, every one was parsed on a miss.
    assert len(parsed) < 10, parsed
    parsed.clear()
    assert find_release(project, "99").version == "99.0.0"
    assert len(parsed) < 10, parsed
