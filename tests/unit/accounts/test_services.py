"""Account services without HTTP: the rules and what they write."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from quizapp.accounts import services
from quizapp.accounts.models import Role, SignIn, User
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


def test_deactivation_ends_every_sign_in_of_the_account(app):
    user = make_user()
    other = make_user(roles=(Role.admin,))
    for _ in range(2):
        services.start_sign_in(user, "192.0.2.1", "Firefox")
    services.start_sign_in(other, None, None)

    services.set_active(user, False, actor=None)

    owners = db.session.scalars(db.select(SignIn.user_id)).all()
    assert owners == [other.id]


def test_sign_ins_older_than_the_maximum_age_are_cleared_at_the_next(app):
    user = make_user()
    with clock.frozen(datetime(2026, 1, 1, tzinfo=UTC)):
        old = services.start_sign_in(user, None, None)
    with clock.frozen(datetime(2026, 3, 1, tzinfo=UTC)):
        new = services.start_sign_in(user, None, None)

    assert db.session.scalars(db.select(SignIn.token)).all() == [new]
    assert old != new


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
