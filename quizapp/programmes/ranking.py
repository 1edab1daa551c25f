"""Leaderboards: one statement, window functions, whatever the number of attempts.

The rules (docs/organisers.md repeats them for people):

1. **Which attempt counts** is the quiz's grading method: ``highest`` takes the
   candidate's best percentage (ties: less time used, then the earlier submission),
   ``latest`` the last attempt they finished, ``first`` their first. Only finalized
   attempts count; one running now does not.
2. **Rank** is by that attempt's percentage (score over the attempt's own maximum,
   so draws from pools of different weights compare fairly), ties broken by less
   time used, then by the earlier submission. Candidates equal on all three share a
   rank (``RANK()``: 1, 2, 2, 4).
3. **The order inside a shared rank**, which decides who is above a cut-off when
   exactly N must be picked, is the earlier registration, then the lower account id.
   :func:`leaderboard` lists rows in that order and :data:`Row.tied` tells which
   rows share their rank with another.

Filters (discipline, graduation year, passed, search) narrow the rows shown but never
change a rank: ranks are computed over everyone first.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy import (
    Select,
    case,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from quizapp.accounts.models import User
from quizapp.banks.models import Quiz
from quizapp.delivery.models import FINALIZED, Attempt, IntegritySignal
from quizapp.extensions import db
from quizapp.programmes.models import SHORTLIST, Selection, Standing

PER_PAGE = 50
MAX_PER_PAGE = 500
SEARCH_MAX = 100


@dataclass(frozen=True)
class Filters:
    discipline: str | None = None
    graduation_year: int | None = None
    #: True: passed only; False: not passed (failed, or no pass mark); None: all.
    passed: bool | None = None
    #: Part of the name or e-mail, any case.
    search: str | None = None
    #: Only this account (a candidate's own rank).
    user_id: int | None = None

    @property
    def any(self) -> bool:
        return any(
            v is not None and v != ""
            for v in (self.discipline, self.graduation_year, self.passed, self.search)
        )


@dataclass(frozen=True)
class Row:
    rank: int
    #: Whether another candidate shares this rank (equal on all tie-breaks).
    tied: bool
    user_id: int
    name: str
    email: str
    discipline: str | None
    school: str | None
    graduation_year: int | None
    attempt_id: int
    attempt_number: int
    attempts: int
    score: float
    max_score: float
    percent: float
    seconds_used: float
    finished_at: datetime
    passed: bool | None
    signals: int
    #: The candidate's shortlist status (programme leaderboards), else None.
    selection: str | None = None


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    #: Rows matching the filters (all pages).
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def first_number(self) -> int:
        return (self.page - 1) * self.per_page + 1 if self.total else 0

    @property
    def last_number(self) -> int:
        return min(self.total, self.page * self.per_page)


def _rank_keys() -> list[ColumnElement]:
    return [
        Standing.percent.desc(),
        Standing.seconds_used.asc(),
        Standing.finished_at.asc(),
    ]


def ranked(quiz: Quiz):
    """The subquery of every candidate's counting attempt at ``quiz`` with its rank,
    read off :class:`~quizapp.programmes.models.Standing` in the order of its index
    (so a page is streamed and the scan stops at the page's LIMIT)."""
    keys = _rank_keys()
    return (
        select(
            Standing.user_id,
            Standing.attempt_id,
            Standing.attempt_number,
            Standing.attempts,
            Standing.score,
            Standing.max_score,
            Standing.percent,
            Standing.seconds_used,
            Standing.finished_at,
            Standing.passed,
            Standing.user_created_at,
            func.rank().over(order_by=keys).label("rank"),
            # The rows equal to this one on every key (its peers), itself included.
            func.count().over(order_by=keys, range_=(0, 0)).label("rank_size"),
        )
        .where(Standing.quiz_id == quiz.id)
        .subquery("ranked")
    )


def _order(r) -> list[ColumnElement]:
    """Rank order, then the order inside a shared rank: the index's order."""
    return [
        r.c.percent.desc(),
        r.c.seconds_used.asc(),
        r.c.finished_at.asc(),
        r.c.user_created_at.asc(),
        r.c.user_id.asc(),
    ]


def _query(quiz: Quiz, filters: Filters, programme_id: int | None) -> Select:
    r = ranked(quiz)
    selection = (
        select(Selection.status)
        .where(
            Selection.programme_id == programme_id,
            Selection.stage == SHORTLIST,
            Selection.user_id == r.c.user_id,
        )
        .scalar_subquery()
        if programme_id is not None
        else literal(None)
    )
    query = (
        select(
            r.c.rank,
            (r.c.rank_size > 1).label("tied"),
            r.c.user_id,
            User.name,
            User.email,
            User.discipline,
            User.school,
            User.graduation_year,
            r.c.attempt_id,
            r.c.attempt_number,
            r.c.attempts,
            r.c.score,
            r.c.max_score,
            r.c.percent,
            r.c.seconds_used,
            r.c.finished_at,
            r.c.passed,
            selection.label("selection"),
            r.c.user_created_at,
        )
        .join(User, User.id == r.c.user_id)
        .where(*_conditions(r, filters))
    )
    return query.order_by(*_order(r))


def _conditions(r, filters: Filters) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    if filters.discipline:
        out.append(User.discipline == filters.discipline)
    if filters.graduation_year is not None:
        out.append(User.graduation_year == filters.graduation_year)
    if filters.passed is True:
        out.append(r.c.passed.is_(True))
    elif filters.passed is False:
        out.append(or_(r.c.passed.is_(False), r.c.passed.is_(None)))
    if filters.search:
        term = filters.search.strip().lower()[:SEARCH_MAX]
        out.append(
            or_(
                func.lower(User.name).contains(term, autoescape=True),
                User.email.contains(term, autoescape=True),
            )
        )
    if filters.user_id is not None:
        out.append(r.c.user_id == filters.user_id)
    return out


def _with_signals(inner) -> Select:
    """Signal counts for the rows of one page only (after LIMIT)."""
    signals = (
        select(func.count())
        .where(IntegritySignal.attempt_id == inner.c.attempt_id)
        .scalar_subquery()
    )
    return select(inner, signals.label("signals")).order_by(*_order(inner))


_ROW_FIELDS = tuple(f.name for f in fields(Row))


def _row(mapping) -> Row:
    values = {name: mapping[name] for name in _ROW_FIELDS}
    values["tied"] = bool(values["tied"])
    values["signals"] = values["signals"] or 0
    return Row(**values)


def leaderboard(
    quiz: Quiz,
    filters: Filters | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
    programme_id: int | None = None,
) -> Page:
    """One page of the ranking, in one statement.

    :param programme_id: add each candidate's shortlist status in that programme.
    """
    filters = filters or Filters()
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    page = max(1, min(page, 2**31 // per_page))  # the offset fits an integer
    base = _query(quiz, filters, programme_id)
    inner = base.limit(per_page).offset((page - 1) * per_page).subquery("page")
    rows = [_row(m) for m in db.session.execute(_with_signals(inner)).mappings()]
    return Page(rows, _total(quiz, filters, base), page, per_page)


def _total(quiz: Quiz, filters: Filters, base: Select) -> int:
    """Rows matching ``filters``: a count off the index when nothing is filtered."""
    if not filters.any and filters.user_id is None:
        return db.session.scalar(
            select(func.count())
            .select_from(Standing)
            .where(Standing.quiz_id == quiz.id)
        )
    return db.session.scalar(
        select(func.count()).select_from(base.order_by(None).subquery())
    )


def iter_rows(
    quiz: Quiz,
    filters: Filters | None = None,
    programme_id: int | None = None,
    chunk: int = 2000,
    session: Session | None = None,
) -> Iterator[Row]:
    """Every row matching ``filters``, in rank order, streamed from the database
    (CSV export): one statement, fetched ``chunk`` rows at a time.

    :param session: where to run it (a streamed response has its own).
    """
    inner = _query(quiz, filters or Filters(), programme_id).subquery("all_rows")
    result = (session or db.session).execute(
        _with_signals(inner), execution_options={"yield_per": chunk}
    )
    for mapping in result.mappings():
        yield _row(mapping)


def top(quiz: Quiz, n: int) -> list[Row]:
    """The first ``n`` rows in rank order (the shortlist's candidates)."""
    return leaderboard(quiz, page=1, per_page=n).rows if n else []


def rank_of(quiz: Quiz, user_id: int) -> Row | None:
    rows = leaderboard(quiz, Filters(user_id=user_id), per_page=1).rows
    return rows[0] if rows else None


def cut_off(quiz: Quiz, n: int) -> Row | None:
    """The row at position ``n`` (the last one a top-``n`` list takes)."""
    page = leaderboard(quiz, page=n, per_page=1)
    return page.rows[0] if page.rows else None


def distribution(quiz: Quiz, bins: int = 10) -> list[int]:
    """How many candidates' counting attempts fall in each of ``bins`` equal
    percentage bands (the last band includes 100%)."""
    r = ranked(quiz)
    band = case(
        (r.c.percent >= 100, bins - 1),
        else_=func.floor(r.c.percent * bins / 100.0),
    )
    counts = [0] * bins
    for index, count in db.session.execute(
        select(band.label("band"), func.count()).group_by(band)
    ):
        counts[max(0, min(bins - 1, int(index)))] += count
    return counts


def passed_counts(quiz: Quiz) -> tuple[int, int]:
    """``(candidates ranked, of whom passed)`` on ``quiz``."""
    r = ranked(quiz)
    total, passed = db.session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((r.c.passed.is_(True), 1), else_=0)), 0),
        )
    ).one()
    return total, passed


