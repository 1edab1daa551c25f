"""The demo bootcamp for ``flask demo``: a published shortlist, a cohort part-way
through the modules, judged mini-projects and certificates, so the progress grid,
the judging pages and the verification page have something to show on a laptop.

Everything goes through the services the pages use: the shortlist is picked with
:func:`~quizapp.programmes.services.shortlist_top` (the screening window is closed
for the pick, as that service demands, then given back to the files, so later runs
can still add demo applicants), module checks are taken with real attempts
(graded at finalize, so progress follows by the ``attempt_finalized`` signal), the
projects are scored with :func:`~quizapp.bootcamp.judging.submit_review` and the
certificates issued with :func:`~quizapp.bootcamp.certificates.issue_all`.

The bootcamp happens between the last screening attempt and now; the choices are
drawn from a seeded generator, so two fresh databases get the same story. Made
once: when the programme has a shortlist, nothing is changed.
"""

from __future__ import annotations

import logging
import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from quizapp import grading
from quizapp.accounts import services as accounts
from quizapp.accounts.models import Role, User
from quizapp.banks.models import Programme, ProgrammeModule, Quiz
from quizapp.bootcamp import certificates, judging, progress
from quizapp.bootcamp.access import JUDGES
from quizapp.bootcamp.models import COMPLETED, Certificate, ProjectReview
from quizapp.core import clock
from quizapp.core.errors import DomainError
from quizapp.delivery import services as delivery
from quizapp.delivery.models import FINALIZED, SUBMITTED, Attempt
from quizapp.extensions import db
from quizapp.programmes import services as programmes
from quizapp.programmes.models import SELECTED, SHORTLIST, Selection

#: How many are shortlisted at most (the programme's own size may be larger), so
#: the demo stays quick.
COHORT_SIZE = 24
#: The demo candidate, added to the cohort by hand: passed the first check only.
PARTICIPANT = "candidate@demo.example"
PARTICIPANT_REASON = "demo participant"
ORGANISER = "organiser@demo.example"
#: The demo judges: the first scores every finished project, the second most.
JUDGE_EMAILS = ("instructor@demo.example", "judge@demo.example")
SECOND_JUDGE_SHARE = 0.7
IP, AGENT = "192.0.2.1", "demo"

#: Shares of the cohort: finished every check (and judged), midway (two or three
#: checks passed), early (at most the first passed); the rest have not started.
FINISHED, MIDWAY, EARLY = 0.4, 0.3, 0.15
#: The chance that a check passed was failed once first.
RETAKE = 0.25
#: Attempts at most at one check.
MAX_TRIES = 3
#: When things happen, as fractions of the time from the last screening attempt
#: to now: check ``i`` in ``[CHECKS_FROM + i * CHECK_STEP, ... + CHECK_BAND)``.
CHECKS_FROM, CHECK_STEP, CHECK_BAND = 0.08, 0.18, 0.14
REVIEWS_FROM, REVIEWS_BAND = 0.82, 0.12
ISSUED_AT = 0.97

COMMENTS = (
    "Clear framing and an honest baseline; the error analysis could go deeper.",
    "Solid model choice and clean validation. Slides ran a little long.",
    "Good results on the held-out set, well explained. Try a stronger baseline.",
    "The metric fits the question well; the leakage check was a nice touch.",
    "Promising work; the evaluation needs a proper test split.",
    "Confident presentation and sensible trade-offs in the method.",
    None,
)


@dataclass(frozen=True)
class Bootcamp:
    """What the demo bootcamp holds."""

    participants: int
    completed: int
    certificates: int
    reviews: int
    #: The code of one valid certificate, for ``/verify/<code>``.
    example_code: str | None
    #: False when it existed already (nothing was changed).
    created: bool


