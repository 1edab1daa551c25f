"""Fixtures of the fault tests: a private PostgreSQL cluster that a test may stop
and start, with a migrated database of each test's own on it.

The outage tests need PostgreSQL's server programs, not the run's database, but
they run in the PostgreSQL pass of scripts/run_tests.py only: the outage is the
same in both passes, so running it twice would only cost time.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import flask_migrate
import pytest
from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from quizapp.extensions import db
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import is_postgres, make_app
from tests.processes import PrivatePostgres, missing, private_postgres

TEMPLATE = "quizapp_template"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """Debian's Chromium, as in tests/browser; missing, the browser test skips
    (fails on CI)."""
    if not CHROMIUM.exists():
        missing(f"{CHROMIUM} is missing (scripts/ensure-chromium)")
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="session")
def outage_cluster() -> Iterator[PrivatePostgres]:
    """A running private cluster whose database ``quizapp_template`` is migrated
    to the newest revision."""
    if not is_postgres():
        pytest.skip(
            "a PostgreSQL outage: runs in the PostgreSQL pass of scripts/run_tests.py"
        )
    with private_postgres() as cluster:
        admin = create_engine(cluster.url("postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{TEMPLATE}"'))
        admin.dispose()
        app = make_app(cluster.url(TEMPLATE))
        with app.app_context():
            flask_migrate.upgrade()
            db.engine.dispose()
        yield cluster


@dataclass
class Outage:
    """A test's database on the private cluster, and an app in the test process
    to seed and read it."""

    cluster: PrivatePostgres
    url: str
    app: Flask


@pytest.fixture
def outage(outage_cluster: PrivatePostgres) -> Iterator[Outage]:
    cluster = outage_cluster
    if not cluster.is_running():  # a test that failed with the server stopped
        cluster.start()
    name = f"quizapp_{uuid.uuid4().hex[:12]}"
    # No pool: the server restarts between the statements.
    admin = create_engine(
        cluster.url("postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}"'))
    app = make_app(cluster.url(name))
    try:
        with app.app_context():
            yield Outage(cluster, cluster.url(name), app)
            db.session.remove()
            db.engine.dispose()
    finally:
        if not cluster.is_running():
            cluster.start()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
