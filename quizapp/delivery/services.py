"""Timed attempts: start, save, submit, finalize, accommodations, integrity signals.

Every function here takes domain objects and plain values, changes the session and
leaves the commit to its caller (one per request or command). Time always comes in
as ``now`` from :func:`quizapp.core.clock.now`, and every write re-checks the
attempt's stored deadline inside the transaction, with the row locked on PostgreSQL,
so a save racing the deadline or a finalize is decided in one place.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import bindparam, case, event, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, contains_eager, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from quizapp import grading
from quizapp.banks import schema
from quizapp.banks.checker import pool_members
from quizapp.banks.models import (
    ModuleAssessment,
    Programme,
    ProgrammeModule,
    QuestionVersion,
    Quiz,
)
from quizapp.banks.sync import catalogue_of, live_questions
from quizapp.core import audit
from quizapp.core.errors import Conflict, DomainError
from quizapp.core.signals import attempt_finalized, quiz_changed
from quizapp.delivery.models import (
    FINALIZED,
    IN_PROGRESS,
    PAGE_SIGNAL_KINDS,
    SUBMITTED,
    TIMED_OUT,
    Accommodation,
    AnswerEvent,
    Attempt,
    AttemptItem,
    IntegritySignal,
)
from quizapp.extensions import db

log = logging.getLogger(__name__)

#: Signals a page may report per attempt; more are dropped (a page in a loop must
#: not fill the table).
MAX_SIGNALS_PER_ATTEMPT = 500
#: What a text column cannot hold: NUL (PostgreSQL) and a lone surrogate (UTF-8).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class AttemptClosed(Conflict):
    """A write to an attempt that is no longer running."""


def grace() -> timedelta:
    """How long after a deadline a save that was in flight is still accepted."""
    return timedelta(seconds=current_app.config["QUIZAPP_SAVE_GRACE_SECONDS"])


# --- what a candidate gets on a quiz ----------------------------------------------


@dataclass(frozen=True)
class Terms:
    """The time, window and attempts one candidate has on one quiz."""

    #: None: untimed. With the accommodation's extra time.
    time_limit: timedelta | None
    #: What everyone else gets.
    standard_time_limit: timedelta | None
    #: The candidate's own closing time (the quiz's, moved by an accommodation).
    closes_at: datetime | None
    #: 0: unlimited.
    max_attempts: int
    accommodation: Accommodation | None


def programmes_of(quiz: Quiz) -> list[int]:
    """Ids of the programmes ``quiz`` belongs to (as screening or as an assessment)."""
    screening = select(Programme.id).where(Programme.screening_quiz_id == quiz.id)
    assessed = (
        select(ProgrammeModule.programme_id)
        .join(ModuleAssessment, ModuleAssessment.module_id == ProgrammeModule.id)
        .where(ModuleAssessment.quiz_id == quiz.id)
    )
    return list(db.session.scalars(screening.union(assessed)))


def accommodations_on(quiz: Quiz, programme_ids: list[int] | None = None):
    """The condition for accommodations that apply to ``quiz``: its own, or one on
    a programme it belongs to (``programme_ids``, looked up when not given)."""
    if programme_ids is None:
        programme_ids = programmes_of(quiz)
    return or_(
        Accommodation.quiz_id == quiz.id,
        Accommodation.programme_id.in_(programme_ids),
    )


def accommodation_for(user_id: int, quiz: Quiz) -> Accommodation | None:
    """The candidate's accommodation on ``quiz``: a quiz-level one wins over one
    granted on a programme the quiz belongs to."""
    programme_ids = programmes_of(quiz)
    rows = db.session.scalars(
        select(Accommodation).where(
            Accommodation.user_id == user_id, accommodations_on(quiz, programme_ids)
        )
    ).all()
    return pick_accommodation(rows, quiz.id, programme_ids)


def pick_accommodation(
    rows: Iterable[Accommodation], quiz_id: int, programme_ids: Iterable[int]
) -> Accommodation | None:
    """Of one candidate's accommodations, the one that applies to the quiz: its own,
    else one on a programme it belongs to."""
    programmes = set(programme_ids)
    scoped = [a for a in rows if a.quiz_id == quiz_id or a.programme_id in programmes]
    return next(
        (a for a in scoped if a.quiz_id is not None), scoped[0] if scoped else None
    )


def terms_for(user_id: int, quiz: Quiz) -> Terms:
    return terms_with(quiz, accommodation_for(user_id, quiz))


def terms_with(quiz: Quiz, accommodation: Accommodation | None) -> Terms:
    """The quiz's time, window and attempts, moved by ``accommodation``."""
    limit = standard = quiz.time_limit
    closes_at = quiz.closes_at
    attempts = quiz.max_attempts
    if accommodation is not None:
        bonus = accommodation.bonus(limit)
        if limit is not None:
            limit += bonus
        if accommodation.closes_at is not None:
            closes_at = accommodation.closes_at
        elif closes_at is not None:
            closes_at += bonus
        if attempts:
            attempts += accommodation.extra_attempts
    return Terms(limit, standard, closes_at, attempts, accommodation)


