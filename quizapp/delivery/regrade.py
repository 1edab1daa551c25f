"""Regrade: grade a question's finished attempts again after its key was fixed.

A fixed key is a new :class:`~quizapp.banks.models.QuestionVersion` (versions are
never edited), and every attempt keeps the version it was shown. A regrade takes
one question of one quiz and grades every item of it in the quiz's **finalized**
attempts that still points at another version than the question's current one,
against the current version's content, with the item's own drawn values, answer
and points, by the same pure rule as :func:`services.grade_item`.

- :func:`plan_regrade` is the dry run: it reads and grades, and writes nothing.
- :func:`apply_regrade` computes the plan again inside the caller's transaction,
  with the attempts locked, refuses with :class:`Conflict` when it differs from the
  dry run that was shown (its :attr:`RegradePlan.digest`), and then re-points the
  items at the current version, stores the new item and attempt scores, writes one
  ``question.regraded`` audit event and sends one ``attempts_regraded`` signal
  naming the candidates whose attempts changed (leaderboards and progress
  follow). What it returns is the plan it applied.

Rules where a choice had to be made:

- **Running attempts are not touched.** They keep the version they show, are graded
  against it when they are submitted or time out, and then appear in the next
  regrade's dry run. Changing a running attempt's version would change what the
  candidate is looking at.
- **"Older" means "not the current version"**, whatever its number: an import that
  goes back to earlier content makes that earlier version current again, and the
  attempts graded on the one in between are regraded against it.
- **An attempt's maximum does not change**: the item keeps the points it had at
  start, and the attempt's score moves by the difference of the item scores (the
  other items keep their stored scores). ``passed`` is computed again, from the
  quiz's current pass mark, only for attempts whose score changes.
- **The shortlist cut-off** of every programme whose screening quiz this is, is the
  first ``shortlist_size`` candidates in the leaderboard's order. ``delivery`` does
  not import ``programmes``, so :func:`leaderboard_order` repeats the rules of
  :mod:`quizapp.programmes.ranking` in Python over the quiz's finalized attempts:
  the counting attempt by the quiz's grading method, then percent (100 times the
  score over the attempt's maximum) descending, time used ascending, finish time
  ascending, registration ascending and account id ascending (a test holds the two
  to the same order). A shortlist already picked is not changed by a regrade.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from sqlalchemy import bindparam, case, func, select, update
from sqlalchemy.orm import Session

from quizapp.accounts.models import User
from quizapp.banks.models import Bank, Programme, Question, QuestionVersion, Quiz
from quizapp.core import audit
from quizapp.core.audit import AuditEvent
from quizapp.core.errors import Conflict
from quizapp.core.signals import attempts_regraded
from quizapp.delivery import services
from quizapp.delivery.models import FINALIZED, IN_PROGRESS, Attempt, AttemptItem
from quizapp.extensions import db

log = logging.getLogger(__name__)

#: The audit action of a regrade (target: the quiz).
REGRADED = "question.regraded"
#: Rows per statement when attempts are read by id (well under SQLite's limit).
CHUNK = 5_000


# --- what a plan holds ------------------------------------------------------------


@dataclass(frozen=True)
class ItemRegrade:
    """One item of the question in one attempt: its score before and after."""

    item_id: int
    position: int
    from_version_id: int
    from_version: int
    old_score: float
    new_score: float
    #: Why the current version cannot grade these drawn values (scores 0), or None.
    grading_error: str | None


@dataclass(frozen=True)
class AttemptRegrade:
    """A finalized attempt with an item of the question on an older version."""

    attempt_id: int
    user_id: int
    name: str
    email: str
    number: int
    max_score: float
    old_score: float
    new_score: float
    old_passed: bool | None
    new_passed: bool | None
    items: tuple[ItemRegrade, ...]

    @property
    def old_percent(self) -> float | None:
        return _percent(self.old_score, self.max_score)

    @property
    def new_percent(self) -> float | None:
        return _percent(self.new_score, self.max_score)

    @property
    def is_changed(self) -> bool:
        """Its score or its pass changes (only the version it points at otherwise)."""
        return self.old_score != self.new_score or self.old_passed != self.new_passed

    @property
    def now_passes(self) -> bool:
        return self.new_passed is True and self.old_passed is not True

    @property
    def no_longer_passes(self) -> bool:
        return self.old_passed is True and self.new_passed is not True


@dataclass(frozen=True)
class CutOffMove:
    """A candidate who moves across a programme's shortlist cut-off."""

    programme_id: int
    programme: str
    shortlist_size: int
    user_id: int
    name: str
    email: str
    #: 1-based place in the leaderboard's order, before and after.
    old_position: int
    new_position: int

    @property
    def moves_in(self) -> bool:
        return self.new_position <= self.shortlist_size


