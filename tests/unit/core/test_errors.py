"""Which database errors mean "the database cannot be reached" (a 503 and a retry)
rather than a fault of the request (a 500)."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError, OperationalError

from quizapp.core.errors import is_database_unavailable


class DriverError(Exception):
    pass


def test_a_connection_that_could_not_be_made_is_an_outage():
    refused = OperationalError(None, None, DriverError("connection refused"))

    assert is_database_unavailable(refused)


def test_a_connection_that_died_under_a_statement_is_an_outage():
    closed = OperationalError(
        "UPDATE attempt_items SET response = %(response)s",
        {},
        DriverError("server closed the connection unexpectedly"),
        connection_invalidated=True,
    )

    assert is_database_unavailable(closed)


def test_a_statement_that_failed_on_its_own_is_not():
    no_table = OperationalError("SELECT * FROM t", {}, DriverError("no such table"))
    at_commit = IntegrityError(None, None, DriverError("deferred constraint"))

    assert not is_database_unavailable(no_table)
    assert not is_database_unavailable(at_commit)