def load_bootcamp(
    programme_slug: str, cohort_size: int = COHORT_SIZE, seed: int = 2026
) -> Bootcamp | None:
    """Shortlist the top of the programme's screening (at most ``cohort_size``)
    and the demo candidate, publish the list, and play the bootcamp: module checks,
    project reviews (unpublished) and certificates for those who completed.

    :return: None when there is nothing to make it from (no such programme, no
        screening quiz or nobody finished it); the existing bootcamp, unchanged,
        when the programme already has a shortlist.
    :raise DomainError: while screening attempts are still running, or when a
        service refuses; the caller rolls back what was done.
    """
    programme = db.session.scalar(
        select(Programme).where(Programme.slug == programme_slug)
    )
    if programme is None or programme.screening_quiz is None:
        return None
    if _has_shortlist(programme):
        return _summary(programme, created=False)
    quiz = programme.screening_quiz
    last_screening = db.session.scalar(
        select(func.max(Attempt.finished_at)).where(
            Attempt.quiz_id == quiz.id, Attempt.status == FINALIZED
        )
    )
    if last_screening is None:
        return None
    now = clock.now()
    # A screening attempt made just now (a presenter trying it) must not squeeze
    # the whole bootcamp into a few minutes.
    began = min(last_screening, now - timedelta(days=1))
    rng = random.Random(seed)  # noqa: S311  (repeatable demo data, not secrets)
    organiser = accounts.find_by_email(ORGANISER)

    cohort = _shortlist(programme, quiz, organiser, cohort_size, last_screening)
    timeline = _Timeline(began, now)
    candidate = accounts.find_by_email(PARTICIPANT)
    others = sorted(
        (user for user in cohort if candidate is None or user.id != candidate.id),
        key=lambda user: user.email,
    )
    quiet = logging.getLogger(delivery.__name__)
    level = quiet.level
    quiet.setLevel(logging.WARNING)  # one INFO line per attempt would bury the output
    try:
        checks = [_check_of(module) for module in programme.modules]
        for user, passes in _plan(others, len(checks), rng):
            _take_checks(user, checks, passes, timeline, rng)
        if candidate is not None and candidate in cohort and checks:
            _take_checks(candidate, checks[:1], 1, timeline, rng, retake=False)
    finally:
        quiet.setLevel(level)
    _review_projects(programme, timeline, rng)
    certificates.issue_all(programme, organiser, now=timeline.at(ISSUED_AT))
    return _summary(programme, created=True)


def _has_shortlist(programme: Programme) -> bool:
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Selection)
            .where(Selection.programme_id == programme.id, Selection.stage == SHORTLIST)
        )
        > 0
    )


def _shortlist(
    programme: Programme,
    quiz: Quiz,
    organiser: User | None,
    cohort_size: int,
    last_screening: datetime,
) -> list[User]:
    """Pick, add the demo candidate, publish; return the cohort.

    :raise DomainError: while screening attempts are running (closing the window
        before them would cut them short).
    """
    running, _ = programmes.running_attempts(quiz)
    if running:
        raise DomainError(
            f"{running} screening attempt(s) are still running; run flask demo "
            "again once they have ended."
        )
    closed_for_pick = programmes.screening_state(programme, clock.now()) != "closed"
    if closed_for_pick:
        closes = last_screening + timedelta(minutes=1)
        opens = quiz.opens_at if quiz.opens_at and quiz.opens_at < closes else None
        programmes.set_window(
            quiz, opens, closes, organiser, reason="demo: the screening is over"
        )
    programmes.shortlist_top(
        programme, organiser, min(programme.shortlist_size, cohort_size)
    )
    if closed_for_pick:
        programmes.revert_window(quiz, organiser)
    candidate = accounts.find_by_email(PARTICIPANT)
    if candidate is not None and candidate.has_role(Role.candidate):
        row = programmes.selection_of(programme, SHORTLIST, candidate.id)
        if row is None or row.status != SELECTED:
            programmes.add_by_hand(
                programme, SHORTLIST, candidate, PARTICIPANT_REASON, organiser
            )
    programmes.set_published(programme, SHORTLIST, True, organiser)
    ids = programmes.cohort_ids(programme)
    return list(db.session.scalars(select(User).where(User.id.in_(ids))))