@dataclass(frozen=True)
class RegradePlan:
    """What a regrade of one question in one quiz changes; empty: nothing to do."""

    quiz_id: int
    question_id: int
    #: ``bank/id``
    question_ref: str
    to_version_id: int
    to_version: int
    #: The numbers of the older versions the attempts were graded on.
    from_versions: tuple[int, ...]
    #: Every finalized attempt with an item to regrade, by id.
    attempts: tuple[AttemptRegrade, ...]
    moves: tuple[CutOffMove, ...]
    #: Running attempts with an item on an older version: not touched (see above).
    running: int

    @property
    def is_empty(self) -> bool:
        return not self.attempts

    @property
    def items(self) -> int:
        return sum(len(attempt.items) for attempt in self.attempts)

    @property
    def changed(self) -> list[AttemptRegrade]:
        """The attempts whose score or pass changes."""
        return [attempt for attempt in self.attempts if attempt.is_changed]

    @property
    def now_passing(self) -> int:
        return sum(1 for attempt in self.attempts if attempt.now_passes)

    @property
    def no_longer_passing(self) -> int:
        return sum(1 for attempt in self.attempts if attempt.no_longer_passes)

    @property
    def grading_errors(self) -> int:
        return sum(
            1
            for attempt in self.attempts
            for item in attempt.items
            if item.grading_error is not None
        )

    @cached_property
    def digest(self) -> str:
        """SHA-256 of everything the plan writes and reports (not ``running``): the
        dry run's page carries it, and :func:`apply_regrade` compares it."""
        data = [
            self.quiz_id,
            self.question_id,
            self.to_version_id,
            [
                [
                    a.attempt_id,
                    a.old_score,
                    a.new_score,
                    a.old_passed,
                    a.new_passed,
                    [
                        (
                            i.item_id,
                            i.from_version_id,
                            i.old_score,
                            i.new_score,
                            i.grading_error,
                        )
                        for i in a.items
                    ],
                ]
                for a in self.attempts
            ],
            [
                [m.programme_id, m.user_id, m.old_position, m.new_position]
                for m in self.moves
            ],
        ]
        text = json.dumps(data, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


def _percent(score: float, max_score: float) -> float | None:
    """As :attr:`Attempt.percent`."""
    return 100 * score / max_score if max_score else None


# --- the dry run ------------------------------------------------------------------


def plan_regrade(quiz: Quiz, question: Question) -> RegradePlan:
    """Grade every finalized item of ``question`` in ``quiz`` that is on another
    version than the question's current one, against the current version, and say
    what would change. Reads only, in a handful of queries whatever the number of
    attempts (two more for a screening quiz whose results change).
    """
    return _plan(quiz, question, current_version_of(question))


def current_version_of(question: Question) -> QuestionVersion:
    version = db.session.get(QuestionVersion, question.current_version_id)
    if version is None:  # only a question being created has none
        raise Conflict(f"{question.key} has no current version to regrade against.")
    return version


def _plan(
    quiz: Quiz,
    question: Question,
    version: QuestionVersion,
    locked: set[int] | None = None,
) -> RegradePlan:
    """The plan; ``locked``: only these attempts (those :func:`apply_regrade`
    locked), so an attempt finalized meanwhile is left for the next regrade."""
    rows = db.session.execute(
        select(
            AttemptItem.id.label("item_id"),
            AttemptItem.position,
            AttemptItem.version_id,
            QuestionVersion.number.label("version_number"),
            AttemptItem.params,
            AttemptItem.points,
            AttemptItem.response,
            AttemptItem.score.label("item_score"),
            Attempt.id.label("attempt_id"),
            Attempt.user_id,
            Attempt.number,
            Attempt.score,
            Attempt.max_score,
            Attempt.passed,
            User.name,
            User.email,
        )
        .join(QuestionVersion, QuestionVersion.id == AttemptItem.version_id)
        .join(Attempt, Attempt.id == AttemptItem.attempt_id)
        .join(User, User.id == Attempt.user_id)
        .where(*_stale(quiz, question, version.id), Attempt.status == FINALIZED)
        .order_by(Attempt.id, AttemptItem.position)
    ).all()
    by_attempt: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        if locked is None or row.attempt_id in locked:
            by_attempt[row.attempt_id].append(row)
    attempts = [
        _regrade_attempt(quiz, version.content, group) for group in by_attempt.values()
    ]
    return RegradePlan(
        quiz_id=quiz.id,
        question_id=question.id,
        question_ref=question.ref,
        to_version_id=version.id,
        to_version=version.number,
        from_versions=tuple(
            sorted({row.version_number for g in by_attempt.values() for row in g})
        ),
        attempts=tuple(attempts),
        moves=tuple(_moves(quiz, attempts)),
        running=_running_count(quiz, question, version.id),
    )


def _regrade_attempt(
    quiz: Quiz, content: dict[str, Any], rows: list[Any]
) -> AttemptRegrade:
    """One attempt's items of the question (``rows``), graded against ``content``."""
    items = []
    for row in rows:
        new_score, error = services.score_response(
            content, row.points, row.response, row.params
        )
        items.append(
            ItemRegrade(
                item_id=row.item_id,
                position=row.position,
                from_version_id=row.version_id,
                from_version=row.version_number,
                old_score=float(row.item_score or 0.0),
                new_score=new_score,
                grading_error=error,
            )
        )
    first = rows[0]
    old_score = float(first.score)
    new_score = round(old_score + sum(i.new_score - i.old_score for i in items), 6)
    return AttemptRegrade(
        attempt_id=first.attempt_id,
        user_id=first.user_id,
        name=first.name,
        email=first.email,
        number=first.number,
        max_score=first.max_score,
        old_score=old_score,
        new_score=new_score,
        old_passed=first.passed,
        new_passed=first.passed
        if new_score == old_score
        else services.passes(quiz, new_score, first.max_score),
        items=tuple(items),
    )


def _stale(quiz: Quiz, question: Question, current_id: int) -> list[Any]:
    """Conditions on a join of items, versions and attempts: the quiz's items of
    ``question`` on another version than ``current_id``."""
    return [
        QuestionVersion.question_id == question.id,
        AttemptItem.version_id != current_id,
        Attempt.quiz_id == quiz.id,
    ]


def _running_count(quiz: Quiz, question: Question, current_id: int) -> int:
    return db.session.scalar(
        select(func.count(func.distinct(Attempt.id)))
        .select_from(AttemptItem)
        .join(QuestionVersion, QuestionVersion.id == AttemptItem.version_id)
        .join(Attempt, Attempt.id == AttemptItem.attempt_id)
        .where(*_stale(quiz, question, current_id), Attempt.status == IN_PROGRESS)
    )


# --- the shortlist cut-off --------------------------------------------------------


def leaderboard_order(quiz: Quiz, scores: dict[int, float] | None = None) -> list[int]:
    """Account ids of every candidate with a finalized attempt at ``quiz``, in the
    order of :func:`quizapp.programmes.ranking.leaderboard`, with ``scores``
    (``{attempt id: score}``) in place of the stored ones. One query."""
    return _order(quiz.grading, _ranked_rows(quiz), scores or {})


def _ranked_rows(quiz: Quiz) -> list[Any]:
    return db.session.execute(
        select(
            Attempt.id,
            Attempt.user_id,
            Attempt.number,
            Attempt.score,
            Attempt.max_score,
            Attempt.seconds_used,
            Attempt.finished_at,
            User.created_at,
        )
        .join(User, User.id == Attempt.user_id)
        .where(Attempt.quiz_id == quiz.id, Attempt.status == FINALIZED)
    ).all()


def _order(method: str, rows: list[Any], scores: dict[int, float]) -> list[int]:
    """ranking.py in Python: each candidate's counting attempt (``_pick_order``),
    then ``RANK()`` by percent desc, time used asc, finish asc, and inside a rank
    registration asc, account id asc."""
    counted: dict[int, tuple[tuple[Any, ...], tuple[Any, ...]]] = {}
    for row in rows:
        score = scores.get(row.id, row.score)
        # ranking._percent: coalesce(score * 100.0 / nullif(max_score, 0), 0)
        percent = score * 100.0 / row.max_score if row.max_score else 0.0
        if method == "latest":
            pick: tuple[Any, ...] = (-row.number,)
        elif method == "first":
            pick = (row.number,)
        else:
            pick = (-percent, row.seconds_used, row.finished_at, row.number)
        place = (-percent, row.seconds_used, row.finished_at, row.created_at)
        if row.user_id not in counted or pick < counted[row.user_id][0]:
            counted[row.user_id] = (pick, (*place, row.user_id))
    return [place[-1] for place in sorted(p for _, p in counted.values())]


def _moves(quiz: Quiz, attempts: list[AttemptRegrade]) -> list[CutOffMove]:
    """Who crosses the shortlist cut-off of a programme screening on ``quiz``."""
    changed = {a.attempt_id: a.new_score for a in attempts if a.is_changed}
    if not changed:
        return []
    programmes = db.session.scalars(
        select(Programme)
        .where(Programme.screening_quiz_id == quiz.id)
        .order_by(Programme.id)
    ).all()
    if not programmes:
        return []
    rows = _ranked_rows(quiz)
    before = _order(quiz.grading, rows, {})
    after = {
        user_id: place
        for place, user_id in enumerate(_order(quiz.grading, rows, changed), 1)
    }
    moves = []
    for programme in programmes:
        size = programme.shortlist_size
        crossing = [
            (place, user_id)
            for place, user_id in enumerate(before, 1)
            if (place <= size) != (after[user_id] <= size)
        ]
        people = _people([user_id for _, user_id in crossing])
        moves += [
            CutOffMove(
                programme_id=programme.id,
                programme=programme.title,
                shortlist_size=size,
                user_id=user_id,
                name=people[user_id][0],
                email=people[user_id][1],
                old_position=place,
                new_position=after[user_id],
            )
            for place, user_id in crossing
        ]
    return moves


def _people(ids: list[int]) -> dict[int, tuple[str, str]]:
    if not ids:
        return {}
    return {
        user_id: (name, email)
        for user_id, name, email in db.session.execute(
            select(User.id, User.name, User.email).where(User.id.in_(ids))
        )
    }


# --- applying it ------------------------------------------------------------------


def apply_regrade(
    quiz: Quiz, question: Question, actor: Any, *, expected: str | None
) -> RegradePlan:
    """Regrade as :func:`plan_regrade` says, in the caller's transaction (the caller
    commits), and return the plan applied.

    The question's row and the attempts are locked first (``FOR UPDATE`` on
    PostgreSQL; on SQLite a writing request already holds the write lock), so the
    plan applied is the one computed here. An empty plan (nothing on an older
    version, for instance a second click) changes nothing and is returned as is.

    :param expected: the :attr:`RegradePlan.digest` of the dry run that was shown;
        None applies whatever the plan is now (no one saw it).
    :raise Conflict: the plan is no longer the one shown (an attempt finished, was
        regraded, or the question got another version meanwhile).
    """
    db.session.refresh(question, with_for_update=True)
    version = current_version_of(question)
    locked = _lock_attempts(quiz, question, version.id)
    plan = _plan(quiz, question, version, locked)
    if plan.is_empty:
        return plan
    if expected is not None and plan.digest != expected:
        raise Conflict(
            "The attempts changed since this dry run was shown (an attempt was "
            "finished or regraded, or the question has a new version). Nothing was "
            "changed: check the new dry run and apply again."
        )
    _write(plan)
    audit.record(
        REGRADED,
        "quiz",
        quiz.id,
        actor,
        quiz=quiz.slug,
        question=plan.question_ref,
        question_id=question.id,
        from_versions=list(plan.from_versions),
        to_version=plan.to_version,
        to_version_id=plan.to_version_id,
        attempts=len(plan.attempts),
        items=plan.items,
        changed=len(plan.changed),
        now_passing=plan.now_passing,
        no_longer_passing=plan.no_longer_passing,
        grading_errors=plan.grading_errors,
        running_untouched=plan.running,
        cut_off=[
            [m.programme_id, m.user_id, m.old_position, m.new_position]
            for m in plan.moves
        ],
        digest=plan.digest,
        # The record of what each item was graded on before (the rows now point
        # at the new version): [item, attempt, version id, old score, new score].
        item_changes=[
            [i.item_id, a.attempt_id, i.from_version_id, i.old_score, i.new_score]
            for a in plan.attempts
            for i in a.items
        ],
    )
    log.info(
        "%s regraded on quiz %s against v%s by %s: %s attempts, %s changed",
        plan.question_ref,
        quiz.slug,
        plan.to_version,
        getattr(actor, "id", None),
        len(plan.attempts),
        len(plan.changed),
    )
    if plan.changed:
        attempts_regraded.send(
            quiz, quiz=quiz, user_ids=sorted({a.user_id for a in plan.changed})
        )
    return plan


def _lock_attempts(quiz: Quiz, question: Question, current_id: int) -> set[int]:
    """Lock the finalized attempts with an item to regrade, in id order (so two
    regrades of one quiz never deadlock); their ids."""
    stale = (
        select(AttemptItem.attempt_id)
        .join(QuestionVersion, QuestionVersion.id == AttemptItem.version_id)
        .join(Attempt, Attempt.id == AttemptItem.attempt_id)
        .where(*_stale(quiz, question, current_id))
    )
    return set(
        db.session.scalars(
            select(Attempt.id)
            .where(Attempt.id.in_(stale), Attempt.status == FINALIZED)
            .order_by(Attempt.id)
            .with_for_update()
        )
    )


def _write(plan: RegradePlan) -> None:
    """Two executemany UPDATEs by primary key: every item, the changed attempts."""
    db.session.flush()
    items = AttemptItem.__table__
    db.session.execute(
        update(items)
        .where(items.c.id == bindparam("item_id"))
        .values(
            version_id=bindparam("version_id"),
            score=bindparam("score"),
            grading_error=bindparam("error"),
        ),
        [
            {
                "item_id": i.item_id,
                "version_id": plan.to_version_id,
                "score": i.new_score,
                "error": i.grading_error,
            }
            for a in plan.attempts
            for i in a.items
        ],
    )
    changed = plan.changed
    if changed:
        attempts = Attempt.__table__
        db.session.execute(
            update(attempts)
            .where(attempts.c.id == bindparam("attempt_id"))
            .values(score=bindparam("score"), passed=bindparam("passed")),
            [
                {
                    "attempt_id": a.attempt_id,
                    "score": a.new_score,
                    "passed": a.new_passed,
                }
                for a in changed
            ],
        )
    _expire_loaded(db.session, plan)


def _expire_loaded(session: Session, plan: RegradePlan) -> None:
    """Objects of this session that the UPDATEs changed are read again when used."""
    items = {i.item_id for a in plan.attempts for i in a.items}
    attempts = {a.attempt_id for a in plan.attempts}
    for obj in list(session.identity_map.values()):
        if (isinstance(obj, AttemptItem) and obj.id in items) or (
            isinstance(obj, Attempt) and obj.id in attempts
        ):
            session.expire(obj)


# --- the pages' lists -------------------------------------------------------------


@dataclass(frozen=True)
class StaleQuestion:
    """A question of the quiz with attempts on an older version than its current."""

    question_id: int
    bank: str
    key: str
    current_version: int
    #: Numbers of the older versions in use.
    older_versions: tuple[int, ...]
    #: Finalized attempts to regrade, and running ones (left alone).
    finalized: int
    running: int

    @property
    def ref(self) -> str:
        return f"{self.bank}/{self.key}"


def stale_questions(quiz: Quiz) -> list[StaleQuestion]:
    """The quiz's questions with attempts on an older version, in bank and file
    order, with how many attempts. Two queries."""
    # From the versions that are not current (few) to their items (indexed), not
    # through every item of the quiz: 0.04 s instead of 0.6 s for 400,000 items.
    older = (
        select(QuestionVersion.id)
        .join(Question, Question.id == QuestionVersion.question_id)
        .where(QuestionVersion.id != Question.current_version_id)
    )
    rows = db.session.execute(
        select(
            QuestionVersion.question_id,
            QuestionVersion.number,
            func.count(func.distinct(case((Attempt.status == FINALIZED, Attempt.id)))),
            func.count(
                func.distinct(case((Attempt.status == IN_PROGRESS, Attempt.id)))
            ),
        )
        .select_from(AttemptItem)
        .join(QuestionVersion, QuestionVersion.id == AttemptItem.version_id)
        .join(Attempt, Attempt.id == AttemptItem.attempt_id)
        .where(Attempt.quiz_id == quiz.id, AttemptItem.version_id.in_(older))
        .group_by(QuestionVersion.question_id, QuestionVersion.number)
    ).all()
    if not rows:
        return []
    numbers: dict[int, set[int]] = defaultdict(set)
    for question_id, number, _, _ in rows:
        numbers[question_id].add(number)
    # An attempt has a question once, so the counts per version add up.
    finalized: dict[int, int] = defaultdict(int)
    running: dict[int, int] = defaultdict(int)
    for question_id, _, done, open_ in rows:
        finalized[question_id] += done
        running[question_id] += open_
    questions = db.session.execute(
        select(Question.id, Bank.slug, Question.key, QuestionVersion.number)
        .join(Bank, Bank.id == Question.bank_id)
        .join(QuestionVersion, QuestionVersion.id == Question.current_version_id)
        .where(Question.id.in_(numbers))
        .order_by(Bank.slug, Question.position, Question.id)
    ).all()
    return [
        StaleQuestion(
            question_id,
            bank,
            key,
            number,
            tuple(sorted(numbers[question_id])),
            finalized[question_id],
            running[question_id],
        )
        for question_id, bank, key, number in questions
    ]


def is_in_quiz(quiz: Quiz, question: Question) -> bool:
    """Whether a fixed section of ``quiz`` names ``question`` or an attempt at
    ``quiz`` has drawn it."""
    ref = question.ref
    if any(ref in section.get("questions", ()) for section in quiz.sections):
        return True
    drawn = (
        select(AttemptItem.id)
        .join(QuestionVersion, QuestionVersion.id == AttemptItem.version_id)
        .join(Attempt, Attempt.id == AttemptItem.attempt_id)
        .where(Attempt.quiz_id == quiz.id, QuestionVersion.question_id == question.id)
        .exists()
    )
    return bool(db.session.scalar(select(drawn)))


def regrades_of(quiz: Quiz, limit: int = 20) -> list[AuditEvent]:
    """The quiz's latest regrades (audit events), newest first."""
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(
                AuditEvent.action == REGRADED,
                AuditEvent.target_type == "quiz",
                AuditEvent.target_id == quiz.id,
            )
            .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
            .limit(limit)
        )
    )


def summary(plan: RegradePlan) -> str:
    """One sentence for the flash message after :func:`apply_regrade`."""
    if plan.is_empty:
        return (
            f"Nothing to regrade: every finished attempt already uses version "
            f"{plan.to_version} of {plan.question_ref}."
        )
    text = (
        f"Regraded {plan.question_ref} against version {plan.to_version} in "
        f"{len(plan.attempts)} attempt(s): {len(plan.changed)} result(s) changed, "
        f"{plan.now_passing} now pass, {plan.no_longer_passing} no longer pass"
    )
    if plan.moves:
        text += f", {len(plan.moves)} cross a shortlist cut-off"
    return text + "."
