"""The baseline of :mod:`bench.autosave`: a bare Flask app whose one endpoint does one
INSERT through SQLAlchemy, and nothing else.

    BENCH_BARE_DATABASE_URL=postgresql+psycopg://... \\
        gunicorn --workers 4 --bind 127.0.0.1:8001 'bench.bare_insert:create_app()'

``POST /answers`` takes the same JSON body as quizapp's autosave endpoint
(``{"response": ..., "flagged": false}``) and inserts it into its own table,
``bench_bare_answers``, shaped like quizapp's ``answer_events`` (a JSON column, a
flag, a timestamp), in its own transaction. No sign-in, session, CSRF, lock or
second statement: the cost of Flask + SQLAlchemy + a durable PostgreSQL commit that
every save pays at the least. The engine takes SQLAlchemy's defaults (a pool of
five connections per process, no pre-ping).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

from flask import Flask, abort, jsonify, request
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    MetaData,
    Table,
    create_engine,
)

#: Environment variable with the database URL (the benchmark's throwaway database).
URL_VARIABLE = "BENCH_BARE_DATABASE_URL"

metadata = MetaData()
answers = Table(
    "bench_bare_answers",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("response", JSON),
    Column("is_flagged", Boolean, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)


def create_app(database_url: str | None = None) -> Flask:
    """The app, on ``database_url`` or the URL in ``BENCH_BARE_DATABASE_URL``.

    The table is not created here: the benchmark creates it before it starts
    gunicorn (:func:`create_table`).
    """
    engine = create_engine(database_url or os.environ[URL_VARIABLE])
    app = Flask(__name__)

    @app.post("/answers")
    def save_answer():
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            abort(400)
        now = datetime.now(UTC)
        with engine.begin() as connection:
            connection.execute(
                answers.insert().values(
                    response=body.get("response"),
                    is_flagged=body.get("flagged") is True,
                    at=now,
                )
            )
        return jsonify(saved=True)

    return app


def create_table(database_url: str) -> None:
    """Create ``bench_bare_answers`` (if missing) in ``database_url``'s database."""
    engine = create_engine(database_url)
    try:
        metadata.create_all(engine)
    finally:
        engine.dispose()