def deadline_for(started_at: datetime, terms: Terms) -> datetime | None:
    """``min(start + time limit, the candidate's window close)``; None if neither."""
    ends = [
        end
        for end in (
            started_at + terms.time_limit if terms.time_limit else None,
            terms.closes_at,
        )
        if end is not None
    ]
    return min(ends) if ends else None


@dataclass(frozen=True)
class Availability:
    """What the intro page and the dashboard say about a quiz for one candidate."""

    quiz: Quiz
    terms: Terms
    #: open | running | not_open | closed | no_attempts_left
    state: str
    attempts_used: int
    running: Attempt | None
    #: The time the window leaves, when less than the time limit: in total for the
    #: running attempt, or for an attempt started now.
    cut_short_to: timedelta | None

    @property
    def attempts_left(self) -> int | None:
        if not self.terms.max_attempts:
            return None
        return max(0, self.terms.max_attempts - self.attempts_used)

    @property
    def may_start(self) -> bool:
        return self.state in ("open", "running")


def availability(user_id: int, quiz: Quiz, now: datetime) -> Availability:
    used, running = _attempts_of(user_id, quiz)
    return availability_with(quiz, terms_for(user_id, quiz), used, running, now)


def availability_with(
    quiz: Quiz, terms: Terms, used: int, running: Attempt | None, now: datetime
) -> Availability:
    """:func:`availability` from what is already loaded (the dashboard's batch)."""
    cut_short = None
    if running is not None:
        state = "running"
    elif quiz.opens_at is not None and now < quiz.opens_at:
        state = "not_open"
    elif terms.closes_at is not None and now >= terms.closes_at:
        state = "closed"
    elif terms.max_attempts and used >= terms.max_attempts:
        state = "no_attempts_left"
    else:
        state = "open"
    if running is not None and running.deadline_at and terms.time_limit:
        granted = running.deadline_at - running.started_at
        cut_short = granted if granted < terms.time_limit else None
    elif state == "open" and terms.time_limit and terms.closes_at:
        left = terms.closes_at - now
        cut_short = left if left < terms.time_limit else None
    return Availability(quiz, terms, state, used, running, cut_short)


def _attempts_of(user_id: int, quiz: Quiz) -> tuple[int, Attempt | None]:
    """How many attempts the user has made at ``quiz`` (running ones included), and
    the running one: one query, and a second only when one is running."""
    used, running_id = db.session.execute(
        select(
            func.count(), func.max(case((Attempt.status == IN_PROGRESS, Attempt.id)))
        ).where(Attempt.user_id == user_id, Attempt.quiz_id == quiz.id)
    ).one()
    running = db.session.get(Attempt, running_id) if running_id is not None else None
    return used or 0, running


# --- start ------------------------------------------------------------------------


