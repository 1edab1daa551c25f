"""A PostgreSQL restart closes every pooled connection; there is no pre-ping, so the
next request meets a dead connection and must still be served."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, event, text

from quizapp.extensions import db
from tests.conftest import is_postgres
from tests.factories import make_user

pytestmark = pytest.mark.skipif(
    not is_postgres(), reason="closes server connections: PostgreSQL only"
)


def close_every_connection(database_url: str) -> int:
    """What a restart does to the app's pool: its server processes end."""
    admin = create_engine(database_url)
    try:
        with admin.connect() as connection:
            return connection.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).scalar_one()
    finally:
        admin.dispose()


def test_signed_in_requests_after_a_restart_are_served_on_a_new_connection(
    app, client, auth, forms, database_url
):
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is False
    make_user(email="cand@example.org")
    db.session.commit()
    auth.sign_in("cand@example.org")
    assert client.get("/quizzes").status_code == 200
    token = forms.token("/")
    connects = []

    def count(*args) -> None:
        connects.append(1)

    event.listen(db.engine, "connect", count)
    try:
        assert close_every_connection(database_url) >= 1
        page = client.get("/quizzes")
        reconnects_for_the_page = len(connects)
        # A post is retried too: only the first statement is, before anything ran.
        assert close_every_connection(database_url) >= 1
        sign_out = client.post("/sign-out", data={"csrf_token": token})
    finally:
        event.remove(db.engine, "connect", count)

    assert page.status_code == 200
    assert reconnects_for_the_page >= 1
    assert sign_out.status_code == 302
    assert len(connects) > reconnects_for_the_page
