"""The declarative base, the UTC datetime column type, SQLite connection set-up and
the retry of a statement that met a dead pooled connection."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from flask import has_request_context, request
from sqlalchemy import DateTime, MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Session, registry
from sqlalchemy.types import TypeDecorator

log = logging.getLogger(__name__)

#: Constraint names are stable across SQLite and PostgreSQL, so Alembic revisions
#: can drop and alter them by name.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always an aware UTC datetime in Python.

    PostgreSQL stores ``timestamptz``; SQLite stores the UTC wall time. A naive value
    is refused on the way in, because its zone would be a guess.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime()},
    )


def _is_sqlite(dbapi_connection: Any) -> bool:
    return type(dbapi_connection).__module__ == "sqlite3"


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    """Enforce foreign keys, let readers proceed while one process writes, and hand
    transaction control to SQLAlchemy.

    pysqlite starts transactions on its own and does not know that a SAVEPOINT opens
    one, so releasing a savepoint would commit the whole request half-way. With
    ``isolation_level = None`` pysqlite stays out of it and :func:`_sqlite_begin`
    emits the BEGIN (SQLAlchemy's documented recipe for pysqlite).
    """
    if not _is_sqlite(dbapi_connection):
        return
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection: Any) -> None:
    """On SQLite, a request that may write takes the write lock when its transaction
    begins (``BEGIN IMMEDIATE``), so two of them queue behind ``busy_timeout``.

    With a plain (deferred) BEGIN, two requests that both read and then write (a
    double click on Start, a save racing a submit) deadlock: the second cannot
    upgrade a snapshot older than the first one's commit, and SQLite answers
    "database is locked" at once instead of waiting. Reads still run beside a
    writer (WAL). PostgreSQL needs none of this: it locks rows.
    """
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _writing_request() else "BEGIN")


def _writing_request() -> bool:
    return has_request_context() and request.method not in ("GET", "HEAD", "OPTIONS")


def render_migration_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Write :class:`UTCDateTime` columns into Alembic revisions as the plain
    ``sa.DateTime(timezone=True)`` they are in the database, so revisions never
    import application code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


@event.listens_for(Session, "do_orm_execute")
def _retry_first_statement(state: Any) -> Any:
    """Run a transaction's first statement once more, on a new connection, if the
    pooled one turned out to be dead (PostgreSQL restarted since it was last used;
    there is no pre-ping, see config.py).

    Safe for any request, writes included, because only a first statement is
    retried: nothing had run on the dead connection. SQLAlchemy invalidates the
    rest of the pool on the same error, so the next check-outs connect afresh.
    Returns None (run as usual) for every other statement.
    """
    session = state.session
    if session.in_transaction():
        return None
    try:
        return state.invoke_statement()
    except DBAPIError as error:
        if not error.connection_invalidated:
            raise
        log.warning("database connection was closed; reconnecting: %s", error.orig)
        session.rollback()
        return state.invoke_statement()
