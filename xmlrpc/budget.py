"""What one XML-RPC request may cost: a number of calls and a wall-clock budget.

The rate limit counts calls per hour; it cannot stop one request from holding a
worker until the server's timeout kills it (a multicall of slow searches). So
every request gets a deadline: a multicall answers a Fault for each call left
when it has passed, and every database query of a call is stopped when the
deadline passes, on PostgreSQL by lowering ``statement_timeout`` for the call's
transaction (never above the connection's own limit), on SQLite by a progress
handler that interrupts the statement. A stopped query answers a Fault saying
the request took too long, never a 500."""

import time
from contextlib import contextmanager
from xmlrpc.protocol import Fault, wrapped_error

from django.conf import settings
from django.db import OperationalError, connection, transaction

# SQLSTATE query_canceled: statement_timeout (or pg_cancel_backend) stopped the query.
_QUERY_CANCELED = "57014"
# SQLite virtual machine instructions between two looks at the clock.
_SQLITE_CHECK_EVERY = 10_000


def max_multicall_calls() -> int:
    return settings.XMLRPC_MAX_MULTICALL_CALLS


def request_time_budget() -> float:
    return settings.XMLRPC_REQUEST_TIME_BUDGET


def too_long() -> Fault:
    return wrapped_error(
        "TimeoutError",
        "The request took too long and was stopped. Ask for less in one request "
        "(fewer calls in a multicall, narrower searches).",
    )


def budget_spent(seconds: float) -> Fault:
    return wrapped_error(
        "TimeoutError",
        f"The request's time budget ({seconds:g} seconds) was used up before this call "
        "ran. Send the remaining calls in another request.",
    )


class Budget:
    """The deadline of one request, started when the request arrives."""

    def __init__(self, seconds: float | None = None):
        self.seconds = request_time_budget() if seconds is None else seconds
        self.deadline = time.monotonic() + self.seconds

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    @property
    def spent(self) -> bool:
        return self.remaining() <= 0

    @contextmanager
    def bounding_queries(self):
        """Run a call whose queries stop at the deadline; a stopped query raises
        the ``too_long()`` Fault."""
        try:
            if connection.vendor == "postgresql":
                with transaction.atomic():
                    self._lower_statement_timeout()
                    yield
            elif connection.vendor == "sqlite":
                with self._sqlite_interrupt():
                    yield
            else:
                yield
        except OperationalError as exc:
            if not _was_cancelled(exc):
                raise
            raise too_long() from None

    def _lower_statement_timeout(self):
        # SET LOCAL ends with the transaction. pg_settings gives the session's
        # value in milliseconds (0 = none); LEAST skips the NULL that stands for none.
        milliseconds = max(1, int(self.remaining() * 1000))
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('statement_timeout', "
                "LEAST(NULLIF(setting::bigint, 0), %s)::text, true) "
                "FROM pg_settings WHERE name = 'statement_timeout'",
                [milliseconds],
            )

    @contextmanager
    def _sqlite_interrupt(self):
        connection.ensure_connection()
        raw = connection.connection
        # A non-zero answer makes SQLite abort the statement with "interrupted".
        raw.set_progress_handler(lambda: self.spent, _SQLITE_CHECK_EVERY)
        try:
            yield
        finally:
            raw.set_progress_handler(None, 0)


def _was_cancelled(exc: OperationalError) -> bool:
    cause = exc.__cause__
    if getattr(cause, "sqlstate", None) == _QUERY_CANCELED:
        return True
    return connection.vendor == "sqlite" and str(exc) == "interrupted"
