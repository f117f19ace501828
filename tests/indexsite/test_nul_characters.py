"""A NUL character in a name, version or filename of a read URL, or in a query
string, is answered 404 or 400: PostgreSQL refuses NUL in any query, which
used to surface as a 500 (CI runs this on PostgreSQL)."""

import pytest

from tests.factories import create_user, publish

WHEEL_DIR = "/packages/ab/cd/" + "e" * 60

NUL_PATHS = [
    "/simple/a%00b/",
    "/simple/a%00b",
    "/simple/%00/",
    "/pypi/a%00b/json",
    "/pypi/a%00b/json/",
    "/pypi/demo/%00/json",
    "/pypi/demo/1.0%00/json",
    "/pypi/a%00b/1.0/json",
    "/rss/project/a%00b/releases.xml",
    "/project/a%00b/",
    "/project/demo/1.0%00/",
    "/packages/source/d/demo/demo-1.0%00.tar.gz",
    f"{WHEEL_DIR}/demo%00.whl",
    f"{WHEEL_DIR}/demo.whl%00.metadata",
]


@pytest.fixture
def demo(db):
    return publish("demo", "1.0")


@pytest.mark.parametrize("path", NUL_PATHS)
@pytest.mark.parametrize("method", ["get", "head"])
def test_nul_in_a_read_url_is_not_found(client, demo, path, method):
    response = getattr(client, method)(path)
    assert response.status_code == 404


@pytest.mark.parametrize("path", ["/simple/?format=%00", "/pypi/demo/json?x=a%00b", "/?q=%00"])
def test_nul_in_a_query_string_is_a_bad_request(client, demo, path):
    response = client.get(path)
    assert response.status_code == 400
    assert "NUL" in response.reason_phrase


def test_nul_in_an_admin_search_is_a_bad_request(client, demo):
    client.force_login(create_user("curator", is_staff=True, is_superuser=True))
    assert client.get("/admin/packages/project/?q=demo").status_code == 200
    assert client.get("/admin/packages/project/?q=de%00mo").status_code == 400


def test_ordinary_reads_still_work(client, demo):
    assert client.get("/simple/demo/").status_code == 200
    assert client.get("/pypi/demo/1.0/json").status_code == 200


@pytest.mark.parametrize("username, password", [("a\x00b", "pw"), ("__token__", "isk_a\x00b"),
                                                ("reader", "pw\x00")])
@pytest.mark.parametrize("path, method", [("/simple/", "get"), ("/legacy/", "post")])
def test_nul_in_basic_credentials_is_refused_not_a_500(client, demo, settings, username, password,
                                                       path, method):
    import base64

    settings.INDEX_READ_AUTH = "authenticated"
    settings.INDEX_ALLOW_PASSWORD_UPLOAD = True
    header = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
    response = getattr(client, method)(path, HTTP_AUTHORIZATION=header)
    assert response.status_code in (401, 403)
    assert "Malformed" in response.content.decode()