def start_attempt(
    user: Any,
    quiz: Quiz,
    now: datetime,
    ip: str | None = None,
    agent: str | None = None,
) -> Attempt:
    """Start an attempt, or return the one already running (double click, two tabs).

    The draw, the order, every item's variant seed and values, the choice order and
    the deadline are fixed here, in the caller's transaction.

    :raise Conflict: the quiz is not open to this candidate now (the message says
        why), or its pools no longer hold enough questions.
    """
    used, running = _attempts_of(user.id, quiz)
    if finished := finalize_if_expired(running, now):
        log.info("attempt %s timed out before a new start", finished.id)
        running = None
    state = availability_with(quiz, terms_for(user.id, quiz), used, running, now)
    if state.running is not None:
        return state.running
    if not state.may_start:
        raise Conflict(_refusal(state))
    attempt = Attempt(
        user_id=user.id,
        quiz_id=quiz.id,
        number=state.attempts_used + 1,
        status=IN_PROGRESS,
        seed=secrets.token_hex(16),
        started_at=now,
        deadline_at=deadline_for(now, state.terms),
        last_ip=ip,
        last_user_agent=(agent or "")[:300] or None,
        max_score=0.0,
    )
    attempt.items = _draw_items(quiz, attempt.seed)
    attempt.max_score = sum(item.points for item in attempt.items)
    try:
        with db.session.begin_nested():
            db.session.add(attempt)
    except IntegrityError:
        # Another request started the same attempt a moment ago: use that one.
        running = _running(user.id, quiz)
        if running is None:
            raise Conflict("The quiz could not be started. Try again.") from None
        return running
    log.info(
        "attempt %s started: user %s, quiz %s, deadline %s",
        attempt.id,
        user.id,
        quiz.slug,
        attempt.deadline_at,
    )
    return attempt


def _running(user_id: int, quiz: Quiz) -> Attempt | None:
    return db.session.scalar(
        select(Attempt).where(
            Attempt.user_id == user_id,
            Attempt.quiz_id == quiz.id,
            Attempt.status == IN_PROGRESS,
        )
    )


def _refusal(state: Availability) -> str:
    if state.state == "not_open":
        return "This quiz has not opened yet."
    if state.state == "closed":
        return "This quiz has closed."
    return "You have used all your attempts at this quiz."


def _draw_items(quiz: Quiz, seed: str) -> list[AttemptItem]:
    """The attempt's questions: fixed sections in full, pools drawn at random,
    questions shuffled within their section when the quiz says so."""
    live = live_questions()
    catalogue = catalogue_of(live)
    chosen: list[tuple[str | None, str]] = []
    used: set[str] = set()
    for index, section in enumerate(quiz.sections):
        if "questions" in section:
            refs = list(section["questions"])
            missing = [ref for ref in refs if ref not in live]
            if missing:
                raise Conflict(
                    f"This quiz cannot be started: {missing[0]} is no longer "
                    "available. Tell the organisers."
                )
        else:
            pool = schema.Pool.model_validate(section["from"])
            members = sorted(pool_members(pool, catalogue) - used)
            if len(members) < section["draw"]:
                raise Conflict(
                    "This quiz cannot be started: a section has too few questions. "
                    "Tell the organisers."
                )
            order = grading.shuffled(len(members), f"{seed}:draw:{index}")
            refs = [members[i] for i in order[: section["draw"]]]
        if quiz.shuffle_questions:
            refs = [
                refs[i] for i in grading.shuffled(len(refs), f"{seed}:order:{index}")
            ]
        used.update(refs)
        chosen.extend((section.get("title"), ref) for ref in refs)
    versions = {
        version.id: version
        for version in db.session.scalars(
            select(QuestionVersion).where(
                QuestionVersion.id.in_([live[ref][0] for _, ref in chosen])
            )
        )
    }
    items = []
    for position, (title, ref) in enumerate(chosen, start=1):
        version = versions[live[ref][0]]
        variant_seed, params = _variant(version, f"{seed}:{ref}")
        items.append(
            AttemptItem(
                position=position,
                section_title=title,
                version_id=version.id,
                version=version,
                variant_seed=variant_seed,
                is_shuffled=quiz.shuffle_choices or version.type == "ordering",
                params=params,
                points=version.points,
                is_flagged=False,
            )
        )
    return items


def _variant(version: QuestionVersion, seed: str) -> tuple[str, dict[str, Any]]:
    """A variant seed and its values; a draw whose derived values cannot be computed
    (a division by zero the checker's samples missed) is drawn again."""
    params = version.content.get("params") or {}
    for retry in range(20):
        candidate = seed if retry == 0 else f"{seed}:{retry}"
        try:
            return candidate, grading.draw_params(params, candidate)
        except grading.ExpressionError:
            continue
    raise Conflict(
        "This quiz cannot be started: a question's values cannot be drawn. "
        "Tell the organisers."
    )


# --- save -------------------------------------------------------------------------


@dataclass(frozen=True)
class SaveOutcome:
    saved: bool
    #: The attempt's time ran out before this save: it has been finalized instead.
    expired: bool
    saved_at: datetime | None
    remaining_seconds: int | None


