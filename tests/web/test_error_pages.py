"""Errors reach a person as a page with a message, never as a stack trace, and an
unexpected error leaves nothing half-written."""

from __future__ import annotations

from quizapp.accounts import services
from quizapp.accounts.models import Role, User
from quizapp.core.auth import public
from quizapp.extensions import db


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