class _Timeline:
    """Moments between the start of the bootcamp and now."""

    def __init__(self, began: datetime, now: datetime):
        self.began, self.span = began, now - began

    def at(self, fraction: float) -> datetime:
        return self.began + self.span * fraction

    def check(self, index: int, rng: random.Random, share: float = 0.4) -> datetime:
        """A start in the first ``share`` of check ``index``'s band."""
        start = CHECKS_FROM + index * CHECK_STEP
        return self.at(start + rng.uniform(0, share) * CHECK_BAND)


def _check_of(module: ProgrammeModule) -> Quiz | None:
    """The module's assessment (the demo's modules have one each)."""
    return module.assessments[0].quiz if module.assessments else None


def _plan(
    users: list[User], checks: int, rng: random.Random
) -> list[tuple[User, int | None]]:
    """Each participant and how many checks they pass, in module order (``None``:
    not started): :data:`FINISHED` of them all, :data:`MIDWAY` two or three,
    :data:`EARLY` none or one."""
    people = list(users)
    rng.shuffle(people)
    count = len(people)
    finished = math.ceil(count * FINISHED)  # rounded up: one of a cohort of one
    midway = round(count * MIDWAY)
    early = round(count * EARLY)
    plan: list[tuple[User, int | None]] = []
    for position, user in enumerate(people):
        if position < finished:
            plan.append((user, checks))
        elif position < finished + midway:
            plan.append((user, rng.choice((2, 3))))
        elif position < finished + midway + early:
            plan.append((user, rng.choice((0, 1))))
        else:
            plan.append((user, None))
    return plan


def _take_checks(
    user: User,
    checks: list[Quiz | None],
    passes: int | None,
    timeline: _Timeline,
    rng: random.Random,
    retake: bool = True,
) -> None:
    """Pass the first ``passes`` checks (some after a failed attempt); then fail
    the next one: always when none was passed (so they have started), else half
    the time."""
    if passes is None:
        return
    for index, quiz in enumerate(checks[:passes]):
        if quiz is None:
            continue
        start = timeline.check(index, rng)
        if retake and rng.random() < RETAKE and quiz.max_attempts != 1:
            failed = _attempt(user, quiz, start, False, rng)
            start = failed.finished_at + timeline.span * CHECK_BAND * rng.uniform(
                0.2, 0.5
            )
        _pass(user, quiz, start, timeline, rng)
    stuck = checks[passes] if passes < len(checks) else None
    if stuck is not None and (passes == 0 or rng.random() < 0.5):
        _attempt(user, stuck, timeline.check(passes, rng), False, rng)


def _pass(
    user: User,
    quiz: Quiz,
    start: datetime,
    timeline: _Timeline,
    rng: random.Random,
) -> None:
    """Attempt ``quiz`` until passed, out of attempts or three tries on (an answer
    without a computable key can leave an attempt short of the pass mark)."""
    limit = min(quiz.max_attempts or MAX_TRIES, MAX_TRIES)
    while True:
        attempt = _attempt(user, quiz, start, True, rng)
        if attempt.passed is not False or attempt.number >= limit:
            return
        start = attempt.finished_at + timeline.span * CHECK_BAND * 0.2


