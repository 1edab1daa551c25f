"""The delivery services: start, deadlines, saves, finalize, results and
accommodations, with a frozen clock and no HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from click.testing import Result
from sqlalchemy import func, select

from quizapp.core import clock
from quizapp.core.errors import Conflict, DomainError
from quizapp.delivery import services
from quizapp.delivery.models import (
    FINALIZED,
    IN_PROGRESS,
    SUBMITTED,
    TIMED_OUT,
    AnswerEvent,
    Attempt,
    IntegritySignal,
)
from quizapp.extensions import db
from tests.factories import EVERY_TYPE_KEYS, make_quiz, make_user, right_answers

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
FORM = services.Origin("form", "browser-1", "10.0.0.1", "Firefox")


@pytest.fixture
def now():
    with clock.frozen(T0) as move_to:
        yield move_to


@pytest.fixture
def candidate(app):
    return make_user()


def start(user, quiz, at=T0) -> Attempt:
    attempt = services.start_attempt(user, quiz, at, "10.0.0.1", "Firefox")
    db.session.commit()
    return attempt


def answer_all(attempt: Attempt, at: datetime) -> None:
    for position, response in right_answers(attempt).items():
        item = services.item_at(attempt, position)
        services.save_response(attempt, item, response, at, FORM)
    db.session.commit()


# --- start ------------------------------------------------------------------------


def test_start_fixes_questions_order_values_and_deadline(app, tmp_path, candidate):
    quiz = make_quiz(tmp_path, time_limit="30m")

    attempt = start(candidate, quiz)

    assert attempt.status == IN_PROGRESS
    assert attempt.deadline_at == T0 + timedelta(minutes=30)
    assert [i.position for i in attempt.items] == list(range(1, 9))
    keys = sorted(i.version.question.key for i in attempt.items)
    assert keys == sorted(EVERY_TYPE_KEYS)
    numeric = next(i for i in attempt.items if i.version.type == "numeric")
    assert set(numeric.params) == {"a", "b"}
    assert attempt.max_score == 8


def test_starting_twice_gives_the_same_attempt(app, tmp_path, candidate):
    quiz = make_quiz(tmp_path)

    first = start(candidate, quiz)
    second = start(candidate, quiz, T0 + timedelta(seconds=1))

    assert second.id == first.id
    assert db.session.scalar(select(func.count()).select_from(Attempt)) == 1


def test_a_draw_picks_distinct_questions_from_the_pool(app, tmp_path, candidate):
    quiz = make_quiz(tmp_path)
    quiz.sections = [{"title": "Drawn", "draw": 5, "from": {"bank": "every-type"}}]
    db.session.commit()

    attempts = []
    for _ in range(3):
        user = make_user()
        attempts.append(start(user, quiz))

    for attempt in attempts:
        keys = [i.version.question.key for i in attempt.items]
        assert len(keys) == 5
        assert len(set(keys)) == 5
        assert set(keys) <= set(EVERY_TYPE_KEYS)


def test_the_window_close_caps_the_deadline(app, tmp_path, candidate):
    quiz = make_quiz(tmp_path, time_limit="30m", closes=T0 + timedelta(minutes=10))

    state = services.availability(candidate.id, quiz, T0)
    attempt = start(candidate, quiz)

    assert state.cut_short_to == timedelta(minutes=10)
    assert attempt.deadline_at == T0 + timedelta(minutes=10)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"opens": T0 + timedelta(hours=1)}, "has not opened yet"),
        ({"closes": T0 - timedelta(minutes=1)}, "has closed"),
    ],
)
def test_a_quiz_outside_its_window_cannot_be_started(
    app, tmp_path, candidate, kwargs, message
):
    quiz = make_quiz(tmp_path, **kwargs)

    with pytest.raises(Conflict, match=message):
        services.start_attempt(candidate, quiz, T0)


def test_attempts_are_limited_and_an_extra_attempt_allows_one_more(
    app, tmp_path, candidate
):
    quiz = make_quiz(tmp_path, attempts=1)
    attempt = start(candidate, quiz)
    services.submit_attempt(attempt, T0 + timedelta(minutes=1))
    db.session.commit()
    later = T0 + timedelta(minutes=2)

    with pytest.raises(Conflict, match="used all your attempts"):
        services.start_attempt(candidate, quiz, later)
    services.grant_accommodation(candidate, quiz=quiz, extra_attempts=1, now=later)
    second = start(candidate, quiz, later)

    assert second.number == 2


# --- accommodations ---------------------------------------------------------------


def test_extra_time_and_multiplier_move_the_deadline(app, tmp_path, candidate):
    quiz = make_quiz(tmp_path, time_limit="40m")
    services.grant_accommodation(
        candidate, quiz=quiz, time_multiplier=1.25, extra_minutes=5, now=T0
    )

    attempt = start(candidate, quiz)

    assert attempt.deadline_at == T0 + timedelta(minutes=40 * 1.25 + 5)


def test_the_window_close_does_not_cut_an_extension_short(app, tmp_path, candidate):
    # Starting 30 minutes before a 30-minute quiz closes: a standard candidate gets
    # 30 minutes; one with 1.5x gets their 45, because their own window closes later.
    quiz = make_quiz(tmp_path, time_limit="30m", closes=T0 + timedelta(minutes=30))
    other = make_user()
    services.grant_accommodation(candidate, quiz=quiz, time_multiplier=1.5, now=T0)

    extended = start(candidate, quiz)
    standard = start(other, quiz)

    assert extended.deadline_at == T0 + timedelta(minutes=45)
    assert standard.deadline_at == T0 + timedelta(minutes=30)


def test_an_extension_applies_to_a_running_attempt_at_once(app, tmp_path, candidate):
    quiz = make_quiz(tmp_path, time_limit="20m")
    attempt = start(candidate, quiz)

    services.grant_accommodation(
        candidate, quiz=quiz, extra_minutes=10, now=T0 + timedelta(minutes=5)
    )
    db.session.commit()

    assert attempt.deadline_at == T0 + timedelta(minutes=30)


def test_a_programme_accommodation_covers_its_quizzes_and_a_quiz_one_wins(
    app, tmp_path, candidate
):
    quiz = make_quiz(tmp_path, time_limit="20m", programme=True)
    programme = services.programmes_of(quiz)
    from quizapp.banks.models import Programme

    programme = db.session.get(Programme, programme[0])
    services.grant_accommodation(
        candidate, programme=programme, time_multiplier=2, now=T0
    )
    assert services.terms_for(candidate.id, quiz).time_limit == timedelta(minutes=40)

    services.grant_accommodation(candidate, quiz=quiz, extra_minutes=5, now=T0)

    assert services.terms_for(candidate.id, quiz).time_limit == timedelta(minutes=25)


def test_revoking_restores_the_standard_deadline(app, tmp_path, candidate):
    quiz = make_quiz(tmp_path, time_limit="20m")
    granted = services.grant_accommodation(
        candidate, quiz=quiz, extra_minutes=10, now=T0
    )
    attempt = start(candidate, quiz)
    assert attempt.deadline_at == T0 + timedelta(minutes=30)

    services.revoke_accommodation(granted)
    db.session.commit()

    assert attempt.deadline_at == T0 + timedelta(minutes=20)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"extra_minutes": -1}, "extra_minutes"),
        ({"time_multiplier": 0.5}, "time_multiplier"),
        ({"extra_attempts": 1000}, "extra_attempts"),
    ],
)
def test_accommodations_out_of_range_are_refused(
    app, tmp_path, candidate, kwargs, field
):
    quiz = make_quiz(tmp_path)

    with pytest.raises(DomainError) as error:
        services.grant_accommodation(candidate, quiz=quiz, now=T0, **kwargs)

    assert error.value.field == field


# --- saves ------------------------------------------------------------------------


def test_a_save_replaces_the_answer_and_is_kept_in_the_history(
    app, tmp_path, candidate
):
    quiz = make_quiz(tmp_path)
    attempt = start(candidate, quiz)
    item = services.item_at(attempt, 1)

    services.save_response(attempt, item, None, T0 + timedelta(seconds=5), FORM, True)
    outcome = services.save_response(
        attempt, item, "x", T0 + timedelta(seconds=9), FORM
    )
    db.session.commit()

    assert outcome.saved
    assert outcome.remaining_seconds == 600 - 9
    assert item.response == "x"
    assert item.is_flagged
    history = db.session.scalars(select(AnswerEvent).order_by(AnswerEvent.id)).all()
    assert [(e.response, e.is_flagged, e.channel) for e in history] == [
        (None, True, "form"),
        ("x", True, "form"),
    ]
    assert history[0].browser_session == "browser-1"
    assert history[0].ip == "10.0.0.1"


def test_a_save_within_the_grace_period_is_accepted(app, tmp_path, candidate):
    quiz = make_quiz(tmp_path, time_limit="1m")
    attempt = start(candidate, quiz)
    item = services.item_at(attempt, 1)
    in_flight = attempt.deadline_at + services.grace() - timedelta(milliseconds=1)

    outcome = services.save_response(attempt, item, "late", in_flight, FORM)

    assert outcome.saved
    assert attempt.status == IN_PROGRESS


def test_a_save_after_the_deadline_is_refused_and_finalizes(app, tmp_path, candidate):
    quiz = make_quiz(tmp_path, time_limit="1m")
    attempt = start(candidate, quiz)
    first = services.item_at(attempt, 1)
    services.save_response(attempt, first, "early", T0 + timedelta(seconds=30), FORM)
    late = attempt.deadline_at + services.grace() + timedelta(seconds=1)

    outcome = services.save_response(
        attempt, services.item_at(attempt, 2), "late", late, FORM
    )
    db.session.commit()

    assert not outcome.saved
    assert outcome.expired
    assert attempt.status == FINALIZED
    assert attempt.finish_reason == TIMED_OUT
    assert attempt.finished_at == attempt.deadline_at
    assert services.item_at(attempt, 2).response is None
    assert services.item_at(attempt, 1).response == "early"


def test_a_save_to_a_submitted_attempt_raises(app, tmp_path, candidate):
    quiz = make_quiz(tmp_path)
    attempt = start(candidate, quiz)
    services.submit_attempt(attempt, T0 + timedelta(minutes=1))

    with pytest.raises(services.AttemptClosed):
        services.save_response(
            attempt, services.item_at(attempt, 1), "x", T0 + timedelta(minutes=2), FORM
        )


def test_a_new_address_or_browser_is_an_integrity_signal(app, tmp_path, candidate):
    quiz = make_quiz(tmp_path)
    attempt = start(candidate, quiz)
    item = services.item_at(attempt, 1)

    services.save_response(attempt, item, "a", T0, FORM)
    services.save_response(
        attempt, item, "b", T0, services.Origin("autosave", "b2", "10.9.9.9", "Chrome")
    )
    db.session.commit()

    kinds = [s.kind for s in db.session.scalars(select(IntegritySignal))]
    assert sorted(kinds) == ["browser_changed", "ip_changed"]


def test_page_signals_are_recorded_and_unknown_kinds_refused(app, tmp_path, candidate):
    quiz = make_quiz(tmp_path)
    attempt = start(candidate, quiz)

    assert services.record_page_signal(attempt, "hidden", "tab switched", T0)
    with pytest.raises(DomainError):
        services.record_page_signal(attempt, "ip_changed", None, T0)


# --- submit, finalize, results ----------------------------------------------------


def test_submitting_right_answers_scores_full_marks(app, tmp_path, candidate):
    quiz = make_quiz(tmp_path)
    attempt = start(candidate, quiz)
    answer_all(attempt, T0 + timedelta(minutes=1))

    assert services.submit_attempt(attempt, T0 + timedelta(minutes=2))
    db.session.commit()

    assert attempt.status == FINALIZED
    assert attempt.finish_reason == SUBMITTED
    assert attempt.finished_at == T0 + timedelta(minutes=2)
    assert attempt.score == attempt.max_score == 8
    assert attempt.passed is True
    assert all(item.score == item.points for item in attempt.items)


def test_submitting_twice_changes_nothing(app, tmp_path, candidate):
    quiz = make_quiz(tmp_path)
    attempt = start(candidate, quiz)
    services.submit_attempt(attempt, T0 + timedelta(minutes=1))
    db.session.commit()

    again = services.submit_attempt(attempt, T0 + timedelta(minutes=3))

    assert again is False
    assert attempt.finished_at == T0 + timedelta(minutes=1)
    assert attempt.score == 0
    assert attempt.passed is False


def test_finalize_expired_takes_only_expired_attempts_and_uses_the_deadline(
    app, tmp_path, candidate
):
    quiz = make_quiz(tmp_path, time_limit="5m")
    expired = start(candidate, quiz)
    running = start(make_user(), quiz, T0 + timedelta(minutes=4))
    sweep = T0 + timedelta(minutes=7)

    count = services.finalize_expired(sweep)
    db.session.commit()

    assert count == 1
    assert expired.status == FINALIZED
    assert expired.finished_at == T0 + timedelta(minutes=5)
    assert running.status == IN_PROGRESS
    assert services.finalize_expired(sweep) == 0


def test_the_cli_finalizes_expired_attempts(app, tmp_path, candidate, runner):
    quiz = make_quiz(tmp_path, time_limit="1m")
    start(candidate, quiz, datetime.now(UTC) - timedelta(minutes=5))

    result: Result = runner.invoke(args=["attempts", "finalize-expired"])

    assert result.exit_code == 0, result.output
    assert "Finalized 1 expired attempt." in result.output
    assert db.session.scalar(select(Attempt.status)) == FINALIZED


def test_results_follow_the_policy(app, tmp_path, candidate):
    closes = T0 + timedelta(hours=1)
    after = make_quiz(tmp_path, "after", show_results="after_close", closes=closes)
    never = make_quiz(tmp_path, "never", show_results="never")
    now = make_quiz(tmp_path, "now", show_results="immediately")
    attempts = {}
    for quiz in (after, never, now):
        attempt = start(candidate, quiz)
        services.submit_attempt(attempt, T0 + timedelta(minutes=1))
        attempts[quiz.slug] = attempt
    db.session.commit()
    soon = T0 + timedelta(minutes=2)

    assert services.results_visible(attempts["now"], soon)
    assert not services.results_visible(attempts["never"], soon)
    assert not services.results_visible(attempts["after"], soon)
    assert services.results_visible(attempts["after"], closes)


def test_after_close_results_wait_for_everyone_given_more_time(
    app, tmp_path, candidate
):
    closes = T0 + timedelta(hours=1)
    quiz = make_quiz(
        tmp_path, time_limit="30m", show_results="after_close", closes=closes
    )
    attempt = start(candidate, quiz)
    services.submit_attempt(attempt, T0 + timedelta(minutes=1))
    services.grant_accommodation(make_user(), quiz=quiz, time_multiplier=2, now=T0)
    db.session.commit()

    assert services.results_release_at(quiz) == closes + timedelta(minutes=30)
    assert not services.results_visible(attempt, closes)
    assert services.results_visible(attempt, closes + timedelta(minutes=30))


def test_a_submit_at_the_deadline_counts_as_time_running_out(app, tmp_path, candidate):
    quiz = make_quiz(tmp_path, time_limit="1m")
    attempt = start(candidate, quiz)

    services.submit_attempt(attempt, attempt.deadline_at + timedelta(seconds=2))

    assert attempt.finish_reason == TIMED_OUT
    assert attempt.finished_at == attempt.deadline_at


def test_a_window_extended_by_a_new_import_reaches_running_attempts(
    app, tmp_path, candidate
):
    now = datetime.now(UTC).replace(microsecond=0)
    quiz = make_quiz(tmp_path, time_limit="30m", closes=now + timedelta(minutes=10))
    attempt = start(candidate, quiz, now)
    assert attempt.deadline_at == now + timedelta(minutes=10)

    make_quiz(tmp_path, time_limit="30m", closes=now + timedelta(hours=2))

    assert attempt.deadline_at == now + timedelta(minutes=30)


def test_page_signals_stop_at_the_cap(app, tmp_path, candidate, monkeypatch):
    monkeypatch.setattr(services, "MAX_SIGNALS_PER_ATTEMPT", 2)
    attempt = start(candidate, make_quiz(tmp_path))

    kept = [services.record_page_signal(attempt, "hidden", None, T0) for _ in range(3)]
    db.session.commit()

    assert kept == [True, True, False]
    assert len(db.session.scalars(select(IntegritySignal)).all()) == 2
