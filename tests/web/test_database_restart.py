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


def close(database_url: str, pids: set[int]) -> int:
    """What a restart does to the app's pool: its server processes end. Only this
    app's: other apps of the test run share the database."""
    admin = create_engine(database_url)
    try:
        with admin.connect() as connection:
            return connection.execute(
                text("SELECT count(pg_terminate_backend(pid)) FROM unnest(:pids) pid"),
                {"pids": sorted(pids)},
            ).scalar_one()
    finally:
        admin.dispose()


def test_requests_after_a_restart_are_served_on_a_new_connection(
    app, client, auth, forms, database_url
):
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is False
    db.session.remove()
    db.engine.dispose()
    pids: set[int] = set()

    def note(dbapi_connection, record) -> None:
        pids.add(dbapi_connection.info.backend_pid)

    event.listen(db.engine, "connect", note)
    try:
        make_user(email="cand@example.org")
        db.session.commit()
        auth.sign_in("cand@example.org")
        assert client.get("/quizzes").status_code == 200
        token = forms.token("/")
        assert close(database_url, pids) >= 1
        before = set(pids)
        page = client.get("/quizzes")
        reconnected_for_the_page = pids - before
        # A post is retried too: only its first statement is, before anything ran.
        assert close(database_url, pids) >= 1
        before = set(pids)
        sign_out = client.post("/sign-out", data={"csrf_token": token})
        reconnected_for_the_post = pids - before
        # Signed out, the first statement is the sign-in's own lookup.
        token = forms.token("/sign-in")
        assert close(database_url, pids) >= 1
        before = set(pids)
        sign_in = client.post(
            "/sign-in",
            data={
                "email": "cand@example.org",
                "password": "correct horse battery",
                "csrf_token": token,
            },
        )
        reconnected_for_the_sign_in = pids - before
    finally:
        event.remove(db.engine, "connect", note)
        db.session.remove()
        db.engine.dispose()

    assert page.status_code == 200
    assert reconnected_for_the_page
    assert sign_out.status_code == 302
    assert reconnected_for_the_post
    assert sign_in.status_code == 302, sign_in.get_data(as_text=True)[:300]
    assert reconnected_for_the_sign_in