def started_count(quiz: Quiz) -> tuple[int, int]:
    """``(candidates who started, candidates who finished)`` an attempt."""
    return db.session.execute(
        select(
            func.count(func.distinct(Attempt.user_id)),
            func.count(
                func.distinct(
                    case((Attempt.status == FINALIZED, Attempt.user_id), else_=None)
                )
            ),
        ).where(Attempt.quiz_id == quiz.id)
    ).one()


@dataclass(frozen=True)
class Result:
    percent: float
    #: Passed per the quiz's pass mark; a quiz without one is passed by finishing.
    passed: bool


def counting_results(
    quiz_ids: list[int], user_ids: list[int]
) -> dict[tuple[int, int], Result]:
    """Each candidate's counting attempt on each quiz, by ``(quiz_id, user_id)``
    (the quiz's own grading method decides which attempt counts), in one
    statement."""
    out: dict[tuple[int, int], Result] = {}
    if not user_ids or not quiz_ids:
        return out
    for quiz_id, user_id, percent, passed in db.session.execute(
        select(
            Standing.quiz_id, Standing.user_id, Standing.percent, Standing.passed
        ).where(Standing.quiz_id.in_(quiz_ids), Standing.user_id.in_(user_ids))
    ):
        out[(quiz_id, user_id)] = Result(float(percent), passed is not False)
    return out
