# ruff: noqa: F811 (the upstream fixtures are imported, then requested by name)
"""Dependency confusion at upload time: the first upload of a name an upstream
has is refused with a message twine prints, unless an admin allowed it."""

import pytest

from packages.curation.tokens import create_token
from packages.models import Project
from packages.upstream.models import ReservedName, UpstreamAllowance
from tests.factories import create_user
from tests.legacy.upload_forms import assert_nothing_stored, upload_wheel
from tests.packages.upstream.conftest import (  # noqa: F401 (fixtures)
    _no_fetch_left_claimed,
    _upstream_settings,
    real_index,
    real_upstream,
)
from tests.packages.upstream.test_pages import make_upstream

pytestmark = pytest.mark.django_db


@pytest.fixture
def token():
    return create_token(create_user("alice"))[1]


def test_first_upload_of_an_upstream_name_is_refused(client, token, real_upstream):
    make_upstream(real_upstream)
    response = upload_wheel(client, token, "Alpha", "9.0")
    assert response.status_code == 400
    assert "exists on upstream 'real'" in response.reason_phrase
    assert not Project.objects.exists()
    assert_nothing_stored()
    # A name the upstream does not have is created as before.
    assert upload_wheel(client, token, "only-here", "1.0").status_code == 200


def test_reserved_or_allowed_names_may_be_uploaded(client, token, real_upstream):
    make_upstream(real_upstream)
    ReservedName.objects.create(name="alpha")
    assert upload_wheel(client, token, "alpha", "9.0").status_code == 200
    UpstreamAllowance.objects.create(name="beta", allow_first_upload=True)
    assert upload_wheel(client, token, "beta", "9.0").status_code == 200


def test_an_existing_project_never_asks_the_upstream(client, token, real_upstream):
    assert upload_wheel(client, token, "gamma", "1.0").status_code == 200
    make_upstream(real_upstream)
    assert upload_wheel(client, token, "gamma", "2.0").status_code == 200
    assert real_upstream.requests == []
