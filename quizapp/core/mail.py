"""Outgoing e-mail through a pluggable backend, chosen by ``QUIZAPP_MAIL_BACKEND``:

``console``
    (the default) writes each message to the log, so a development machine or a
    programme without a mail server still shows the links it would have sent;
``smtp``
    sends through ``QUIZAPP_SMTP_HOST``/``PORT`` with STARTTLS (or implicit TLS,
    ``QUIZAPP_SMTP_SECURITY=ssl``) and optional credentials;
``memory``
    keeps messages in :func:`outbox` (tests);
``package.module:callable``
    any function that takes a :class:`Message`.

A message that cannot be sent is logged and raises :class:`MailError`; the caller
decides whether the request fails.
"""

from __future__ import annotations

import importlib
import logging
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage

from flask import current_app

log = logging.getLogger(__name__)

BUILT_IN = ("console", "smtp", "memory")


@dataclass(frozen=True)
class Message:
    to: str
    subject: str
    body: str


class MailError(Exception):
    """The backend could not send the message."""


def send(message: Message) -> None:
    """Send ``message`` through the configured backend.

    :raise MailError: the backend failed.
    """
    backend = _backend(current_app.config["QUIZAPP_MAIL_BACKEND"])
    try:
        backend(message)
    except MailError:
        raise
    except (OSError, smtplib.SMTPException) as exc:
        log.error("mail to %s not sent: %s", message.to, exc)
        raise MailError(str(exc)) from exc


def outbox() -> list[Message]:
    """Messages sent by the ``memory`` backend of the current app."""
    return current_app.extensions.setdefault("quizapp_outbox", [])


def _backend(name: str) -> Callable[[Message], None]:
    if name == "console":
        return _console
    if name == "smtp":
        return _smtp
    if name == "memory":
        return outbox().append
    return load_callable(name)


def load_callable(name: str) -> Callable[[Message], None]:
    """Resolve ``package.module:callable``.

    :raise ValueError: the name is not of that form or does not resolve.
    """
    module_name, _, attribute = name.partition(":")
    if not module_name or not attribute:
        raise ValueError(
            f"{name!r} is neither one of {', '.join(BUILT_IN)} nor package.module:name"
        )
    try:
        backend = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"{name!r} does not resolve: {exc}") from None
    if not callable(backend):
        raise ValueError(f"{name!r} is not callable")
    return backend


def _envelope(message: Message) -> EmailMessage:
    email = EmailMessage()
    email["From"] = current_app.config["QUIZAPP_MAIL_FROM"]
    email["To"] = message.to
    email["Subject"] = message.subject
    email.set_content(message.body)
    return email


def _console(message: Message) -> None:
    log.warning(
        "mail (console backend, not sent): to=%s subject=%s\n%s",
        message.to,
        message.subject,
        message.body,
    )


def _smtp(message: Message) -> None:
    config = current_app.config
    host, port = config["QUIZAPP_SMTP_HOST"], config["QUIZAPP_SMTP_PORT"]
    security = config["QUIZAPP_SMTP_SECURITY"]
    context = ssl.create_default_context()
    if security == "ssl":
        server: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=10, context=context)
    else:
        server = smtplib.SMTP(host, port, timeout=10)
    with server:
        if security == "starttls":
            server.starttls(context=context)
        if config["QUIZAPP_SMTP_USERNAME"]:
            server.login(
                config["QUIZAPP_SMTP_USERNAME"], config["QUIZAPP_SMTP_PASSWORD"]
            )
        server.send_message(_envelope(message))
