"""Views for tests/indexsite/test_statement_timeout.py: one read that outlasts
a tiny statement timeout, one that fails otherwise."""

from django.db import OperationalError, connection, transaction
from django.http import HttpResponse
from django.urls import path

from packages.http.hot_path import hot_path


def slow_read(request):
    # In a savepoint, so that the cancelled statement leaves the test's
    # transaction usable; SET LOCAL ends with it.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL statement_timeout = 50")
        cursor.execute("SELECT pg_sleep(2)")
    return HttpResponse("finished")


def broken_read(request):
    raise OperationalError("no such table: nowhere")


def slow_hot_read(request):
    return slow_read(request)


urlpatterns = [
    path("slow/", slow_read),
    # Answered early by HotPathMiddleware, outside the view middleware chain.
    path("hot/slow/", hot_path(slow_hot_read)),
    path("broken/", broken_read),
]
