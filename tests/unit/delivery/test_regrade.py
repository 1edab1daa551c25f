"""Regrading a question after its key was fixed: the dry run, applying it, the
audit record, running attempts, conflicts and the shortlist cut-off."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from quizapp.banks import sync
from quizapp.banks.models import Question
from quizapp.core import clock
from quizapp.core.audit import AuditEvent
from quizapp.core.errors import Conflict
from quizapp.core.signals import attempts_regraded
from quizapp.delivery import regrade, services
from quizapp.delivery.models import IN_PROGRESS, Attempt, AttemptItem
from quizapp.extensions import db
from quizapp.programmes import ranking
from tests.factories import (
    EVERY_TYPE_BANK,
    make_finished_attempt,
    make_quiz,
    make_user,
    right_answers,
)

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
FORM = services.Origin("form", "browser-1", "10.0.0.1", "Firefox")
#: single-capital's canonical choices: Lyon, Paris (the key), Marseille.
LYON, PARIS, MARSEILLE = 0, 1, 2
#: Answered right besides single-capital: 3 of 8 points, below the 50% pass mark.
RIGHT = ("tf-sky", "text-activation", "ordering-pipeline")


@pytest.fixture(autouse=True)
def now(app):
    with clock.frozen(T0) as move_to:
        yield move_to


def capital() -> Question:
    return db.session.scalar(select(Question).where(Question.key == "single-capital"))


def finished(quiz, capital_answer: int | None, right=RIGHT, user=None) -> Attempt:
    """A submitted attempt: ``right`` answered right, single-capital with
    ``capital_answer``, the rest not answered."""
    attempt = started(quiz, user)
    answer(attempt, capital_answer, right)
    services.submit_attempt(attempt, T0 + timedelta(minutes=1))
    db.session.commit()
    return attempt


def started(quiz, user=None) -> Attempt:
    attempt = services.start_attempt(user or make_user(), quiz, T0, "10.0.0.1", "FF")
    db.session.commit()
    return attempt


def answer(attempt: Attempt, capital_answer: int | None, right=RIGHT) -> None:
    keys = {item.position: item.version.question.key for item in attempt.items}
    for position, response in right_answers(attempt).items():
        if keys[position] == "single-capital":
            response = capital_answer
        elif keys[position] not in right:
            continue
        item = services.item_at(attempt, position)
        services.save_response(attempt, item, response, T0, FORM)
    db.session.commit()


def fix_key(tmp_path: Path, correct: str = "Lyon") -> None:
    """Import the every-type bank with ``correct`` as single-capital's key: a new
    version of that question only."""
    folder = tmp_path / f"fixed-{correct}"
    shutil.copytree(EVERY_TYPE_BANK, folder)
    bank = folder / "every-type" / "bank.yaml"
    text = bank.read_text().replace(
        "        correct: true\n        feedback: Right.\n", ""
    )
    text = text.replace(
        f"      - text: {correct}\n",
        f"      - text: {correct}\n        correct: true\n",
    )
    bank.write_text(text)
    report, problems = sync.import_paths([folder])
    assert not problems, [str(p) for p in problems]
    assert [b.changed for b in report.banks] == [1]
    db.session.commit()


def stored(attempt: Attempt) -> tuple[float, bool | None]:
    db.session.expire_all()
    row = db.session.get(Attempt, attempt.id)
    return row.score, row.passed


def capital_item(attempt: Attempt) -> AttemptItem:
    db.session.expire_all()
    return next(
        item
        for item in db.session.get(Attempt, attempt.id).items
        if item.version.question.key == "single-capital"
    )


# --- the regrade ------------------------------------------------------------------


def test_a_fixed_key_turns_a_wrong_answer_right_and_the_attempt_passes(app, tmp_path):
    quiz = make_quiz(tmp_path, pass_mark="50%")
    attempt = finished(quiz, LYON)
    assert stored(attempt) == (3.0, False)
    fix_key(tmp_path, "Lyon")

    plan = regrade.plan_regrade(quiz, capital())

    [change] = plan.attempts
    assert (change.old_score, change.new_score) == (3.0, 4.0)
    assert (change.old_passed, change.new_passed) == (False, True)
    assert [(i.old_score, i.new_score) for i in change.items] == [(0.0, 1.0)]
    assert (plan.from_versions, plan.to_version) == ((1,), 2)
    assert (plan.now_passing, plan.no_longer_passing) == (1, 0)
    assert stored(attempt) == (3.0, False)  # a dry run writes nothing

    regrade.apply_regrade(quiz, capital(), None, expected=plan.digest)
    db.session.commit()

    assert stored(attempt) == (4.0, True)
    item = capital_item(attempt)
    assert (item.version.number, item.score) == (2, 1.0)


def test_a_regraded_attempt_scores_what_a_new_attempt_on_the_new_version_does(
    app, tmp_path
):
    quiz = make_quiz(tmp_path, attempts=2)
    candidate = make_user()
    first = finished(quiz, LYON, user=candidate)
    fix_key(tmp_path, "Lyon")

    regrade.apply_regrade(quiz, capital(), None, expected=None)
    db.session.commit()
    second = finished(quiz, LYON, user=candidate)

    assert stored(first) == stored(second) == (4.0, True)


def test_the_dry_run_equals_what_is_applied(app, tmp_path):
    quiz = make_quiz(tmp_path)
    attempts = [finished(quiz, choice) for choice in (LYON, PARIS, MARSEILLE, None)]
    fix_key(tmp_path, "Lyon")
    plan = regrade.plan_regrade(quiz, capital())

    applied = regrade.apply_regrade(quiz, capital(), None, expected=plan.digest)
    db.session.commit()

    assert applied == plan
    assert applied.digest == plan.digest
    assert [a.attempt_id for a in plan.attempts] == [a.id for a in attempts]
    assert [a.attempt_id for a in plan.changed] == [attempts[0].id, attempts[1].id]
    for change, attempt in zip(plan.attempts, attempts, strict=True):
        assert stored(attempt) == (change.new_score, change.new_passed)
        item = capital_item(attempt)
        assert [(item.id, item.score)] == [
            (i.item_id, i.new_score) for i in change.items
        ]
        assert item.version_id == plan.to_version_id
    assert regrade.plan_regrade(quiz, capital()).is_empty


def test_applying_leaves_one_audit_event_with_who_and_what(app, tmp_path, now):
    quiz = make_quiz(tmp_path)
    attempts = [finished(quiz, choice) for choice in (LYON, PARIS, MARSEILLE)]
    fix_key(tmp_path, "Lyon")
    instructor = make_user(roles=("instructor",))
    now(T0 + timedelta(hours=2))

    regrade.apply_regrade(quiz, capital(), instructor, expected=None)
    db.session.commit()

    [event] = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == regrade.REGRADED)
    ).all()
    assert (event.actor_id, event.at) == (instructor.id, T0 + timedelta(hours=2))
    assert (event.target_type, event.target_id) == ("quiz", quiz.id)
    details = event.details
    assert details["question"] == "every-type/single-capital"
    assert (details["from_versions"], details["to_version"]) == ([1], 2)
    assert (details["attempts"], details["items"], details["changed"]) == (3, 3, 2)
    assert (details["now_passing"], details["no_longer_passing"]) == (1, 1)
    # What each item was graded on before: the rows now point at version 2.
    first_version = capital().versions[0]
    assert sorted(details["item_changes"]) == sorted(
        [capital_item(a).id, a.id, first_version.id, old, new]
        for a, old, new in zip(attempts, (0.0, 1.0, 0.0), (1.0, 0.0, 0.0), strict=True)
    )
    assert regrade.regrades_of(quiz) == [event]


def test_one_signal_names_the_candidates_whose_attempts_changed(app, tmp_path):
    quiz = make_quiz(tmp_path)
    lyon, paris, _ = (finished(quiz, choice) for choice in (LYON, PARIS, MARSEILLE))
    fix_key(tmp_path, "Lyon")
    received = []

    def listener(sender, quiz, user_ids, **extra):
        received.append((quiz.id, user_ids))

    with attempts_regraded.connected_to(listener):
        regrade.apply_regrade(quiz, capital(), None, expected=None)

    assert received == [(quiz.id, sorted([lyon.user_id, paris.user_id]))]


def test_leaderboards_follow_a_regrade(app, tmp_path):
    from quizapp.programmes import ranking

    quiz = make_quiz(tmp_path)
    lyon = finished(quiz, LYON)
    before = {r.user_id: r.score for r in ranking.leaderboard(quiz).rows}
    fix_key(tmp_path, "Lyon")

    regrade.apply_regrade(quiz, capital(), None, expected=None)
    db.session.commit()

    after = {r.user_id: r.score for r in ranking.leaderboard(quiz).rows}
    assert after[lyon.user_id] == before[lyon.user_id] + 1


def test_running_attempts_are_left_on_their_version_until_they_finish(app, tmp_path):
    quiz = make_quiz(tmp_path)
    done = finished(quiz, LYON)
    running = started(quiz)
    answer(running, LYON)
    fix_key(tmp_path, "Lyon")

    plan = regrade.plan_regrade(quiz, capital())
    regrade.apply_regrade(quiz, capital(), None, expected=plan.digest)
    db.session.commit()

    assert [a.attempt_id for a in plan.attempts] == [done.id]
    assert plan.running == 1
    item = capital_item(running)
    assert (item.version.number, item.attempt.status) == (1, IN_PROGRESS)
    # Graded on the version it showed at submit, then regraded like the others.
    services.submit_attempt(item.attempt, T0 + timedelta(minutes=2))
    db.session.commit()
    assert stored(running)[0] == 3.0
    later = regrade.plan_regrade(quiz, capital())
    assert [(a.attempt_id, a.new_score) for a in later.attempts] == [(running.id, 4.0)]
    assert later.running == 0


def test_nothing_to_regrade_without_a_newer_version(app, tmp_path):
    quiz = make_quiz(tmp_path)
    attempt = finished(quiz, LYON)

    plan = regrade.plan_regrade(quiz, capital())
    applied = regrade.apply_regrade(quiz, capital(), None, expected=plan.digest)
    db.session.commit()

    assert plan.is_empty
    assert applied.is_empty
    assert plan.to_version == 1
    assert stored(attempt) == (3.0, False)
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == regrade.REGRADED)
        )
        == 0
    )
    assert regrade.stale_questions(quiz) == []
    assert "Nothing to regrade" in regrade.summary(applied)


def test_a_second_apply_finds_nothing_to_change(app, tmp_path):
    quiz = make_quiz(tmp_path)
    attempt = finished(quiz, LYON)
    fix_key(tmp_path, "Lyon")
    plan = regrade.plan_regrade(quiz, capital())
    regrade.apply_regrade(quiz, capital(), None, expected=plan.digest)
    db.session.commit()

    again = regrade.apply_regrade(quiz, capital(), None, expected=plan.digest)
    db.session.commit()

    assert again.is_empty
    assert stored(attempt) == (4.0, True)
    assert len(regrade.regrades_of(quiz)) == 1


def test_an_attempt_finished_after_the_dry_run_makes_the_apply_refuse(app, tmp_path):
    quiz = make_quiz(tmp_path)
    done = finished(quiz, LYON)
    running = started(quiz)
    answer(running, LYON)
    fix_key(tmp_path, "Lyon")
    plan = regrade.plan_regrade(quiz, capital())
    services.submit_attempt(running, T0 + timedelta(minutes=2))
    db.session.commit()

    with pytest.raises(Conflict, match="changed since this dry run"):
        regrade.apply_regrade(quiz, capital(), None, expected=plan.digest)
    db.session.rollback()

    assert stored(done) == (3.0, False)
    assert regrade.regrades_of(quiz) == []
    fresh = regrade.plan_regrade(quiz, capital())
    assert fresh.digest != plan.digest
    assert len(fresh.attempts) == 2


def test_another_key_fix_after_the_dry_run_makes_the_apply_refuse(app, tmp_path):
    quiz = make_quiz(tmp_path)
    finished(quiz, LYON)
    fix_key(tmp_path, "Lyon")
    plan = regrade.plan_regrade(quiz, capital())
    fix_key(tmp_path, "Marseille")

    with pytest.raises(Conflict):
        regrade.apply_regrade(quiz, capital(), None, expected=plan.digest)


def test_the_list_counts_attempts_on_older_versions(app, tmp_path):
    quiz = make_quiz(tmp_path)
    for choice in (LYON, PARIS):
        finished(quiz, choice)
    answer(started(quiz), LYON)
    fix_key(tmp_path, "Lyon")

    [row] = regrade.stale_questions(quiz)

    assert (row.ref, row.current_version, row.older_versions) == (
        "every-type/single-capital",
        2,
        (1,),
    )
    assert (row.finalized, row.running) == (2, 1)
    assert regrade.is_in_quiz(quiz, capital())


# --- the shortlist cut-off --------------------------------------------------------


def test_crossing_the_shortlist_cut_off_is_reported(app, tmp_path):
    quiz = make_quiz(tmp_path, programme=True)  # shortlist of 10
    others = []
    for n in range(10):
        other = make_user(name=f"Other {n}")
        make_finished_attempt(other, quiz, 45.0, finished_at=T0 + timedelta(minutes=n))
        others.append(other)
    candidate = make_user(name="Lea Lyon")
    finished(quiz, LYON, user=candidate)  # 37.5%: 11th
    fix_key(tmp_path, "Lyon")

    plan = regrade.plan_regrade(quiz, capital())

    moves = {
        (m.user_id, m.old_position, m.new_position, m.moves_in) for m in plan.moves
    }
    # 50% puts the candidate first; the last of the ten at 45% drops to 11th.
    assert moves == {(candidate.id, 11, 1, True), (others[-1].id, 10, 11, False)}
    assert {m.shortlist_size for m in plan.moves} == {10}
    regrade.apply_regrade(quiz, capital(), None, expected=plan.digest)
    db.session.commit()
    top = [row.user_id for row in ranking.top(quiz, 10)]
    assert candidate.id in top
    assert others[-1].id not in top


@pytest.mark.parametrize("method", ["highest", "latest", "first"])
def test_the_python_order_is_the_leaderboard_order(app, tmp_path, now, method):
    quiz = make_quiz(tmp_path, grading=method, attempts=3)
    at = T0 + timedelta(hours=1)
    results = [  # (percent, seconds) of each candidate's attempts
        [(50.0, 600.0), (70.0, 600.0)],
        [(70.0, 600.0)],
        [(70.0, 500.0), (20.0, 100.0)],
        [(70.0, 600.0)],
        [(33.3, 300.0), (33.3, 200.0), (90.0, 900.0)],
        [(0.0, 60.0)],
    ]
    for n, attempts in enumerate(results):
        now(T0 - timedelta(days=10 - n % 3))  # registrations tie in pairs
        user = make_user()
        for percent, seconds in attempts:
            make_finished_attempt(user, quiz, percent, seconds=seconds, finished_at=at)

    expected = [row.user_id for row in ranking.leaderboard(quiz, per_page=100).rows]

    assert regrade.leaderboard_order(quiz) == expected