#: ``session.info`` key: ids of the attempts locked in the current transaction.
_LOCKED = "quizapp.locked_attempts"


def load_attempt(
    attempt_id: int, user_id: int, for_update: bool = False
) -> Attempt | None:
    """The user's attempt ``attempt_id`` with its quiz (every attempt page shows
    it), or None; ``for_update`` reads it with its row locked (see :func:`lock`),
    so a write needs no second read."""
    query = (
        select(Attempt)
        .where(Attempt.id == attempt_id, Attempt.user_id == user_id)
        .options(joinedload(Attempt.quiz))
    )
    if for_update:
        # The attempt's row only: every candidate's attempt joins the same quiz.
        query = query.with_for_update(of=Attempt).execution_options(
            populate_existing=True
        )
    attempt = db.session.scalar(query)
    if attempt is not None and for_update:
        db.session.info.setdefault(_LOCKED, set()).add(attempt.id)
    return attempt


#: What a save reads (see :func:`load_for_save`). Built once: constructing a
#: statement and its cache key on every request cost more than running it.
_FOR_SAVE = (
    select(Attempt, AttemptItem)
    .outerjoin(
        AttemptItem,
        (AttemptItem.attempt_id == Attempt.id)
        & (AttemptItem.position == bindparam("position")),
    )
    .outerjoin(AttemptItem.version)
    .options(contains_eager(AttemptItem.version))
    .where(Attempt.id == bindparam("attempt_id"), Attempt.user_id == bindparam("user"))
    # Only the attempt's row: the lock that orders its saves, submit, finalize.
    .with_for_update(of=Attempt)
    .execution_options(populate_existing=True)
)


def load_for_save(
    attempt_id: int, user_id: int, position: int
) -> tuple[Attempt, AttemptItem | None] | None:
    """The user's attempt ``attempt_id`` with its row locked (see :func:`lock`),
    its item at ``position`` and that item's question version, in one query: what
    a save reads before it writes.

    :return: None when the user has no such attempt; ``(attempt, None)`` when the
        attempt has no item at ``position``.
    """
    row = db.session.execute(
        _FOR_SAVE, {"attempt_id": attempt_id, "user": user_id, "position": position}
    ).one_or_none()
    if row is None:
        return None
    db.session.info.setdefault(_LOCKED, set()).add(row[0].id)
    return row[0], row[1]


def lock(attempt: Attempt) -> Attempt:
    """Re-read ``attempt`` with its row locked (PostgreSQL) until the commit, so a
    save, a submit and a finalize of one attempt happen one after the other; an
    attempt already locked in this transaction is not read again.

    A transaction that locks several attempts locks them by id (the expiry sweep,
    re-timing after a window or an accommodation changed, regrades), so two such
    transactions never wait for each other."""
    if attempt.id not in db.session.info.get(_LOCKED, ()):
        # The attempt's row only (it may have been loaded joined with its quiz).
        db.session.refresh(attempt, with_for_update={"of": Attempt})
        db.session.info.setdefault(_LOCKED, set()).add(attempt.id)
    return attempt


@event.listens_for(Session, "after_transaction_end")
def _forget_locks(session: Session, transaction: Any) -> None:
    """Row locks end with the outermost transaction; so does our note of them."""
    if transaction.parent is None:
        session.info.pop(_LOCKED, None)


def items_of(attempt: Attempt, current: bool = False) -> list[AttemptItem]:
    """The attempt's items with their question versions, in two queries (not one
    per item).

    ``current``: the rows as the database holds them now, even where this
    session has an older copy (finalizing grades them: an autosave reads its item
    before the attempt's lock is granted, see :func:`load_for_save`, and a save
    that committed meanwhile must be graded).
    """
    if current:
        items = list(
            db.session.scalars(
                select(AttemptItem)
                .where(AttemptItem.attempt_id == attempt.id)
                .order_by(AttemptItem.position)
                .execution_options(populate_existing=True)
            )
        )
        set_committed_value(attempt, "items", items)
    else:
        items = attempt.items
    ids = {item.version_id for item in items}
    versions = {
        version.id: version
        for version in db.session.scalars(
            select(QuestionVersion).where(QuestionVersion.id.in_(ids))
        )
    }
    for item in items:
        set_committed_value(item, "version", versions[item.version_id])
    return items


