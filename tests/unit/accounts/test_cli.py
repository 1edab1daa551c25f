"""``flask users`` and ``flask demo``."""

from __future__ import annotations

import contextvars

from quizapp.accounts.models import Role, User
from quizapp.core.audit import AuditEvent
from quizapp.extensions import db
from tests.factories import make_admin, make_user


def users():
    return db.session.scalars(db.select(User).order_by(User.email)).all()


def test_users_create_with_a_generated_password(runner):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "Ines@Example.org",
            "--role",
            "instructor",
            "--role",
            "organiser",
        ]
    )

    assert result.exit_code == 0, result.output
    assert "created ines@example.org (instructor, organiser)" in result.output
    assert "password: " in result.output
    assert [u.email for u in users()] == ["ines@example.org"]


def test_users_create_refuses_bad_input_with_the_field_named(runner):
    make_user(email="taken@example.org")

    bad_email = runner.invoke(
        args=["users", "create", "--email", "nope", "--role", "admin"]
    )
    taken = runner.invoke(
        args=["users", "create", "--email", "taken@example.org", "--role", "admin"]
    )
    weak = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "new@example.org",
            "--role",
            "admin",
            "--password",
            "password1",
        ]
    )
    unknown_role = runner.invoke(
        args=["users", "create", "--email", "x@example.org", "--role", "wizard"]
    )

    assert bad_email.exit_code == 1
    assert "email: " in bad_email.output
    assert taken.exit_code == 1
    assert "already exists" in taken.output
    assert weak.exit_code == 1
    assert "password: " in weak.output
    assert unknown_role.exit_code == 2
    assert "wizard" in unknown_role.output
    assert [u.email for u in users()] == ["taken@example.org"]


def test_users_grant_revoke_and_deactivate(runner):
    make_admin(email="root@example.org")
    make_user(email="c@example.org")

    assert (
        runner.invoke(args=["users", "grant", "c@example.org", "organiser"]).exit_code
        == 0
    )
    last_admin = runner.invoke(args=["users", "revoke", "root@example.org", "admin"])
    runner.invoke(args=["users", "deactivate", "c@example.org"])

    assert last_admin.exit_code == 1
    assert "last active admin" in last_admin.output
    cand = db.session.scalar(db.select(User).where(User.email == "c@example.org"))
    db.session.refresh(cand)
    assert cand.has_role(Role.organiser)
    assert not cand.is_active
    listing = runner.invoke(args=["users", "list", "--role", "organiser"]).output
    assert listing.strip() == "c@example.org\tcandidate,organiser\tdeactivated"
    actions = db.session.scalars(db.select(AuditEvent.action)).all()
    assert "account.role_granted" in actions
    assert "account.deactivated" in actions


def test_unknown_email_is_an_error(runner):
    result = runner.invoke(args=["users", "grant", "ghost@example.org", "admin"])

    assert result.exit_code == 1
    assert "no account with the address" in result.output


def test_demo_creates_one_account_per_role_once(runner):
    first = runner.invoke(args=["demo", "--applicants", "3"])
    second = runner.invoke(args=["demo", "--applicants", "3"])

    assert first.exit_code == 0
    assert second.exit_code == 0
    assert first.output.count("(created)") == 5
    assert second.output.count("(exists)") == 5
    roles = {r for u in users() for r in u.role_names}
    assert roles == {r.value for r in Role}
    assert "3 demo applicants took the screening quiz" in first.output
    assert "demo applicants" not in second.output  # kept, not made again


def test_demo_applicants_have_graded_screening_attempts(runner):
    from sqlalchemy import select

    from quizapp.delivery.models import FINALIZED, Attempt
    from quizapp.extensions import db
    from quizapp.programmes import ranking

    assert runner.invoke(args=["demo", "--applicants", "4"]).exit_code == 0

    attempts = db.session.scalars(select(Attempt)).all()
    assert len(attempts) == 4
    assert all(a.status == FINALIZED and len(a.items) == 24 for a in attempts)
    assert ranking.leaderboard(attempts[0].quiz).total == 4


def test_demo_is_refused_in_production(app):
    from tests.conftest import make_app

    prod = make_app(
        app.config["SQLALCHEMY_DATABASE_URI"],
        ENV="production",
        PASSWORD_HASH_PROFILE="OWASP",
    )
    # A blank context, or the command would run in the test app's context.
    result = contextvars.Context().run(prod.test_cli_runner().invoke, args=["demo"])

    assert result.exit_code == 1
    assert "refused in production" in result.output
