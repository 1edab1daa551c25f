"""Errors reach a person as a page with a message, never as a stack trace, and an
unexpected error leaves nothing half-written."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from quizapp.accounts import services
from quizapp.accounts.models import Role, User
from quizapp.core.auth import public
from quizapp.extensions import db
from tests.conftest import make_app


def test_an_unexpected_error_shows_a_message_and_writes_nothing(fresh_app):
    @public
    def breaks_after_a_write():
        services.create_account("half@example.org", "Half", [Role.candidate])
        db.session.flush()
        raise RuntimeError("boom in the middle of a request")

    fresh_app.add_url_rule("/test-breaks", "test_breaks", breaks_after_a_write)

    response = fresh_app.test_client().get("/test-breaks")

    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "your last action was not saved" in html
    assert "Traceback" not in html
    assert "boom" not in html
    assert db.session.scalar(db.select(db.func.count()).select_from(User)) == 0


def test_unknown_page_is_a_friendly_404(client):
    response = client.get("/no-such-page")

    assert response.status_code == 404
    assert "There is nothing here." in response.get_data(as_text=True)


def test_api_clients_get_json_errors(client):
    response = client.get("/no-such-page", headers={"Accept": "application/json"})

    assert response.status_code == 404
    assert response.get_json()["error"]["status"] == 404


@pytest.fixture(scope="module")
def app_without_database():
    """The app with its database unreachable (nothing listens on port 1), as during
    an outage."""
    return make_app("postgresql+psycopg://quizapp@127.0.0.1:1/quizapp")


def signed_in_client(app):
    """A client whose session names an account: every request loads it first."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = "a-session-token"
    return client


def test_an_unreachable_database_is_a_503_json_answer_for_the_api(
    app_without_database,
):
    client = signed_in_client(app_without_database)

    response = client.get("/api/attempts/1/state")

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.get_json()["error"] == {
        "status": 503,
        "title": "Service unavailable",
        "message": "The service is unavailable for a moment and nothing was saved. "
        "Try again in a few seconds.",
    }


def test_an_unreachable_database_is_a_plain_try_again_page(app_without_database):
    client = signed_in_client(app_without_database)

    response = client.get("/attempts/1/q/1")

    html = response.get_data(as_text=True)
    assert response.status_code == 503
    assert '<h1 class="h3">Service unavailable</h1>' in html
    assert "Try again in a few seconds." in html
    assert "Sign in" not in html  # no menu: it would need the database
    assert "psycopg" not in html
    assert "127.0.0.1" not in html


def test_a_statement_that_fails_on_its_own_is_still_a_500(fresh_app):
    @public
    def bad_statement():
        db.session.execute(text("SELECT * FROM no_such_table"))

    fresh_app.add_url_rule("/api/test-bad-sql", "test_bad_sql", bad_statement)

    response = fresh_app.test_client().get("/api/test-bad-sql")

    assert response.status_code == 500
    assert "your last action was not saved" in response.get_json()["error"]["message"]
