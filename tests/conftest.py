"""Fixtures shared by every test.

The database is chosen once per run: a temporary SQLite file, or, when
``QUIZAPP_TEST_DATABASE_URL`` names a PostgreSQL server, a fresh database created on
it for this run and dropped afterwards. The schema is built by the migrations (so
every run also proves they work), and each test starts from empty tables.
"""

from __future__ import annotations

import contextvars
import os
import re
import uuid
from collections.abc import Iterator

import flask_migrate
import hypothesis
import pytest
from flask import Flask, has_app_context
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from quizapp import create_app
from quizapp.core import mail
from quizapp.extensions import db, limiter

# Property tests explore new examples on every local run; on CI (CI set) they run a
# fixed, seeded set, so a rare example found one day cannot fail someone else's
# change: run locally to explore, and pin what is found with @example.
hypothesis.settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    hypothesis.settings.load_profile("ci")

TEST_CONFIG = {
    "ENV": "testing",
    "SECRET_KEY": "test-secret-key-not-for-production",
    "PASSWORD_HASH_PROFILE": "CHEAPEST",
    "RATELIMIT_STORAGE_URL": "memory://",
    "BASE_URL": "http://localhost",
    "MAIL_BACKEND": "memory",
}

CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _server_url() -> str | None:
    return os.environ.get("QUIZAPP_TEST_DATABASE_URL") or None


def is_postgres() -> bool:
    return _server_url() is not None


def fresh_database(tmp_path_factory: pytest.TempPathFactory, label: str):
    """Create an empty database; return (url, drop) where drop() removes it."""
    server = _server_url()
    if server is None:
        path = tmp_path_factory.mktemp(label) / "quizapp.db"
        return f"sqlite:///{path}", lambda: None
    url = make_url(server)
    name = f"quizapp_{label}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop


def make_app(database_url: str, **overrides) -> Flask:
    return create_app({**TEST_CONFIG, "DATABASE_URL": database_url, **overrides})


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database migrated to the newest revision, shared by the run."""
    url, drop = fresh_database(tmp_path_factory, "test")
    app = make_app(url)
    with app.app_context():
        flask_migrate.upgrade()
        db.engine.dispose()
    yield url
    drop()


def empty_all_tables() -> None:
    tables = db.metadata.sorted_tables
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        # questions and question_versions refer to each other: check at commit.
        db.session.execute(text("PRAGMA defer_foreign_keys = ON"))
        for table in reversed(tables):
            db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture
def app_config() -> dict:
    """Override in a test module to change settings for its tests."""
    return {}


class Client(FlaskClient):
    """Each request runs as it would in a server: in a blank context, so it gets its
    own ``g`` and database session instead of sharing the test's app context.

    Afterwards the test's own transaction is ended, so the test reads the database
    as the next request would (SQLite gives an open transaction a snapshot).
    """

    def open(self, *args, **kwargs):
        response = contextvars.Context().run(super().open, *args, **kwargs)
        if has_app_context():
            db.session.rollback()
        return response


#: Apps by database and settings, built once per run (building one compiles every
#: URL rule, about 0.2 s, which was most of a short test's time), each with the
#: state ``init_app`` gave the one Flask-Limiter object every app shares (its
#: storage above all), put back when a test uses that app again.
_apps: dict[tuple[str, str], tuple[Flask, dict]] = {}


def _built_app(database_url: str, app_config: dict) -> Flask:
    key = (database_url, repr(sorted(app_config.items())))
    if key not in _apps:
        app = make_app(database_url, **app_config)
        app.test_client_class = Client
        _apps[key] = (app, dict(vars(limiter)))
    app, limiter_state = _apps[key]
    vars(limiter).update(limiter_state)
    return app


def _serve_test(app: Flask) -> Iterator[Flask]:
    """One test in ``app``: fresh rate-limit counters, empty tables afterwards."""
    with app.app_context():
        if app.config["RATELIMIT_STORAGE_URI"].startswith("memory://"):
            limiter.reset()  # (tests of other storages manage their own counters)
        mail.outbox().clear()
        yield app
        db.session.remove()
        empty_all_tables()
        db.session.remove()
        # No connection outlives its test (a pooled SQLite connection left open
        # could hold a lock the browser tests' server thread then waits on).
        db.engine.dispose()


@pytest.fixture
def app(database_url: str, app_config: dict) -> Iterator[Flask]:
    """The app for ``app_config`` (shared with the run's other tests of the same
    settings; a test must not change it: see :func:`fresh_app`)."""
    yield from _serve_test(_built_app(database_url, app_config))


@pytest.fixture
def fresh_app(database_url: str) -> Iterator[Flask]:
    """An app of the test's own, for a test that adds routes to it."""
    app = make_app(database_url)
    app.test_client_class = Client
    yield from _serve_test(app)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


class Forms:
    """Submit forms the way a browser does: fetch the page, then post with its
    CSRF token."""

    def __init__(self, client: FlaskClient):
        self.client = client

    def token(self, page_url: str) -> str:
        page = self.client.get(page_url)
        match = CSRF_INPUT.search(page.get_data(as_text=True))
        assert match, f"no CSRF token on {page_url} (status {page.status_code})"
        return match.group(1)

    def post(self, url: str, data: dict, page: str | None = None, **kwargs):
        token = self.token(page or url)
        return self.client.post(url, data={**data, "csrf_token": token}, **kwargs)


@pytest.fixture
def forms(client: FlaskClient) -> Forms:
    return Forms(client)


class Auth:
    def __init__(self, forms: Forms):
        self.forms = forms

    def sign_in(self, email: str, password: str = "correct horse battery"):
        return self.forms.post("/sign-in", {"email": email, "password": password})

    def sign_out(self):
        return self.forms.post("/sign-out", {}, page="/")


@pytest.fixture
def auth(forms: Forms) -> Auth:
    return Auth(forms)
