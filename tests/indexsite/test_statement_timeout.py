"""A read cancelled by the statement timeout (DATABASE_STATEMENT_TIMEOUT_MS) is
a 503 that says so, with Retry-After, not a 500; other database errors are
left alone."""

import pytest
from django.db import OperationalError, connection

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.indexsite.statement_timeout_urls")]


@pytest.mark.parametrize("path", ["/slow/", "/hot/slow/"])
def test_a_cancelled_read_is_a_503_with_retry_after(client, path):
    if connection.vendor != "postgresql":
        pytest.skip("statement timeouts are PostgreSQL's (SQLite has none)")
    response = client.get(path)
    assert response.status_code == 503
    assert response.reason_phrase == (
        "This request took too long to answer and was stopped; try again or narrow it.")
    assert b"took too long" in response.content and b"narrow it" in response.content
    assert response["Content-Type"].startswith("text/plain")
    assert int(response["Retry-After"]) > 0
    # The connection is still good for the next request.
    assert client.get(path).status_code == 503


def test_other_database_errors_are_unchanged(client):
    with pytest.raises(OperationalError, match="no such table"):
        client.get("/broken/")
    client.raise_request_exception = False
    assert client.get("/broken/").status_code == 500
