"""The migrations build exactly the schema the models describe, and undo cleanly."""

from __future__ import annotations

import flask_migrate
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from quizapp.extensions import db


def differences():
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def test_upgrade_from_empty_gives_exactly_the_models(empty_database):
    flask_migrate.upgrade()

    assert differences() == []


def test_downgrade_to_empty_and_back(empty_database):
    flask_migrate.upgrade()
    flask_migrate.downgrade(revision="base")

    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}

    flask_migrate.upgrade()
    assert differences() == []
