"""A candidate creates an account: what they see, and what the database holds."""

from __future__ import annotations

import re

import pytest

from quizapp.accounts.models import Role, User
from quizapp.extensions import db
from tests.factories import make_user

GOOD = {
    "name": "Grace Hopper",
    "email": "Grace@Example.org",
    "password": "compiler moth cobol navy",
    "confirm": "compiler moth cobol navy",
    "school": "Yale University",
    "discipline": "Mathematics / statistics",
    "graduation_year": "2027",
}


def field_error(html: str, field: str) -> str:
    """The error text rendered next to ``field`` (empty if none)."""
    match = re.search(rf'<div id="{field}-error"[^>]*>(.*?)</div>\s*</div>', html, re.S)
    return re.sub(r"<[^>]+>", " ", match.group(1)).strip() if match else ""


def test_sign_up_creates_a_candidate_and_signs_them_in(client, forms):
    response = forms.post("/sign-up", GOOD, follow_redirects=True)

    assert response.status_code == 200
    assert "Hello, Grace Hopper" in response.get_data(as_text=True)
    user = db.session.scalar(db.select(User))
    assert user.email == "grace@example.org"
    assert user.role_names == {Role.candidate}
    assert (user.school, user.discipline, user.graduation_year) == (
        "Yale University",
        "Mathematics / statistics",
        2027,
    )
    assert user.password_hash.startswith("$argon2id$")
    assert GOOD["password"] not in user.password_hash


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"email": "not-an-email"}, "email", "must have an @-sign"),
        ({"email": "someone@localhost"}, "email", "should have a period"),
        (
            {"password": "password123", "confirm": "password123"},
            "password",
            "too easy to guess",
        ),
        ({"password": "short", "confirm": "short"}, "password", "at least 10"),
        (
            {"password": "Grace Hopper 1", "confirm": "Grace Hopper 1"},
            "password",
            "too easy to guess",
        ),
        ({"confirm": "something else entirely"}, "confirm", "passwords differ"),
        ({"discipline": ""}, "discipline", "Choose a discipline"),
        ({"discipline": "Astrology"}, "discipline", "from the list"),
        ({"graduation_year": "1800"}, "graduation_year", "between 1950 and 2100"),
        ({"graduation_year": "soon"}, "graduation_year", "Not a valid integer"),
        ({"name": ""}, "name", "Enter a name"),
        ({"school": "x" * 201}, "school", "200 characters"),
    ],
)
def test_sign_up_shows_each_problem_next_to_its_field(forms, change, field, message):
    response = forms.post("/sign-up", {**GOOD, **change})

    assert response.status_code == 422
    assert message in field_error(response.get_data(as_text=True), field)
    assert db.session.scalar(db.select(db.func.count()).select_from(User)) == 0


def test_sign_up_keeps_what_was_typed_except_passwords(forms):
    response = forms.post("/sign-up", {**GOOD, "graduation_year": "1800"})
    html = response.get_data(as_text=True)

    assert 'value="Yale University"' in html
    assert GOOD["password"] not in html


def test_sign_up_refuses_an_email_already_registered_in_any_case(app, forms):
    make_user(email="grace@example.org")

    response = forms.post("/sign-up", {**GOOD, "email": "GRACE@example.ORG"})

    assert response.status_code == 422
    assert "already exists" in field_error(response.get_data(as_text=True), "email")
    assert db.session.scalar(db.select(db.func.count()).select_from(User)) == 1


def test_sign_up_without_csrf_token_is_rejected_and_creates_nothing(client):
    response = client.post("/sign-up", data=GOOD)

    assert response.status_code == 400
    assert "did not come from this site" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count()).select_from(User)) == 0


def test_signed_in_user_visiting_sign_up_goes_home(app, auth, client):
    make_user(email="ada@example.org")
    auth.sign_in("ada@example.org")

    response = client.get("/sign-up")

    assert response.status_code == 302
    assert response.headers["Location"] == "/"


class TestSignUpLimit:
    @pytest.fixture
    def app_config(self):
        return {"SIGNUP_LIMIT_PER_IP": "2 per hour"}

    def test_sign_ups_from_one_address_are_limited(self, app, forms):
        for n in range(2):
            forms.post("/sign-up", {**GOOD, "email": f"grace{n}@example.org"})
            with forms.client.session_transaction() as session:  # sign out
                session.clear()

        response = forms.post("/sign-up", {**GOOD, "email": "grace9@example.org"})

        assert response.status_code == 429
        assert db.session.scalar(db.select(db.func.count()).select_from(User)) == 2