def item_at(attempt: Attempt, position: int) -> AttemptItem | None:
    """One item of ``attempt`` with its question version, in one query."""
    return db.session.scalar(
        select(AttemptItem)
        .where(AttemptItem.attempt_id == attempt.id, AttemptItem.position == position)
        .options(joinedload(AttemptItem.version))
    )


@dataclass(frozen=True)
class Origin:
    """Where a save came from, for the answer history and integrity signals."""

    channel: str
    browser_session: str | None = None
    ip: str | None = None
    agent: str | None = None


def save_response(
    attempt: Attempt,
    item: AttemptItem,
    response: Any,
    now: datetime,
    origin: Origin,
    flagged: bool | None = None,
) -> SaveOutcome:
    """Store ``response`` (already validated for the item) as the item's answer.

    A save within the grace period after the deadline is accepted; a later one
    finalizes the attempt with what was saved before and is not stored.

    :raise AttemptClosed: the attempt was already submitted.
    """
    if refused := _refuse_save(attempt, now):
        return refused
    _store(attempt, item, response, flagged, now, origin)
    _notice_origin(attempt, origin, now)
    return SaveOutcome(True, False, now, attempt.remaining_seconds(now))


def save_many(
    attempt: Attempt,
    answers: dict[int, tuple[Any, bool]],
    now: datetime,
    origin: Origin,
) -> SaveOutcome:
    """Store the answers of the all-on-one-page form (``{position: (answer,
    flagged)}``); only the items whose answer or flag changed get a history entry.

    :raise AttemptClosed: the attempt was already submitted.
    """
    if refused := _refuse_save(attempt, now):
        return refused
    for item in attempt.items:
        if item.position not in answers:
            continue
        response, flagged = answers[item.position]
        if response != item.response or flagged != item.is_flagged:
            _store(attempt, item, response, flagged, now, origin)
    _notice_origin(attempt, origin, now)
    return SaveOutcome(True, False, now, attempt.remaining_seconds(now))


def _refuse_save(attempt: Attempt, now: datetime) -> SaveOutcome | None:
    """Lock the attempt; if its time ran out, finalize it and say the save is
    refused. None: the save may go ahead.

    :raise AttemptClosed: the attempt was already submitted.
    """
    lock(attempt)
    if attempt.status == FINALIZED:
        raise AttemptClosed(
            "This attempt has already been submitted; the answer was not saved."
        )
    if attempt.is_expired_at(now, grace()):
        finalize_attempt(attempt, TIMED_OUT, attempt.deadline_at)
        return SaveOutcome(False, True, None, 0)
    return None


def _save_statements() -> tuple[Any, Any, Any]:
    """The item's answer (UPDATE), its history entry (INSERT), and both in one
    statement for PostgreSQL (the UPDATE as a data-modifying CTE of the INSERT,
    always executed; SQLite has no DML in WITH). Built once, like ``_FOR_SAVE``.

    A save that leaves the flag out (``new_is_flagged`` NULL) keeps the flag the
    row holds when the UPDATE runs, and both statements return the flag written:
    the item a save loaded with its lock may be older than the lock (see
    :func:`_store`), so the flag is never taken from it.

    The parameters are named ``new_<column>``: an execute-time parameter named
    like a column of the table would be added to the statement's SET or VALUES.
    """
    items, events = AttemptItem.__table__, AnswerEvent.__table__

    def new(table: Any, column: str) -> Any:
        return bindparam(f"new_{column}", type_=table.c[column].type)

    change = (
        update(items)
        .where(items.c.id == bindparam("new_item_id"))
        .values(
            response=new(events, "response"),
            is_flagged=func.coalesce(new(events, "is_flagged"), items.c.is_flagged),
            saved_at=new(events, "at"),
        )
        .returning(items.c.is_flagged)
    )
    columns = (
        "attempt_id",
        "position",
        "response",
        "is_flagged",
        "at",
        "channel",
        "browser_session",
        "ip",
    )
    entry = insert(events).values({column: new(events, column) for column in columns})
    saved = change.cte("saved_item")
    both = (
        insert(events)
        .values(
            {
                column: select(saved.c.is_flagged).scalar_subquery()
                if column == "is_flagged"
                else new(events, column)
                for column in columns
            }
        )
        .add_cte(saved)
        .returning(events.c.is_flagged)
    )
    return change, entry, both


