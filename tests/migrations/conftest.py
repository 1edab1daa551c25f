"""An empty database of the run's kind for each migration test."""

from __future__ import annotations

import pytest

from quizapp.extensions import db
from tests.conftest import fresh_database, make_app


@pytest.fixture
def empty_database(tmp_path_factory):
    url, drop = fresh_database(tmp_path_factory, "migrations")
    app = make_app(url)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()
    drop()