def _attempt(
    user: User, quiz: Quiz, start: datetime, passing: bool, rng: random.Random
) -> Attempt:
    """One real attempt begun at ``start``: answered correctly up to a drawn share
    of the points (above the pass mark when ``passing``, below it otherwise),
    blank elsewhere, submitted after a plausible time and graded by finalize."""
    # Its own generator: the draw (seeded by the engine, not here) decides how many
    # numbers answering takes, and the rest of the story must not depend on it.
    rng = random.Random(rng.random())  # noqa: S311
    attempt = delivery.start_attempt(user, quiz, start, IP, AGENT)
    items = delivery.items_of(attempt)
    total = sum(item.points for item in items) or 1.0
    mark = quiz.pass_mark if quiz.pass_mark is not None else 50.0
    target = rng.uniform(mark + 5, 100) if passing else rng.uniform(20, mark - 10)
    limit = (quiz.time_limit_seconds or 1800) / 60
    minutes = rng.uniform(0.35, 0.9) * limit
    earned = 0.0
    for item in rng.sample(items, len(items)):
        if earned * 100 >= target * total:
            break
        if not passing and (earned + item.points) * 100 >= mark * total:
            continue
        try:
            response = grading.correct_response(item.version.content, item.params)
        except grading.ExpressionError:
            continue
        if response is None:
            continue
        item.response = response
        item.saved_at = start + timedelta(minutes=minutes * rng.uniform(0.3, 0.9))
        earned += item.points
    delivery.finalize_attempt(attempt, SUBMITTED, start + timedelta(minutes=minutes))
    return attempt


def _judges() -> list[User]:
    found = (accounts.find_by_email(email) for email in JUDGE_EMAILS)
    return [judge for judge in found if judge is not None and judge.has_role(*JUDGES)]


def _ready_for_judging(
    programme: Programme, module: ProgrammeModule, user_ids: list[int]
) -> list[int]:
    """Those who completed every taught module and passed the project's checks."""
    ready = []
    for user_id, standing in progress.of_participants(programme, user_ids).items():
        taught_done = all(
            m.status == COMPLETED for m in standing.modules if not m.module.is_project
        )
        project = next(m for m in standing.modules if m.module.id == module.id)
        if taught_done and all(a.passed for a in project.assessments):
            ready.append(user_id)
    return ready


def _review_projects(
    programme: Programme, timeline: _Timeline, rng: random.Random
) -> None:
    """The demo judges score the projects of everyone ready for judging: the first
    judge all of them, the second most (so that account has some left to do)."""
    judges = _judges()
    if not judges:
        return
    cohort = sorted(programmes.cohort_ids(programme))
    for module in judging.project_modules(programme):
        ready = _ready_for_judging(programme, module, cohort)
        users = db.session.scalars(
            select(User).where(User.id.in_(ready)).order_by(User.id)
        )
        for user in users:
            quality = rng.uniform(0.5, 0.95)
            for number, judge in enumerate(judges):
                if number and rng.random() >= SECOND_JUDGE_SHARE:
                    continue
                judging.submit_review(
                    programme,
                    module,
                    user,
                    judge,
                    _points(module.rubric, quality, rng),
                    rng.choice(COMMENTS),
                    now=timeline.at(REVIEWS_FROM + rng.uniform(0, REVIEWS_BAND)),
                )


def _points(rubric: list[dict], quality: float, rng: random.Random) -> dict:
    """A judge's points near ``quality`` of each criterion, in half points."""
    points = {}
    for item in rubric:
        top = float(item["points"])
        given = round((quality + rng.gauss(0, 0.07)) * top * 2) / 2
        points[item["criterion"]] = min(top, max(0.0, given))
    return points


def _summary(programme: Programme, created: bool) -> Bootcamp:
    cohort = programmes.cohort_ids(programme)
    valid = list(
        db.session.scalars(
            select(Certificate.code)
            .where(
                Certificate.programme_id == programme.id,
                Certificate.revoked_at.is_(None),
            )
            .order_by(Certificate.id)
        )
    )
    reviews = db.session.scalar(
        select(func.count())
        .select_from(ProjectReview)
        .where(ProjectReview.programme_id == programme.id)
    )
    return Bootcamp(
        participants=len(cohort),
        completed=len(progress.completed_ids(programme, cohort)),
        certificates=len(valid),
        reviews=reviews,
        example_code=valid[0] if valid else None,
        created=created,
    )