_CHANGE_ITEM, _ADD_EVENT, _CHANGE_ITEM_AND_ADD_EVENT = _save_statements()


def _store(
    attempt: Attempt,
    item: AttemptItem,
    response: Any,
    flagged: bool | None,
    now: datetime,
    origin: Origin,
) -> None:
    """Write the item's answer and its history entry with Core statements, and
    tell the session the new values without it writing them again.

    The attempt is locked, so no other save of it runs until the commit; but the
    item may have been read before the lock was granted (:func:`load_for_save`
    reads both in one statement, whose snapshot PostgreSQL takes before it waits
    for the lock), so a flag left out (``flagged`` None) is kept by the UPDATE
    from the row as it is now, never from the loaded item.
    """
    values = {
        "new_item_id": item.id,
        "new_attempt_id": attempt.id,
        "new_position": item.position,
        "new_response": response,
        "new_is_flagged": flagged,
        "new_at": now,
        "new_channel": origin.channel,
        "new_browser_session": origin.browser_session,
        "new_ip": origin.ip,
    }
    if db.session.get_bind().dialect.name == "postgresql":
        is_flagged = db.session.execute(_CHANGE_ITEM_AND_ADD_EVENT, values).scalar_one()
    else:
        is_flagged = db.session.execute(_CHANGE_ITEM, values).scalar_one()
        db.session.execute(_ADD_EVENT, {**values, "new_is_flagged": is_flagged})
    set_committed_value(item, "response", response)
    set_committed_value(item, "is_flagged", is_flagged)
    set_committed_value(item, "saved_at", now)


def _notice_origin(attempt: Attempt, origin: Origin, now: datetime) -> None:
    agent = (origin.agent or "")[:300] or None
    if origin.ip and attempt.last_ip and origin.ip != attempt.last_ip:
        _signal(attempt, "ip_changed", f"{attempt.last_ip} -> {origin.ip}", now)
    if agent and attempt.last_user_agent and agent != attempt.last_user_agent:
        _signal(attempt, "browser_changed", agent[:300], now)
    attempt.last_ip = origin.ip or attempt.last_ip
    attempt.last_user_agent = agent or attempt.last_user_agent


def _signal(attempt: Attempt, kind: str, detail: str | None, now: datetime) -> None:
    db.session.add(
        IntegritySignal(attempt_id=attempt.id, kind=kind, detail=detail, at=now)
    )


def record_page_signal(
    attempt: Attempt, kind: str, detail: str | None, now: datetime
) -> bool:
    """Log what the page reported (focus lost, page hidden) on a running attempt.

    :return: False when the signal was dropped (attempt ended, or too many).
    :raise DomainError: an unknown kind.
    """
    if kind not in PAGE_SIGNAL_KINDS:
        raise DomainError(f"unknown signal {kind!r}", field="kind")
    if attempt.status != IN_PROGRESS:
        return False
    count = db.session.scalar(
        select(func.count())
        .select_from(IntegritySignal)
        .where(IntegritySignal.attempt_id == attempt.id)
    )
    if count >= MAX_SIGNALS_PER_ATTEMPT:
        return False
    detail = _UNSTORABLE.sub("\ufffd", (detail or "")[:300])
    _signal(attempt, kind, detail or None, now)
    return True


# --- submit and finalize ----------------------------------------------------------


def submit_attempt(attempt: Attempt, now: datetime) -> bool:
    """The candidate submits. Idempotent: a second submit changes nothing.

    A submit arriving at or after the deadline (the page's own at zero, within the
    grace, or later) finalizes the attempt as timed out, with what was saved, and
    its finish time is the deadline.

    :return: True when this call finalized the attempt.
    """
    lock(attempt)
    if attempt.status == FINALIZED:
        return False
    if attempt.deadline_at is not None and now >= attempt.deadline_at:
        # The page submits at zero; within the grace or after, the time ran out.
        return finalize_attempt(attempt, TIMED_OUT, attempt.deadline_at)
    return finalize_attempt(attempt, SUBMITTED, now)


def finalize_if_expired(attempt: Attempt | None, now: datetime) -> Attempt | None:
    """Finalize ``attempt`` if its time ran out (the lazy path on every access).

    :return: the attempt when this call finalized it, else None.
    """
    if attempt is None or not attempt.is_expired_at(now, grace()):
        return None
    lock(attempt)
    if attempt.is_expired_at(now, grace()):
        finalize_attempt(attempt, TIMED_OUT, attempt.deadline_at)
        return attempt
    return None


