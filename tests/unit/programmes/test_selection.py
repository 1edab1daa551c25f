"""Shortlist, finalists, changes by hand and their audit trail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from quizapp.banks.models import Programme
from quizapp.core import clock
from quizapp.core.audit import AuditEvent
from quizapp.core.errors import Conflict, DomainError
from quizapp.delivery import services as delivery
from quizapp.extensions import db
from quizapp.programmes import services
from quizapp.programmes.models import FINALISTS, SELECTED, SHORTLIST, WAITLISTED
from tests.factories import make_finished_attempt, make_quiz, make_user

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
CLOSED = T0 - timedelta(days=1)


@pytest.fixture
def organiser(app):
    return make_user(roles=("organiser",), name="Olga Organiser")


@pytest.fixture
def screening(app, tmp_path):
    return make_quiz(
        tmp_path, "scr", programme=True, closes=CLOSED, opens=CLOSED - timedelta(days=5)
    )


@pytest.fixture
def programme(screening) -> Programme:
    return db.session.scalar(select(Programme).where(Programme.slug == "scr-programme"))


def applicants(quiz, percents, **kw):
    users = []
    for n, percent in enumerate(percents):
        user = make_user(name=f"A{n:02}")
        make_finished_attempt(
            user, quiz, percent, finished_at=CLOSED - timedelta(hours=1), **kw
        )
        users.append(user)
    return users


def statuses(programme, stage=SHORTLIST):
    return {s.user.name: s.status for s in services.members(programme, stage)}


def test_shortlist_takes_exactly_the_top_n_and_waitlists_the_next(
    programme, screening, organiser
):
    applicants(screening, [100 - n for n in range(20)])

    report = services.shortlist_top(programme, organiser, n=10)
    db.session.commit()

    got = statuses(programme)
    assert sorted(n for n, s in got.items() if s == SELECTED) == [
        f"A{n:02}" for n in range(10)
    ]
    assert sorted(n for n, s in got.items() if s == WAITLISTED) == [
        f"A{n:02}" for n in range(10, 15)
    ]
    assert (report.selected, report.waitlisted, report.tied_below_cut) == (10, 5, [])
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "shortlist.picked")
    )
    assert event.actor_id == organiser.id
    assert event.details["selected"] == 10


def test_a_tie_at_the_cut_off_goes_to_the_earlier_registration(
    programme, screening, organiser
):
    users = applicants(screening, [90, 80, 70, 70, 70, 60])

    report = services.shortlist_top(programme, organiser, n=3)

    got = statuses(programme)
    assert [got[u.name] for u in users] == [
        SELECTED,
        SELECTED,
        SELECTED,
        WAITLISTED,
        WAITLISTED,
        WAITLISTED,
    ]
    assert report.selected == 3
    assert report.tied_below_cut == [users[3].id, users[4].id]


def test_shortlist_is_refused_while_the_window_is_open(app, tmp_path, organiser):
    quiz = make_quiz(tmp_path, "open", programme=True)
    programme = db.session.scalar(
        select(Programme).where(Programme.slug == "open-programme")
    )
    applicants(quiz, [50])

    with pytest.raises(DomainError, match="still open"):
        services.shortlist_top(programme, organiser)


def test_shortlist_waits_for_attempts_running_on_extra_time(
    programme, screening, organiser
):
    applicants(screening, [80])
    late = make_user()
    with clock.frozen(CLOSED - timedelta(minutes=5)):
        delivery.grant_accommodation(
            late,
            quiz=screening,
            closes_at=T0 + timedelta(hours=1),
            reason="exam clash",
            actor=organiser,
            now=CLOSED - timedelta(minutes=5),
        )
        delivery.start_attempt(
            late, screening, CLOSED - timedelta(minutes=5), "10.0.0.1", "Firefox"
        )
    db.session.commit()

    with pytest.raises(DomainError, match="still running"):
        services.shortlist_top(programme, organiser, now=T0)


def test_picking_again_needs_replace_and_is_refused_once_published(
    programme, screening, organiser
):
    applicants(screening, [90, 80, 70])
    services.shortlist_top(programme, organiser, n=2)

    with pytest.raises(Conflict, match="replace"):
        services.shortlist_top(programme, organiser, n=2)
    services.shortlist_top(programme, organiser, n=1, replace=True)
    assert sum(s == SELECTED for s in statuses(programme).values()) == 1

    services.set_published(programme, SHORTLIST, True, organiser)
    with pytest.raises(Conflict, match="published"):
        services.shortlist_top(programme, organiser, n=1, replace=True)


def test_changes_by_hand_need_a_reason_and_are_audited(programme, screening, organiser):
    users = applicants(screening, [90, 80, 70, 60, 50, 40, 30])
    services.shortlist_top(programme, organiser, n=2)

    with pytest.raises(DomainError) as missing:
        services.remove_by_hand(programme, SHORTLIST, users[0], "  ", organiser)
    assert missing.value.field == "reason"
    services.remove_by_hand(
        programme, SHORTLIST, users[0], "Withdrew: took a job", organiser
    )
    services.add_by_hand(
        programme, SHORTLIST, users[2], "Next on the waitlist", organiser
    )
    db.session.commit()

    got = statuses(programme)
    assert users[0].name not in got
    assert got[users[2].name] == SELECTED
    events = services.history(programme, SHORTLIST)
    assert [
        (e.action, e.details.get("reason"), e.details.get("was")) for e in events[:2]
    ] == [
        ("shortlist.added", "Next on the waitlist", WAITLISTED),
        ("shortlist.removed", "Withdrew: took a job", SELECTED),
    ]
    assert all(e.actor_id == organiser.id for e in events)


def test_adding_by_hand_refuses_staff_and_people_already_on(
    programme, screening, organiser
):
    users = applicants(screening, [90])
    services.shortlist_top(programme, organiser, n=1)

    with pytest.raises(DomainError, match="already on"):
        services.add_by_hand(programme, SHORTLIST, users[0], "again", organiser)
    with pytest.raises(DomainError, match="not a candidate"):
        services.add_by_hand(programme, SHORTLIST, organiser, "staff", organiser)


def test_finalists_rank_the_cohort_by_the_weighted_combined_score(
    app, tmp_path, organiser
):
    module_quiz = make_quiz(tmp_path, "m1", closes=CLOSED)
    screening = make_quiz(tmp_path, "scr2", programme=True, closes=CLOSED)
    programme = db.session.scalar(
        select(Programme).where(Programme.slug == "scr2-programme")
    )
    from quizapp.banks.models import ModuleAssessment

    programme.modules[0].assessments = [
        ModuleAssessment(quiz_id=module_quiz.id, position=0)
    ]
    services.set_weights(programme, 50, 50, 0, organiser)
    strong_screen, strong_modules, absent = (
        make_user(name="Strong screening"),
        make_user(name="Strong modules"),
        make_user(name="Skipped modules"),
    )
    for user, screen, module in (
        (strong_screen, 90, 40),
        (strong_modules, 60, 100),
        (absent, 95, None),
    ):
        make_finished_attempt(
            user, screening, screen, finished_at=CLOSED - timedelta(hours=1)
        )
        if module is not None:
            make_finished_attempt(user, module_quiz, module, finished_at=CLOSED)
    services.shortlist_top(programme, organiser, n=3, now=T0)

    rows = services.cohort_ranking(programme)

    assert [(r.user.name, r.combined) for r in rows] == [
        ("Strong modules", pytest.approx(80.0)),
        ("Strong screening", pytest.approx(65.0)),
        ("Skipped modules", pytest.approx(47.5)),
    ]
    services.select_finalists(programme, organiser, m=1)
    assert statuses(programme, FINALISTS) == {
        "Strong modules": SELECTED,
        "Strong screening": WAITLISTED,
        "Skipped modules": WAITLISTED,
    }


def test_finalists_by_hand_must_come_from_the_cohort(programme, screening, organiser):
    users = applicants(screening, [90, 80])
    services.shortlist_top(programme, organiser, n=1, now=T0)

    with pytest.raises(DomainError, match="not in the bootcamp cohort"):
        services.add_by_hand(
            programme, FINALISTS, users[1], "Strong interview", organiser
        )
    services.add_by_hand(programme, FINALISTS, users[0], "Strong interview", organiser)
    with pytest.raises(DomainError, match="also a finalist"):
        services.remove_by_hand(programme, SHORTLIST, users[0], "oops", organiser)


def test_an_organisers_window_survives_a_reimport(app, tmp_path, organiser):
    quiz = make_quiz(tmp_path, "win", closes=T0)
    services.set_window(
        quiz, None, T0 + timedelta(days=2), organiser, reason="power cut"
    )
    db.session.commit()

    make_quiz(tmp_path, "win", closes=T0, time_limit="20m")  # the files changed

    db.session.refresh(quiz)
    assert quiz.time_limit_seconds == 20 * 60
    assert quiz.closes_at == T0 + timedelta(days=2)
    assert quiz.source_closes_at == T0
    services.revert_window(quiz, organiser)
    assert quiz.closes_at == T0
