"""The judging services: rubric bounds, one review per judge revised until the
scores are published, the mean of several judges, who sees what, publishing, and
the participant's published results."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from quizapp.accounts import services as accounts
from quizapp.bootcamp import cohort, judging, progress
from quizapp.bootcamp.models import (
    COMPLETED,
    NOT_STARTED,
    ModuleProgress,
    ProjectReview,
)
from quizapp.core.audit import AuditEvent
from quizapp.core.errors import Conflict, DomainError, PermissionDenied
from quizapp.extensions import db
from quizapp.programmes.models import BY_HAND, FINALISTS, SELECTED, Selection
from tests.bootcamp_fixtures import WHEN, Bootcamp, make_bootcamp
from tests.factories import make_user

FULL = {"Framing": "10", "Method": "20"}
#: The fixture's rubric, for the rules that need no database.
RUBRIC = [
    {"criterion": "Framing", "points": 10.0, "description": "A clear question."},
    {"criterion": "Method", "points": 20.0},
]


@pytest.fixture
def camp(app, tmp_path) -> Bootcamp:
    return make_bootcamp(tmp_path)


def judge(name: str = "Jo", *roles: str):
    return make_user(name=name, roles=roles or ("instructor",))


def submit(camp: Bootcamp, who, points, *, to=0, comment=None, now=None):
    return judging.submit_review(
        camp.programme,
        camp.project,
        camp.participants[to],
        who,
        points,
        comment,
        now=now,
    )


def review_count() -> int:
    return db.session.scalar(select(func.count()).select_from(ProjectReview))


# -- Rubric bounds ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("framing", "stored"),
    [("0", 0.0), ("10", 10.0), ("7.5", 7.5), ("7.25", 7.25), (" 3 ", 3.0), (4, 4.0)],
)
def test_every_bound_and_up_to_two_decimals_are_accepted(framing, stored):
    criteria, errors = judging.validate_points(
        RUBRIC, {"Framing": framing, "Method": "20"}
    )

    assert errors == []
    assert criteria[0] == {"criterion": "Framing", "points": stored, "max": 10.0}


@pytest.mark.parametrize(
    ("framing", "message"),
    [
        ("-0.5", "Framing cannot be below 0."),
        ("10.01", "Framing is out of 10: give at most 10."),
        ("11", "Framing is out of 10: give at most 10."),
        ("", "Give Framing a score from 0 to 10."),
        (None, "Give Framing a score from 0 to 10."),
        ("abc", "Enter a number from 0 to 10 for Framing."),
        ("nan", "Enter a number from 0 to 10 for Framing."),
        (float("nan"), "Enter a number from 0 to 10 for Framing."),
        ("inf", "Enter a number from 0 to 10 for Framing."),
        (True, "Enter a number from 0 to 10 for Framing."),
        ("7.125", "Use at most two decimal places for Framing (e.g. 7.5 or 7.25)."),
    ],
)
def test_a_wrong_score_is_refused_with_a_message_on_its_field(framing, message):
    criteria, errors = judging.validate_points(
        RUBRIC, {"Framing": framing, "Method": "20"}
    )

    assert [(e.field, e.message) for e in errors] == [("criterion_0", message)]
    assert [c["criterion"] for c in criteria] == ["Method"]


def test_every_wrong_field_gets_its_own_message_and_nothing_is_written(camp):
    with pytest.raises(judging.InvalidReview) as raised:
        submit(camp, judge(), {"Method": "21"}, comment="x" * 2001)

    assert [e.field for e in raised.value.errors] == [
        "criterion_0",
        "criterion_1",
        "comment",
    ]
    assert "2,000 characters" in raised.value.errors[2].message
    assert review_count() == 0
    assert db.session.scalar(select(func.count()).select_from(ModuleProgress)) == 0


def test_a_criterion_not_in_the_rubric_is_refused():
    _criteria, errors = judging.validate_points(RUBRIC, {**FULL, "Style": "3"})

    assert [(e.field, e.message) for e in errors] == [
        (None, "Not in the rubric: Style")
    ]


# -- Submitting and revising --------------------------------------------------------


def test_a_review_snapshots_the_rubric_and_is_logged(camp):
    jo = judge()

    done = submit(camp, jo, {"Framing": "7.5", "Method": "15"}, comment="  Clear.  ")
    db.session.commit()

    review = db.session.scalar(select(ProjectReview))
    assert done.created
    assert review.criteria == [
        {"criterion": "Framing", "points": 7.5, "max": 10.0},
        {"criterion": "Method", "points": 15.0, "max": 20.0},
    ]
    assert (review.points, review.max_points, review.comment) == (22.5, 30.0, "Clear.")
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action.startswith("project."))
    )
    assert (event.action, event.target_id, event.actor_id) == (
        "project.reviewed",
        review.id,
        jo.id,
    )
    assert event.details["points"] == 22.5


def test_a_judge_revises_their_one_review_before_publishing(camp):
    jo = judge()
    submit(camp, jo, FULL, comment="First look")

    again = submit(camp, jo, {"Framing": "5", "Method": "10"}, comment="")
    db.session.commit()

    review = db.session.scalar(select(ProjectReview))
    assert not again.created
    assert review_count() == 1
    assert (review.points, review.comment) == (15.0, None)
    changed = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "project.review_changed")
    )
    assert changed.details["was_points"] == 30.0
    row = db.session.get(ModuleProgress, (camp.project.id, camp.participants[0].id))
    assert row.project_score == 50.0


def test_reviews_are_locked_while_published_and_unlocked_after(camp):
    jo, olga = judge(), make_user(roles=("organiser",))
    submit(camp, jo, FULL)
    judging.set_published(camp.programme, True, olga)
    db.session.commit()

    with pytest.raises(Conflict) as raised:
        submit(camp, jo, {"Framing": "1", "Method": "1"})
    assert "reviews are locked" in raised.value.message
    with pytest.raises(Conflict):
        submit(camp, judge("Kim"), FULL, to=1)
    db.session.rollback()
    assert db.session.scalar(select(ProjectReview.points)) == 30.0

    judging.set_published(camp.programme, False, olga)
    submit(camp, jo, {"Framing": "1", "Method": "1"})
    assert db.session.scalar(select(ProjectReview.points)) == 2.0


def test_organisers_and_candidates_cannot_judge_but_an_organiser_instructor_can(camp):
    with pytest.raises(PermissionDenied):
        submit(camp, make_user(roles=("organiser",)), FULL)
    with pytest.raises(PermissionDenied):
        submit(camp, make_user(), FULL)

    submit(camp, make_user(roles=("organiser", "instructor")), FULL)
    submit(camp, make_user(roles=("admin",)), FULL)
    assert review_count() == 2


def test_only_the_cohort_is_judged_and_nobody_judges_themselves(camp):
    outsider = make_user(name="Outsider")
    with pytest.raises(DomainError, match="not in this programme's cohort"):
        judging.submit_review(
            camp.programme, camp.project, outsider, judge(), FULL, None
        )
    taught = camp.programme.modules[0]
    with pytest.raises(DomainError, match="is not a project"):
        judging.submit_review(
            camp.programme, taught, camp.participants[0], judge(), FULL, None
        )
    me = camp.participants[0]
    accounts.grant_role(me, "instructor", None)
    with pytest.raises(PermissionDenied, match="your own project"):
        submit(camp, me, FULL)
    assert review_count() == 0


# -- The mean of several judges -----------------------------------------------------


def test_the_project_score_is_the_mean_of_the_judges_percentages(camp):
    scores = [
        {"Framing": "5", "Method": "10"},  # 50 %
        {"Framing": "8", "Method": "16"},  # 80 %
        {"Framing": "8.5", "Method": "20"},  # 95 %
    ]
    for n, points in enumerate(scores):
        submit(camp, judge(f"Judge {n}"), points)
    db.session.commit()

    row = db.session.get(ModuleProgress, (camp.project.id, camp.participants[0].id))
    assert (row.project_score, row.reviews) == (75.0, 3)
    card = judging.scorecard(
        camp.programme,
        camp.project,
        cohort.cohort_member(camp.programme, camp.participants[0].id),
        make_user(roles=("organiser",)),
    )
    assert card.mean == pytest.approx(75.0)
    assert [(c.criterion, c.max, c.mean, c.judges) for c in card.criteria] == [
        ("Framing", 10.0, pytest.approx(7.1666667), 3),
        ("Method", 20.0, pytest.approx(15.3333333), 3),
    ]


def test_a_reviewed_project_is_completed_and_the_programme_once_modules_pass(camp):
    alice = camp.participants[0]

    submit(camp, judge(), {"Framing": "2", "Method": "3"})
    db.session.commit()

    standing = progress.of_participant(camp.programme, alice.id)
    project = standing.modules[-1]
    assert (project.module.is_project, project.status, project.reviews) == (
        True,
        COMPLETED,
        1,
    )
    assert [m.status for m in standing.modules[:-1]] == [NOT_STARTED, NOT_STARTED]
    assert not standing.is_complete

    camp.pass_modules(alice)

    assert progress.of_participant(camp.programme, alice.id).is_complete


# -- Who sees what ------------------------------------------------------------------


def test_a_judge_sees_others_only_after_scoring_organisers_always(camp):
    ann, ben = judge("Ann"), judge("Ben")
    submit(camp, ann, FULL, comment="Ann's view")
    db.session.commit()
    person = cohort.cohort_member(camp.programme, camp.participants[0].id)

    before = judging.scorecard(camp.programme, camp.project, person, ben)
    assert (before.judges, before.sees_all, before.reviews, before.mean) == (
        1,
        False,
        [],
        None,
    )
    assert before.criteria == []

    organiser = judging.scorecard(
        camp.programme, camp.project, person, make_user(roles=("organiser",))
    )
    assert [r.comment for r in organiser.reviews] == ["Ann's view"]

    submit(camp, ben, {"Framing": "0", "Method": "0"})
    after = judging.scorecard(camp.programme, camp.project, person, ben)
    assert after.sees_all
    assert [(r.judge, r.is_mine) for r in after.reviews] == [
        ("Ann", False),
        ("Ben", True),
    ]
    assert after.mean == pytest.approx(50.0)


def test_finalists_are_listed_first(camp):
    last = camp.participants[2]
    db.session.add(
        Selection(
            programme_id=camp.programme.id,
            stage=FINALISTS,
            user_id=last.id,
            status=SELECTED,
            source=BY_HAND,
            reason="test",
        )
    )
    db.session.commit()

    people = cohort.participants(camp.programme)

    assert [(p.user.name, p.is_finalist) for p in people] == [
        ("Participant 3", True),
        ("Participant 1", False),
        ("Participant 2", False),
    ]


# -- Publishing and the participant's results ---------------------------------------


def test_published_results_appear_only_while_published_and_hide_judges(app, camp):
    alice = camp.participants[0]
    olga = make_user(roles=("organiser",))
    submit(camp, judge("Ann"), FULL, comment="Great framing", now=WHEN)
    submit(
        camp,
        judge("Ben"),
        {"Framing": "5", "Method": "10"},
        now=WHEN + timedelta(minutes=5),
    )
    submit(
        camp,
        judge("Cy"),
        {"Framing": "6", "Method": "14"},
        comment="Test the method",
        now=WHEN + timedelta(minutes=9),
    )
    assert judging.published_results(camp.programme, alice) is None

    assert judging.set_published(camp.programme, True, olga)
    results = judging.published_results(camp.programme, alice)["project"]

    assert results.score == pytest.approx((100 + 50 + 200 / 3) / 3)
    assert results.judges == 3
    assert [(c.criterion, c.mean) for c in results.criteria] == [
        ("Framing", pytest.approx(7.0)),
        ("Method", pytest.approx(44 / 3)),
    ]
    assert [(c.label, c.text) for c in results.comments] == [
        ("Judge 1", "Great framing"),
        ("Judge 3", "Test the method"),
    ]
    shown = app.jinja_env.get_template("bootcamp/judging/_scores.html").module
    html = str(shown.published(results))
    assert "Judge 1:</span>" in html
    assert "Test the method" in html
    for name in ("Ann", "Ben", "Cy"):
        assert name not in html
    nobody = judging.published_results(camp.programme, camp.participants[1])
    assert (nobody["project"].score, nobody["project"].criteria) == (None, [])

    assert judging.set_published(camp.programme, False, olga)
    assert judging.published_results(camp.programme, alice) is None


def test_publishing_twice_keeps_the_first_time_and_logs_once(camp):
    olga = make_user(roles=("organiser",))

    assert judging.set_published(camp.programme, True, olga)
    first = camp.programme.projects_published_at
    assert not judging.set_published(camp.programme, True, olga)
    db.session.commit()

    assert camp.programme.projects_published_at == first
    actions = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.action.startswith("projects."))
    ).all()
    assert actions == ["projects.published"]