def finalize_attempt(attempt: Attempt, reason: str, finished_at: datetime) -> bool:
    """Grade every item against its stored version, values and response, and close
    the attempt. Idempotent: an attempt already finalized is left as it is.

    A question whose own answer cannot be computed for the drawn values scores 0
    and keeps the reason in ``grading_error`` for the instructor.

    :return: True when this call finalized it.
    """
    if attempt.status == FINALIZED:
        return False
    quiz, items = attempt.quiz, items_of(attempt, current=True)
    with db.session.no_autoflush:
        score = sum(grade_item(item) for item in items)
        attempt.score = round(score, 6)
        attempt.passed = passes(quiz, attempt.score, attempt.max_score)
        attempt.status = FINALIZED
        attempt.finish_reason = reason
        attempt.finished_at = finished_at
        attempt.seconds_used = round(
            max(0.0, (finished_at - attempt.started_at).total_seconds()), 3
        )
    db.session.flush()
    log.info(
        "attempt %s finalized (%s): %s / %s",
        attempt.id,
        reason,
        attempt.score,
        attempt.max_score,
    )
    attempt_finalized.send(attempt, attempt=attempt)
    return True


def score_response(
    content: dict[str, Any], points: float, response: Any, params: dict[str, Any]
) -> tuple[float, str | None]:
    """``(score, grading error)`` of a response to a question version's content
    with the drawn ``params``: a question whose own answer cannot be computed for
    these values scores 0 with the reason (finalize and regrade both grade so)."""
    try:
        result = grading.grade({**content, "points": points}, response, params)
    except grading.ExpressionError as exc:
        return 0.0, str(exc)[:300]
    return result.score, None


def passes(quiz: Quiz, score: float, max_score: float) -> bool | None:
    """Whether ``score`` out of ``max_score`` reaches the quiz's pass mark (None
    without one)."""
    if quiz.pass_mark is None:
        return None
    percent = 100 * score / max_score if max_score else 0.0
    return percent + 1e-9 >= quiz.pass_mark


def grade_item(item: AttemptItem) -> float:
    """Grade one item in place and return its score."""
    item.score, item.grading_error = score_response(
        item.version.content, item.points, item.response, item.params
    )
    if item.grading_error:
        log.warning(
            "item %s of attempt %s not gradable: %s",
            item.id,
            item.attempt_id,
            item.grading_error,
        )
    return item.score


def finalize_expired(now: datetime) -> int:
    """Finalize every running attempt whose deadline (plus grace) has passed, each
    with its deadline as finish time. Safe to run at any time, from several hosts.

    :return: how many attempts this call finalized.
    """
    ids = db.session.scalars(
        select(Attempt.id)
        .where(Attempt.is_expired_at(now, grace()))
        .order_by(Attempt.id)
    ).all()
    finalized = 0
    for attempt_id in ids:
        attempt = db.session.get(Attempt, attempt_id)
        if attempt is not None and finalize_if_expired(attempt, now):
            finalized += 1
    return finalized


# --- results ----------------------------------------------------------------------


def results_release_at(quiz: Quiz) -> datetime | None:
    """When ``after_close`` results become visible: the quiz's close, or the latest
    personal close of anyone given more time, so no one still working sees a key."""
    scoped = select(Accommodation).where(accommodations_on(quiz))
    return release_with(quiz, db.session.scalars(scoped))


def release_with(
    quiz: Quiz, accommodations: Iterable[Accommodation]
) -> datetime | None:
    """:func:`results_release_at` over the accommodations that apply to ``quiz``."""
    if quiz.closes_at is None:
        return None
    closes = [
        accommodation.closes_at or quiz.closes_at + accommodation.bonus(quiz.time_limit)
        for accommodation in accommodations
    ]
    return max([quiz.closes_at, *closes])


def results_released(
    quiz: Quiz, now: datetime, release_at: datetime | None = None
) -> bool:
    """Whether a finished attempt of ``quiz`` shows its score, correctness,
    feedback and keys now; ``release_at`` saves a query when the caller has it
    (see release_with)."""
    if quiz.show_results == "immediately":
        return True
    if quiz.show_results == "after_close":
        release = release_at or results_release_at(quiz)
        return release is not None and now >= release
    return False


