"""Module progress follows the attempts and the reviews: each transition, the best
score, a regrade that turns a pass into a fail and back, the project module, an
import that changes a module, and a rebuild from scratch."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from quizapp.banks import sync
from quizapp.banks.models import Programme
from quizapp.bootcamp import progress
from quizapp.bootcamp.models import (
    COMPLETED,
    IN_PROGRESS,
    NOT_STARTED,
    ModuleProgress,
)
from quizapp.core import clock
from quizapp.delivery import regrade
from quizapp.extensions import db
from quizapp.programmes import services as programmes
from tests.bootcamp_fixtures import WHEN, make_bootcamp
from tests.factories import EVERY_TYPE_BANK, make_finished_attempt, make_quiz
from tests.unit.delivery.test_regrade import (
    LYON,
    PARIS,
    T0,
    capital,
    finished,
    fix_key,
)


def statuses(programme, user) -> dict[str, str]:
    state = progress.of_participant(programme, user.id)
    return {m.module.slug: m.status for m in state.modules}


def test_a_module_goes_from_not_started_to_in_progress_to_completed(app, tmp_path):
    bootcamp = make_bootcamp(tmp_path, participants=1)
    (user,) = bootcamp.participants
    assert statuses(bootcamp.programme, user) == {
        "module-one": NOT_STARTED,
        "module-two": NOT_STARTED,
        "project": NOT_STARTED,
    }
    assert progress.of_participant(bootcamp.programme, user.id).next_assessment == (
        bootcamp.m1
    )

    make_finished_attempt(user, bootcamp.m1, 30, finished_at=WHEN)
    assert statuses(bootcamp.programme, user)["module-one"] == IN_PROGRESS
    (module_one, *_) = progress.of_participant(bootcamp.programme, user.id).modules
    assert module_one.remaining == ["Pass Quiz bc-m1"]
    assert [(a.best, a.passed, a.attempts) for a in module_one.assessments] == [
        (30.0, False, 1)
    ]

    passing = make_finished_attempt(
        user, bootcamp.m1, 70, finished_at=WHEN + timedelta(hours=1)
    )
    make_finished_attempt(user, bootcamp.m1, 40, finished_at=WHEN + timedelta(hours=2))

    state = progress.of_participant(bootcamp.programme, user.id)
    module_one = state.modules[0]
    assert module_one.status == COMPLETED
    # The best score counts, not the last one; completed when it was passed.
    assert [(a.best, a.passed, a.attempts) for a in module_one.assessments] == [
        (70.0, True, 3)
    ]
    assert module_one.completed_at == passing.finished_at
    assert module_one.remaining == []
    assert state.next_assessment == bootcamp.m2
    assert state.completed == 1
    assert not state.is_complete


def test_the_project_module_completes_with_a_judges_review(app, tmp_path):
    bootcamp = make_bootcamp(tmp_path, participants=1)
    (user,) = bootcamp.participants
    bootcamp.pass_modules(user)
    state = progress.of_participant(bootcamp.programme, user.id)
    assert [m.status for m in state.modules] == [COMPLETED, COMPLETED, NOT_STARTED]
    assert state.modules[2].remaining == ["Present the project to the judges"]

    bootcamp.review(user, points=(7.5, 7.5))

    state = progress.of_participant(bootcamp.programme, user.id)
    assert state.modules[2].status == COMPLETED
    assert state.modules[2].project_score == 50.0
    assert state.is_complete
    assert state.completed_at == WHEN
    assert progress.completed_ids(bootcamp.programme, [user.id]) == [user.id]


def test_the_project_score_is_the_mean_of_the_judges_and_feeds_the_ranking(
    app, tmp_path
):
    from tests.factories import make_user

    bootcamp = make_bootcamp(tmp_path, participants=1)
    (user,) = bootcamp.participants
    judges = [make_user(roles=("instructor",)) for _ in range(3)]
    for judge, points in zip(judges, ((10, 20), (5, 10), (2, 4)), strict=True):
        bootcamp.review(user, points, judge)

    (row,) = db.session.scalars(
        select(ModuleProgress).where(ModuleProgress.module_id == bootcamp.project.id)
    ).all()
    assert (row.reviews, row.project_score) == (3, pytest.approx(170 / 3, abs=1e-3))
    (ranked,) = programmes.cohort_ranking(bootcamp.programme)
    assert ranked.project == pytest.approx(170 / 3, abs=1e-3)


@pytest.fixture
def frozen(app):
    with clock.frozen(T0):
        yield


def test_a_regrade_turns_a_pass_into_a_fail_and_back(app, tmp_path, frozen):
    """The module quiz is passed at exactly 50% with Paris (the key); a key fixed
    to Lyon fails it, and fixing the key back to Paris passes it again."""
    quiz = make_quiz(tmp_path, "checked", pass_mark="50%")
    make_quiz(tmp_path, "scr", programme=True, modules=("checked",))
    programme = db.session.scalar(
        select(Programme).where(Programme.slug == "scr-programme")
    )
    attempt = finished(quiz, PARIS)
    user = attempt.user
    assert (attempt.score, attempt.passed) == (4.0, True)
    assert statuses(programme, user)["module-checked"] == COMPLETED

    fix_key(tmp_path, "Lyon")
    regrade.apply_regrade(quiz, capital(), None, expected=None)
    db.session.commit()
    state = progress.of_participant(programme, user.id).modules[0]
    assert state.status == IN_PROGRESS
    assert [(a.best, a.passed) for a in state.assessments] == [(37.5, False)]

    fix_key(tmp_path, "Paris")
    regrade.apply_regrade(quiz, capital(), None, expected=None)
    db.session.commit()
    state = progress.of_participant(programme, user.id).modules[0]
    assert state.status == COMPLETED
    assert [(a.best, a.passed) for a in state.assessments] == [(50.0, True)]


def test_an_attempt_at_a_quiz_of_no_module_writes_no_progress(app, tmp_path, frozen):
    quiz = make_quiz(tmp_path, "loose")
    finished(quiz, LYON)
    assert db.session.scalars(select(ModuleProgress)).all() == []


def test_a_quiz_without_a_pass_mark_is_passed_by_finishing_it(app, tmp_path):
    quiz = make_quiz(tmp_path, "practice", pass_mark=None)
    make_quiz(tmp_path, "scr", programme=True, modules=("practice",))
    programme = db.session.scalar(
        select(Programme).where(Programme.slug == "scr-programme")
    )
    from tests.factories import make_user

    user = make_user()
    make_finished_attempt(user, quiz, 10, finished_at=WHEN)
    assert statuses(programme, user)["module-practice"] == COMPLETED


def test_an_import_that_adds_an_assessment_reopens_the_module(app, tmp_path):
    bootcamp = make_bootcamp(tmp_path, participants=1)
    (user,) = bootcamp.participants
    make_finished_attempt(user, bootcamp.m1, 80, finished_at=WHEN)
    assert statuses(bootcamp.programme, user)["module-one"] == COMPLETED

    folder = tmp_path / "content-bc-programme"
    source = folder / "programmes" / "bc.yaml"
    source.write_text(
        source.read_text().replace(
            "assessments: [bc-m1]", "assessments: [bc-m1, bc-m2]"
        )
    )
    _report, problems = sync.import_paths([EVERY_TYPE_BANK, folder])
    assert not problems
    db.session.commit()

    state = progress.of_participant(bootcamp.programme, user.id).modules[0]
    assert (state.status, state.remaining) == (IN_PROGRESS, ["Pass Quiz bc-m2"])


def test_rebuild_recomputes_the_same_rows(app, tmp_path, runner):
    bootcamp = make_bootcamp(tmp_path, participants=2)
    first, second = bootcamp.participants
    bootcamp.pass_modules(first)
    make_finished_attempt(second, bootcamp.m2, 20, finished_at=WHEN)
    bootcamp.review(first)

    def snapshot():
        db.session.expire_all()
        return sorted(
            (r.module_id, r.user_id, r.status, r.passed, r.required, r.scores)
            for r in db.session.scalars(select(ModuleProgress))
        )

    before = snapshot()
    assert len(before) == 4
    db.session.execute(delete(ModuleProgress))
    db.session.commit()

    result = runner.invoke(args=["progress", "rebuild"])

    assert result.exit_code == 0, result.output
    assert result.output == "4 progress rows rebuilt.\n"
    assert snapshot() == before
