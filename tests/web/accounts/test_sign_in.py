"""Signing in and out: credentials, throttling, deactivation, redirects, sessions."""

from __future__ import annotations

import pytest

from quizapp.accounts import passwords, services
from quizapp.accounts.models import User
from quizapp.extensions import db
from tests.factories import PASSWORD, make_admin, make_user

SAME_MESSAGE = "That e-mail address and password do not match an account."


def test_right_password_signs_in_and_records_the_time(app, auth, client):
    user = make_user(email="ada@example.org", name="Ada Lovelace")

    response = auth.sign_in("ADA@example.org ")

    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "Hello, Ada Lovelace" in client.get("/").get_data(as_text=True)
    db.session.refresh(user)
    assert user.last_sign_in_at is not None


@pytest.mark.parametrize("email", ["ada@example.org", "nobody@example.org"])
def test_wrong_password_and_unknown_email_get_the_same_answer(app, auth, email):
    make_user(email="ada@example.org")

    response = auth.sign_in(email, "not the password at all")

    assert response.status_code == 401
    assert SAME_MESSAGE in response.get_data(as_text=True)


def test_an_unknown_email_costs_one_password_verification_too(app, auth, monkeypatch):
    """So that response times do not tell which addresses have accounts."""
    make_user(email="ada@example.org")
    verified: list[str] = []
    real = passwords.verify_password

    def counting(hashed: str, password: str) -> bool:
        verified.append(password)
        return real(hashed, password)

    monkeypatch.setattr(passwords, "verify_password", counting)

    auth.sign_in("ada@example.org", "not the password at all")
    auth.sign_in("nobody@example.org", "not the password either")

    assert verified == ["not the password at all", "not the password either"]


def test_failed_sign_ins_are_throttled_per_account(app, auth):
    make_user(email="ada@example.org")
    for _ in range(5):
        assert auth.sign_in("ada@example.org", "wrong guess 123").status_code == 401

    blocked = auth.sign_in("ada@example.org")  # even the right password waits

    assert blocked.status_code == 429
    assert "Too many attempts" in blocked.get_data(as_text=True)
    assert "Retry-After" in blocked.headers


def test_throttling_one_account_leaves_other_accounts_alone(app, auth, client):
    make_user(email="ada@example.org")
    make_user(email="bob@example.org")
    for _ in range(6):
        auth.sign_in("ada@example.org", "wrong guess 123")

    assert auth.sign_in("bob@example.org").status_code == 302


def test_successful_sign_ins_do_not_count_towards_the_limit(app, auth):
    make_user(email="ada@example.org")
    for _ in range(7):
        assert auth.sign_in("ada@example.org").status_code == 302
        auth.sign_out()


class TestPerAddressLimit:
    @pytest.fixture
    def app_config(self):
        return {"LOGIN_LIMIT_PER_IP": "3 per 15 minutes"}

    def test_failures_across_accounts_from_one_address_are_throttled(self, app, auth):
        make_user(email="ada@example.org")
        for n in range(3):
            auth.sign_in(f"guess{n}@example.org", "wrong guess 123")

        assert auth.sign_in("ada@example.org").status_code == 429


def test_deactivated_account_cannot_sign_in(app, auth):
    make_user(email="ada@example.org", active=False)

    response = auth.sign_in("ada@example.org")

    assert response.status_code == 403
    assert "deactivated" in response.get_data(as_text=True)


def test_deactivation_ends_an_open_session(app, auth, client):
    user = make_user(email="ada@example.org")
    auth.sign_in("ada@example.org")
    services.set_active(user, False, actor=make_admin())
    db.session.commit()

    response = client.get("/account/password")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in")


def test_sign_in_returns_to_the_page_asked_for(app, forms):
    make_user(email="ada@example.org")

    response = forms.post(
        "/sign-in?next=/account/password",
        {"email": "ada@example.org", "password": PASSWORD},
    )

    assert response.headers["Location"] == "/account/password"


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:x"],
)
def test_sign_in_never_redirects_off_site(app, forms, target):
    make_user(email="ada@example.org")

    response = forms.post(
        f"/sign-in?next={target}", {"email": "ada@example.org", "password": PASSWORD}
    )

    assert response.headers["Location"] == "/"


def test_anonymous_visitor_of_a_private_page_is_sent_to_sign_in(client):
    response = client.get("/account/password")

    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in?next=%2Faccount%2Fpassword"


def test_sign_in_starts_a_fresh_session(app, auth, client):
    make_user(email="ada@example.org")
    with client.session_transaction() as session:
        session["planted"] = "by someone else"

    auth.sign_in("ada@example.org")

    with client.session_transaction() as session:
        assert "planted" not in session
        assert session.permanent


def test_sign_out_needs_a_post_with_csrf(app, auth, client):
    make_user(email="ada@example.org")
    auth.sign_in("ada@example.org")

    assert client.get("/sign-out").status_code == 405
    assert client.post("/sign-out").status_code == 400
    assert "Hello" in client.get("/").get_data(as_text=True)

    auth.sign_out()

    assert "Create a candidate account" in client.get("/").get_data(as_text=True)


def test_password_hash_made_with_old_costs_is_upgraded_at_sign_in(app, auth):
    user = make_user(email="ada@example.org")
    user.password_hash = _hash_with(PASSWORD, memory_cost=16)
    db.session.commit()

    auth.sign_in("ada@example.org")

    db.session.refresh(user)
    assert "m=8," in user.password_hash


def _hash_with(password: str, memory_cost: int) -> str:
    from argon2 import PasswordHasher

    return PasswordHasher(time_cost=1, memory_cost=memory_cost, parallelism=1).hash(
        password
    )


def test_user_row_never_holds_the_password(app):
    user = make_user(email="ada@example.org")
    stored = db.session.execute(db.select(User.__table__)).one()._asdict()
    assert PASSWORD not in repr(stored)
    assert user.password_hash.startswith("$argon2id$")