def results_visible(
    attempt: Attempt, now: datetime, release_at: datetime | None = None
) -> bool:
    """Whether the candidate may see this attempt's score, correctness, feedback
    and keys: once it is finalized and its quiz's results are out."""
    return attempt.status == FINALIZED and results_released(
        attempt.quiz, now, release_at
    )


# --- accommodations ---------------------------------------------------------------


def grant_accommodation(
    user: Any,
    *,
    quiz: Quiz | None = None,
    programme: Programme | None = None,
    extra_minutes: int = 0,
    time_multiplier: float = 1.0,
    extra_attempts: int = 0,
    closes_at: datetime | None = None,
    reason: str | None = None,
    actor: Any = None,
    now: datetime,
) -> Accommodation:
    """Grant (or replace) a candidate's accommodation on a quiz or a programme, and
    move the deadline of their running attempts at once.

    :raise DomainError: the values are out of range, or no scope is given.
    """
    if (quiz is None) == (programme is None):
        raise DomainError("Choose one quiz or one programme.", field="scope")
    if not 0 <= extra_minutes <= 24 * 60:
        raise DomainError("Between 0 and 1440 minutes.", field="extra_minutes")
    if not 1 <= time_multiplier <= 10:
        raise DomainError("Between 1 and 10.", field="time_multiplier")
    if not 0 <= extra_attempts <= 100:
        raise DomainError("Between 0 and 100.", field="extra_attempts")
    scope = (
        Accommodation.quiz_id == quiz.id
        if quiz is not None
        else Accommodation.programme_id == programme.id
    )
    accommodation = db.session.scalar(
        select(Accommodation).where(Accommodation.user_id == user.id, scope)
    )
    if accommodation is None:
        accommodation = Accommodation(
            user_id=user.id,
            quiz_id=quiz.id if quiz else None,
            programme_id=programme.id if programme else None,
        )
        db.session.add(accommodation)
    accommodation.extra_minutes = extra_minutes
    accommodation.time_multiplier = time_multiplier
    accommodation.extra_attempts = extra_attempts
    accommodation.closes_at = closes_at
    accommodation.reason = reason
    accommodation.granted_by_id = getattr(actor, "id", None)
    accommodation.granted_at = now
    db.session.flush()
    audit.record(
        "accommodation.granted",
        "user",
        user.id,
        actor,
        quiz=quiz.slug if quiz else None,
        programme=programme.slug if programme else None,
        extra_minutes=extra_minutes,
        time_multiplier=time_multiplier,
        extra_attempts=extra_attempts,
        closes_at=closes_at.isoformat() if closes_at else None,
        reason=reason,
    )
    reapply_deadlines(user.id)
    return accommodation


def revoke_accommodation(accommodation: Accommodation, actor: Any = None) -> None:
    user_id = accommodation.user_id
    audit.record(
        "accommodation.revoked",
        "user",
        user_id,
        actor,
        quiz=accommodation.quiz.slug if accommodation.quiz else None,
        programme=accommodation.programme.slug if accommodation.programme else None,
    )
    db.session.delete(accommodation)
    db.session.flush()
    reapply_deadlines(user_id)


@quiz_changed.connect
def _quiz_changed(sender: Any, quiz: Quiz, **extra: Any) -> None:
    """A quiz's window or time limit changed on import: running attempts follow, so
    a window extended in the files reaches the candidates already working."""
    for attempt in db.session.scalars(
        select(Attempt)
        .where(Attempt.quiz_id == quiz.id, Attempt.status == IN_PROGRESS)
        .order_by(Attempt.id)  # the lock order (see lock)
    ):
        _retime(attempt)


def reapply_deadlines(user_id: int) -> None:
    """Recompute the deadline of the candidate's running attempts from their start
    and their current terms (after an accommodation changed)."""
    for attempt in db.session.scalars(
        select(Attempt)
        .where(Attempt.user_id == user_id, Attempt.status == IN_PROGRESS)
        .order_by(Attempt.id)  # the lock order (see lock)
    ):
        _retime(attempt)


def _retime(attempt: Attempt) -> None:
    lock(attempt)
    if attempt.status == IN_PROGRESS:
        attempt.deadline_at = deadline_for(
            attempt.started_at, terms_for(attempt.user_id, attempt.quiz)
        )
