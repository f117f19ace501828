"""Dependency-confusion protection on the upload side, and the environment's upstream."""

import pytest

from packages.errors import UploadRejected
from packages.upstream.config import enabled_upstreams, forget_environment_sync
from packages.upstream.models import ReservedName, Upstream, UpstreamAllowance
from packages.upstream.protection import check_first_upload, is_reserved
from tests.packages.upstream.servers import Reply
from tests.packages.upstream.test_pages import make_upstream

pytestmark = pytest.mark.django_db


def test_is_reserved_by_name_and_namespace():
    ReservedName.objects.create(name="Acme", is_prefix=True)
    ReservedName.objects.create(name="internal_tool")
    assert is_reserved("acme") and is_reserved("ACME.web") and is_reserved("acme-web-api")
    assert is_reserved("Internal-Tool")
    assert not is_reserved("acmetools") and not is_reserved("internal-tool-2")


def test_first_upload_of_a_name_that_exists_upstream_is_refused(real_upstream):
    make_upstream(real_upstream)
    with pytest.raises(UploadRejected) as error:
        check_first_upload("Alpha")
    assert error.value.message.startswith("The name 'Alpha' exists on upstream 'real'")
    check_first_upload("brand-new-name")  # 404 upstream: fine
    UpstreamAllowance.objects.create(name="alpha", allow_first_upload=True)
    check_first_upload("Alpha")


def test_reserved_name_upload_never_asks_upstream(real_upstream):
    make_upstream(real_upstream)
    ReservedName.objects.create(name="alpha", reason="ours")
    check_first_upload("alpha")
    assert real_upstream.requests == []


def test_first_upload_refused_while_upstream_cannot_be_asked(scripted):
    scripted.routes["/simple/fresh/"] = Reply(502, b"bad gateway")
    make_upstream(scripted, "flaky")
    with pytest.raises(UploadRejected, match="could not be checked against upstream 'flaky'"):
        check_first_upload("fresh")


def test_environment_configures_a_default_upstream(settings, scripted):
    assert enabled_upstreams() == []  # the embedded default: offline
    settings.INDEX_UPSTREAM_URL = f"{scripted.url}/simple"
    settings.INDEX_UPSTREAM_MODE = "approval"
    settings.INDEX_UPSTREAM_COOLDOWN = 86400
    [upstream] = enabled_upstreams()
    assert upstream.from_environment and upstream.simple_url == f"{scripted.url}/simple/"
    assert upstream.mode == "approval" and upstream.cooldown_seconds == 86400
    settings.INDEX_UPSTREAM_MODE = "open"
    forget_environment_sync()
    [upstream] = enabled_upstreams()
    assert upstream.mode == "open" and Upstream.objects.count() == 1
    settings.INDEX_UPSTREAM_URL = ""
    forget_environment_sync()
    assert enabled_upstreams() == [] and Upstream.objects.get().enabled is False
