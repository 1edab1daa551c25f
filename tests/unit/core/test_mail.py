"""The mail backends: chosen by setting, a bad choice stops the app at start-up."""

from __future__ import annotations

import smtplib

import pytest

from quizapp import create_app
from quizapp.config import ConfigError
from quizapp.core import mail
from tests.conftest import TEST_CONFIG

MESSAGE = mail.Message("ada@example.org", "Hello", "Body text\nwith two lines")
received: list[mail.Message] = []


def collect(message: mail.Message) -> None:
    """A backend of one's own, named as package.module:function."""
    received.append(message)


def test_a_backend_of_ones_own_receives_the_message(tmp_path):
    app = create_app(
        {
            **TEST_CONFIG,
            "DATABASE_URL": f"sqlite:///{tmp_path}/db",
            "MAIL_BACKEND": "tests.unit.core.test_mail:collect",
        }
    )
    received.clear()

    with app.app_context():
        mail.send(MESSAGE)

    assert received == [MESSAGE]


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("carrier-pigeon", "neither one of console, smtp, memory"),
        ("tests.unit.core.test_mail:nowhere", "does not resolve"),
        ("no.such.module:send", "does not resolve"),
        ("tests.unit.core.test_mail:MESSAGE", "is not callable"),
    ],
)
def test_an_unusable_backend_stops_the_app_with_a_message(tmp_path, name, problem):
    config = {**TEST_CONFIG, "DATABASE_URL": f"sqlite:///{tmp_path}/db"}

    with pytest.raises(ConfigError, match="QUIZAPP_MAIL_BACKEND") as raised:
        create_app({**config, "MAIL_BACKEND": name})

    assert problem in str(raised.value)


class FakeSMTP:
    """Records what the smtp backend asks of the server."""

    calls: list[tuple] = []

    def __init__(self, host, port, timeout, **kwargs):
        self.calls.append(("connect", host, port, "context" in kwargs))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.calls.append(("quit",))

    def starttls(self, context):
        self.calls.append(("starttls",))

    def login(self, user, password):
        self.calls.append(("login", user, password))

    def send_message(self, message):
        self.calls.append(("send", message["From"], message["To"], message["Subject"]))


@pytest.fixture
def smtp_app(tmp_path, monkeypatch):
    FakeSMTP.calls = []
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    monkeypatch.setattr(smtplib, "SMTP_SSL", FakeSMTP)

    def build(**settings):
        return create_app(
            {
                **TEST_CONFIG,
                "DATABASE_URL": f"sqlite:///{tmp_path}/db",
                "MAIL_BACKEND": "smtp",
                "MAIL_FROM": "quizapp <no-reply@quiz.example.org>",
                "SMTP_HOST": "smtp.example.org",
                **settings,
            }
        )

    return build


def test_smtp_sends_with_starttls_and_credentials(smtp_app):
    app = smtp_app(SMTP_USERNAME="quizapp", SMTP_PASSWORD="s3cret")

    with app.app_context():
        mail.send(MESSAGE)

    assert FakeSMTP.calls == [
        ("connect", "smtp.example.org", 587, False),
        ("starttls",),
        ("login", "quizapp", "s3cret"),
        ("send", "quizapp <no-reply@quiz.example.org>", "ada@example.org", "Hello"),
        ("quit",),
    ]


def test_smtp_over_implicit_tls_without_credentials(smtp_app):
    app = smtp_app(SMTP_SECURITY="ssl", SMTP_PORT=465)

    with app.app_context():
        mail.send(MESSAGE)

    assert [call[0] for call in FakeSMTP.calls] == ["connect", "send", "quit"]
    assert FakeSMTP.calls[0] == ("connect", "smtp.example.org", 465, True)


def test_a_server_that_cannot_be_reached_is_a_mail_error(tmp_path):
    app = create_app(
        {
            **TEST_CONFIG,
            "DATABASE_URL": f"sqlite:///{tmp_path}/db",
            "MAIL_BACKEND": "smtp",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": 9,  # discard: nothing listens
            "SMTP_SECURITY": "none",
        }
    )

    with app.app_context(), pytest.raises(mail.MailError):
        mail.send(MESSAGE)
