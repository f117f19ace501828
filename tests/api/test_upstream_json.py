# ruff: noqa: F811 (the upstream fixtures are imported, then requested by name)
"""/pypi/<name>/json and /pypi/<name>/<version>/json of a kept upstream project:
built from its page as this index serves it (same filters as /simple/)."""

import re

import pytest
from django.test import override_settings

from packages.upstream.models import UpstreamBlock
from tests.factories import publish
from tests.packages.upstream.conftest import (  # noqa: F401 (fixtures)
    _no_fetch_left_claimed,
    _upstream_settings,
    real_index,
    real_upstream,
)
from tests.packages.upstream.test_pages import make_upstream

pytestmark = pytest.mark.django_db


@override_settings(INDEX_BASE_URL="http://index.test")
def test_project_document_of_an_upstream_project(client, real_upstream):
    make_upstream(real_upstream)
    response = client.get("/pypi/alpha/json")
    assert response.status_code == 200, response.content
    # Kept no longer than the copy is fresh (600 s from its fetch, a moment ago).
    assert 590 <= int(re.fullmatch(r"max-age=(\d+), public", response["Cache-Control"])[1]) <= 600
    document = response.json()
    # 2.0 is yanked upstream: the latest is 1.0, as PyPI chooses.
    assert document["info"]["name"] == "alpha" and document["info"]["version"] == "1.0"
    assert sorted(document["releases"]) == ["1.0", "2.0"]
    [wheel] = [f for f in document["releases"]["2.0"] if f["filename"].endswith(".whl")]
    assert wheel["yanked"] and wheel["yanked_reason"] == "broken build"
    assert wheel["url"].startswith("http://index.test/packages/upstream/")
    assert len(wheel["digests"]["sha256"]) == 64 and wheel["size"] > 0
    assert wheel["upload_time_iso_8601"] and wheel["core-metadata"]
    assert response["X-PyPI-Last-Serial"] == str(document["last_serial"])
    release = client.get("/pypi/alpha/2.0/json").json()
    assert release["info"]["version"] == "2.0" and release["info"]["yanked"]
    assert "releases" not in release
    assert client.get("/pypi/alpha/3.0/json").status_code == 404
    assert client.get("/pypi/Alpha/json").status_code == 301


# Committed for real: the curation changes purge the cached documents after commit.
@pytest.mark.django_db(transaction=True)
def test_the_same_filters_as_the_simple_pages(client, real_upstream, settings):
    upstream = make_upstream(real_upstream)
    UpstreamBlock.objects.create(name="alpha", specifier="==1.0", upstream=upstream,
                                 reason="bad")
    document = client.get("/pypi/alpha/json").json()
    assert sorted(document["releases"]) == ["2.0"]
    assert client.get("/pypi/alpha/1.0/json").status_code == 404
    assert client.get("/pypi/hidden/json").status_code == 404  # quarantined upstream
    upstream.cooldown_seconds = 3600
    upstream.save()
    UpstreamBlock.objects.all().delete()
    assert sorted(client.get("/pypi/alpha/json").json()["releases"]) == ["1.0"]
    UpstreamBlock.objects.create(name="alpha", upstream=upstream, reason="malware")
    assert client.get("/pypi/alpha/json").status_code == 404


def test_a_local_project_is_never_mixed_with_the_upstream(client, real_upstream):
    make_upstream(real_upstream)
    publish("shared", "0.5")
    document = client.get("/pypi/shared/json").json()
    assert list(document["releases"]) == ["0.5"]
    assert real_upstream.paths("/simple/") == []


def test_approval_mode_hides_the_document(client, real_upstream):
    make_upstream(real_upstream, mode="approval")
    response = client.get("/pypi/alpha/json")
    assert response.status_code == 404 and response.json() == {"message": "Not Found"}
