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
    assert first.output.count("(created)") == 6
    assert second.output.count("(exists)") == 6
    roles = {r for u in users() for r in u.role_names}
    assert roles == {r.value for r in Role}
    assert "3 demo applicants took the screening quiz" in first.output
    assert "demo applicants" not in second.output  # kept, not made again


def test_demo_applicants_have_graded_screening_attempts(runner):
    from sqlalchemy import select

    from quizapp.banks.models import Quiz
    from quizapp.delivery.models import FINALIZED, Attempt
    from quizapp.extensions import db
    from quizapp.programmes import ranking

    assert runner.invoke(args=["demo", "--applicants", "4"]).exit_code == 0

    attempts = db.session.scalars(
        select(Attempt).join(Attempt.quiz).where(Quiz.slug == "dtt-screening")
    ).all()
    assert len(attempts) == 4
    assert all(a.status == FINALIZED and len(a.items) == 24 for a in attempts)
    assert ranking.leaderboard(attempts[0].quiz).total == 4


def _demo_programme():
    from quizapp.banks.models import Programme

    return db.session.scalar(db.select(Programme).where(Programme.slug == "dtt-demo"))


def _bootcamp_counts() -> dict[str, int]:
    from quizapp.bootcamp.models import Certificate, ModuleProgress, ProjectReview
    from quizapp.delivery.models import Attempt
    from quizapp.programmes.models import Selection

    return {
        model.__name__: db.session.scalar(db.select(db.func.count()).select_from(model))
        for model in (
            Selection,
            Attempt,
            ModuleProgress,
            ProjectReview,
            Certificate,
            AuditEvent,
        )
    }


def test_demo_plays_a_bootcamp_with_progress_reviews_and_certificates(runner, client):
    from quizapp.bootcamp import progress
    from quizapp.bootcamp.models import (
        COMPLETED,
        IN_PROGRESS,
        NOT_STARTED,
        Certificate,
        ProjectReview,
    )
    from quizapp.programmes import services

    result = runner.invoke(args=["demo", "--applicants", "30"])

    assert result.exit_code == 0, result.output
    programme = _demo_programme()
    cohort = services.cohort_ids(programme)
    # The top 24 of the screening, and the demo candidate by hand.
    assert len(cohort) == 25
    assert programme.shortlist_published_at is not None
    assert programme.projects_published_at is None  # the organiser publishes
    standings = progress.of_participants(programme, cohort)
    states = {m.status for s in standings.values() for m in s.modules}
    assert states == {COMPLETED, IN_PROGRESS, NOT_STARTED}
    completed = [u for u, s in standings.items() if s.is_complete]
    assert completed
    assert any(
        a.attempts > 1 and a.passed
        for s in standings.values()
        for m in s.modules
        for a in m.assessments
    ), "someone passed a check after failing it"
    reviews = db.session.scalars(db.select(ProjectReview)).all()
    assert {r.participant_id for r in reviews} == set(completed)
    assert {r.judge.email for r in reviews} == {
        "instructor@demo.example",
        "judge@demo.example",
    }
    chen = db.session.scalar(
        db.select(User).where(User.email == "candidate@demo.example")
    )
    mine = standings[chen.id]
    assert [m.status for m in mine.modules] == [COMPLETED] + [NOT_STARTED] * 3
    assert mine.next_assessment.slug == "m2-check"
    certificates = db.session.scalars(db.select(Certificate)).all()
    assert {c.user_id for c in certificates} == set(completed)
    assert all(c.is_valid for c in certificates)
    line = next(x for x in result.output.splitlines() if x.startswith("Bootcamp"))
    assert line.startswith(
        f"Bootcamp of dtt-demo: 25 participants, {len(completed)} completed every "
        f"module, {len(certificates)} certificates, {len(reviews)} project reviews; "
        "try /verify/QZ-"
    )
    page = client.get(line.rsplit(" ", 1)[1])
    assert page.status_code == 200
    shown = next(c for c in certificates if c.code in line)
    assert shown.recipient_name in page.get_data(as_text=True)


def test_a_second_demo_run_keeps_the_bootcamp_as_it_is(runner):
    first = runner.invoke(args=["demo", "--applicants", "8"])
    before = _bootcamp_counts()
    second = runner.invoke(args=["demo", "--applicants", "8"])

    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    assert _bootcamp_counts() == before
    assert before["Selection"] > 0
    assert "Bootcamp of dtt-demo (kept): 9 participants" in second.output


def test_demo_without_applicants_makes_no_bootcamp(runner):
    result = runner.invoke(args=["demo", "--applicants", "0"])

    assert result.exit_code == 0, result.output
    assert "Bootcamp" not in result.output
    assert _bootcamp_counts()["Selection"] == 0
    assert _demo_programme().shortlist_published_at is None


def test_demo_skips_the_bootcamp_while_a_screening_attempt_runs(runner):
    from quizapp.core import clock
    from quizapp.delivery import services as delivery

    assert runner.invoke(args=["demo", "--applicants", "0"]).exit_code == 0
    screening = _demo_programme().screening_quiz
    delivery.start_attempt(make_user(email="late@example.org"), screening, clock.now())
    db.session.commit()

    result = runner.invoke(args=["demo", "--applicants", "3"])

    assert result.exit_code == 0, result.output
    assert "3 demo applicants took the screening quiz" in result.output
    assert (
        "Bootcamp of dtt-demo not made: 1 screening attempt(s) are still running"
        in result.output
    )
    counts = _bootcamp_counts()
    assert counts["Selection"] == counts["Certificate"] == 0
    assert _demo_programme().screening_quiz.closes_at is None  # window untouched


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
