"""Account services without HTTP: the rules and what they write."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from quizapp.accounts import services
from quizapp.accounts.models import Role, User
from quizapp.core import clock
from quizapp.core.auth import is_safe_next
from quizapp.core.errors import DomainError
from quizapp.extensions import db
from tests.factories import make_user

REGISTRATION = services.Registration(
    name="Alan Turing",
    email="alan@example.org",
    password="enigma bombe hut eight",
    school="King's College",
    discipline="Mathematics / statistics",
    graduation_year=2026,
)


def test_registration_records_the_time_from_the_one_clock(app):
    at = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
    with clock.frozen(at):
        user = services.register_candidate(REGISTRATION)
        db.session.commit()

    db.session.expire_all()
    stored = db.session.get(User, user.id)
    assert stored.created_at == at
    assert stored.created_at.tzinfo is not None


def test_a_concurrent_registration_with_the_same_email_loses_cleanly(app, monkeypatch):
    make_user(email="alan@example.org")
    # The other request's row appears between our check and our insert.
    monkeypatch.setattr(services, "find_by_email", lambda email: None)

    with pytest.raises(DomainError, match="already exists") as raised:
        services.register_candidate(REGISTRATION)

    assert raised.value.field == "email"
    db.session.rollback()
    count = db.session.scalar(db.select(db.func.count()).select_from(User))
    assert count == 1


def test_password_may_not_echo_the_persons_own_details(app):
    weak = dataclasses.replace(REGISTRATION, password="alanturing2026")
    with pytest.raises(DomainError, match="too easy to guess"):
        services.register_candidate(weak)


def test_generated_password_is_strong_and_works(app):
    user, generated = services.create_account(
        "ines@example.org", "Ines", [Role.instructor]
    )
    db.session.commit()

    assert generated is not None
    assert len(generated) >= 20
    assert services.authenticate("ines@example.org", generated).id == user.id


def test_the_last_admin_cannot_be_deactivated_even_from_the_cli(app):
    admin = make_user(roles=(Role.admin,))

    with pytest.raises(DomainError, match="last active admin"):
        services.set_active(admin, False, actor=None)


def test_deactivation_replaces_the_session_token(app):
    user = make_user()
    make_user(roles=(Role.admin,))
    before = user.session_token

    services.set_active(user, False, actor=None)

    assert user.session_token != before


@pytest.mark.parametrize(
    ("target", "safe"),
    [
        ("/account/password", True),
        ("/admin/accounts?page=2", True),
        ("//evil.example", False),
        ("/\\evil.example", False),
        ("https://evil.example/", False),
        ("javascript:alert(1)", False),
        ("", False),
        (None, False),
    ],
)
def test_only_same_site_paths_are_safe_redirects(target, safe):
    assert is_safe_next(target) is safe
