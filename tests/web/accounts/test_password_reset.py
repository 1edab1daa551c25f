"""Password reset by e-mail: a signed, expiring, single-use link, the same answer for
every address, throttled, and through the configured mail backend."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta

import pytest

from quizapp.accounts import passwords
from quizapp.accounts.models import SignIn, User
from quizapp.core import audit, clock, mail
from quizapp.extensions import db
from tests.factories import make_user

LINK = re.compile(r"http://localhost(/password/reset/\S+)")
NEW = "a fresh passphrase here"
SENT = "If an account uses that address, we have sent it a link"


def ask(forms, email: str):
    return forms.post("/password/forgot", {"email": email}, page="/password/forgot")


def link_in_the_mail() -> str:
    (message,) = mail.outbox()
    return LINK.search(message.body).group(1)


def choose(forms, link: str, password: str = NEW, confirm: str | None = None):
    return forms.post(
        link, {"new_password": password, "confirm": confirm or password}, page=link
    )


def test_the_sign_in_page_leads_to_the_reset_form(client):
    page = client.get("/sign-in").get_data(as_text=True)

    assert 'href="/password/forgot"' in page
    assert "Send me a link" in client.get("/password/forgot").get_data(as_text=True)


def test_a_reset_link_sets_a_new_password_once(app, client, forms, auth):
    user = make_user(email="ada@example.org", name="Ada Lovelace")

    response = ask(forms, "Ada@Example.org")

    assert response.status_code == 302
    assert SENT in client.get(response.headers["Location"]).get_data(as_text=True)
    (message,) = mail.outbox()
    assert (message.to, message.subject) == (
        "ada@example.org",
        "Reset your quizapp password",
    )
    assert "Hello Ada Lovelace" in message.body
    link = link_in_the_mail()
    assert "ada@example.org" in client.get(link).get_data(as_text=True)

    response = choose(forms, link)

    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in"
    db.session.refresh(user)
    assert passwords.verify_password(user.password_hash, NEW)
    assert auth.sign_in("ada@example.org", NEW).status_code == 302
    auth.sign_out()
    # Used once: the same link is refused.
    again = client.get(link)
    assert again.status_code == 400
    assert "expired or has already been used" in again.get_data(as_text=True)
    assert [e.action for e in audit.events_for("user", user.id)][:2] == [
        "account.password_reset",
        "account.password_reset_sent",
    ]


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client, forms):
    make_user(email="ada@example.org")

    known = ask(forms, "ada@example.org")
    mail.outbox().clear()
    unknown = ask(forms, "nobody@example.org")

    assert (unknown.status_code, unknown.headers["Location"]) == (
        known.status_code,
        known.headers["Location"],
    )
    assert SENT in client.get("/sign-in").get_data(as_text=True)
    assert mail.outbox() == []


def test_a_deactivated_account_gets_no_link(app, forms):
    make_user(email="ada@example.org", active=False)

    ask(forms, "ada@example.org")

    assert mail.outbox() == []


def test_the_link_expires(app, client, forms):
    make_user(email="ada@example.org")
    start = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    with clock.frozen(start):
        ask(forms, "ada@example.org")
    link = link_in_the_mail()

    # itsdangerous dates the token by the system clock, not quizapp's.
    token_age = timedelta(minutes=app.config["QUIZAPP_PASSWORD_RESET_MINUTES"] + 1)
    real_now = datetime.now(UTC)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("time.time", lambda: (real_now + token_age).timestamp())
        response = client.get(link)

    assert response.status_code == 400
    assert "expired or has already been used" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda link: link[:-2] + ("AA" if not link.endswith("AA") else "BB"),
        lambda link: "/password/reset/not-a-token",
    ],
    ids=["altered", "made-up"],
)
def test_a_forged_link_is_refused(app, client, forms, tamper):
    user = make_user(email="ada@example.org")
    before = user.password_hash
    ask(forms, "ada@example.org")
    link = tamper(link_in_the_mail())

    assert client.get(link).status_code == 400
    response = choose(forms, "/password/forgot")  # the form it shows instead
    db.session.refresh(user)
    assert user.password_hash == before
    assert response.status_code in (302, 422)


def test_a_password_change_voids_an_earlier_link(app, client, forms, auth):
    user = make_user(email="ada@example.org")
    ask(forms, "ada@example.org")
    link = link_in_the_mail()
    user.password_hash = passwords.hash_password("changed some other way")
    db.session.commit()

    assert client.get(link).status_code == 400


def test_a_reset_signs_out_every_browser(app, client, forms, auth):
    make_user(email="ada@example.org")
    auth.sign_in("ada@example.org")
    assert db.session.scalar(db.select(db.func.count()).select_from(SignIn)) == 1
    ask(forms, "ada@example.org")

    choose(forms, link_in_the_mail())

    assert db.session.scalar(db.select(db.func.count()).select_from(SignIn)) == 0
    assert client.get("/account/password").status_code == 302


def test_a_weak_or_mistyped_new_password_is_shown_next_to_the_field(app, client, forms):
    user = make_user(email="ada@example.org")
    before = user.password_hash
    ask(forms, "ada@example.org")
    link = link_in_the_mail()

    weak = choose(forms, link, "short")
    mistyped = choose(forms, link, NEW, "another phrase entirely")

    assert weak.status_code == 422
    assert mistyped.status_code == 422
    assert "The two passwords differ." in mistyped.get_data(as_text=True)
    db.session.refresh(user)
    assert user.password_hash == before
    # Still usable after a refused attempt.
    assert choose(forms, link).status_code == 302


def test_reset_requests_for_one_address_are_throttled(app, forms):
    make_user(email="ada@example.org")

    answers = [ask(forms, "ada@example.org").status_code for _ in range(4)]

    assert answers == [302, 302, 302, 429]
    assert len(mail.outbox()) == 3


def test_a_mail_failure_says_so_and_records_nothing(app, forms, monkeypatch):
    user = make_user(email="ada@example.org")

    def broken(message):
        raise mail.MailError("connection refused")

    monkeypatch.setattr(mail, "_backend", lambda name: broken)
    response = ask(forms, "ada@example.org")

    assert response.status_code == 503
    assert "could not be sent" in response.get_data(as_text=True)
    actions = [e.action for e in audit.events_for("user", user.id)]
    assert actions == ["account.created"]


class TestConsoleBackend:
    @pytest.fixture
    def app_config(self):
        return {"MAIL_BACKEND": "console"}

    def test_the_link_is_written_to_the_log(self, app, forms, caplog):
        make_user(email="ada@example.org")

        with caplog.at_level(logging.WARNING, logger="quizapp.core.mail"):
            ask(forms, "ada@example.org")

        assert "to=ada@example.org" in caplog.text
        assert LINK.search(caplog.text)


def test_the_user_row_is_untouched_until_the_new_password_is_chosen(app, client, forms):
    user = make_user(email="ada@example.org")
    before = (user.password_hash, user.last_sign_in_at)

    ask(forms, "ada@example.org")
    client.get(link_in_the_mail())

    stored = db.session.get(User, user.id)
    assert (stored.password_hash, stored.last_sign_in_at) == before
