"""The funnel's decisions: the shortlist, the finalists, changes by hand, publishing,
and the organiser's control of quiz windows. Callers commit; every change writes an
audit event in the same transaction.

**Shortlist** (``shortlist top N``): the first N rows of the screening leaderboard
(:mod:`quizapp.programmes.ranking` documents its order, including who goes first
inside a shared rank) are selected, and the next :func:`waitlist_size` rows are
waitlisted in order. Exactly N are selected even when candidates tie at the cut-off;
those left below it are the first on the waitlist, and the report says so.

**Finalists** (``select top M``): the cohort (the selected shortlist) ranked by the
combined score of :func:`cohort_ranking`, picked the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select

from quizapp.accounts.models import Role, User
from quizapp.banks.models import Programme, Quiz
from quizapp.core import audit, clock, signals
from quizapp.core.errors import Conflict, DomainError
from quizapp.delivery.models import IN_PROGRESS, Attempt
from quizapp.extensions import db
from quizapp.programmes import ranking
from quizapp.programmes.models import (
    BY_HAND,
    BY_RANK,
    FINALISTS,
    SELECTED,
    SHORTLIST,
    STAGES,
    WAITLISTED,
    Consent,
    Selection,
)

REASON_MAX = 500
STAGE_LABELS = {SHORTLIST: "shortlist", FINALISTS: "finalists"}


def waitlist_size(n: int) -> int:
    """How many are waitlisted behind a list of ``n``: a tenth, at least 5."""
    return max(5, n // 10)


@dataclass(frozen=True)
class Ranked:
    """One candidate in the order a list is picked from."""

    user_id: int
    rank: int
    score: float
    tied: bool


@dataclass
class SelectionReport:
    selected: int = 0
    waitlisted: int = 0
    #: Candidates who share the rank of the last selected but fell below the cut.
    tied_below_cut: list[int] = field(default_factory=list)


def members(programme: Programme, stage: str, status: str | None = None):
    query = (
        select(Selection)
        .where(Selection.programme_id == programme.id, Selection.stage == stage)
        .order_by(Selection.status, Selection.rank.is_(None), Selection.rank)
    )
    if status is not None:
        query = query.where(Selection.status == status)
    return list(db.session.scalars(query))


def selection_of(programme: Programme, stage: str, user_id: int) -> Selection | None:
    return db.session.scalar(
        select(Selection).where(
            Selection.programme_id == programme.id,
            Selection.stage == stage,
            Selection.user_id == user_id,
        )
    )


def cohort_ids(programme: Programme) -> list[int]:
    """Account ids of the bootcamp cohort (selected on the shortlist)."""
    return list(
        db.session.scalars(
            select(Selection.user_id).where(
                Selection.programme_id == programme.id,
                Selection.stage == SHORTLIST,
                Selection.status == SELECTED,
            )
        )
    )


def _published(programme: Programme, stage: str) -> datetime | None:
    if stage == SHORTLIST:
        return programme.shortlist_published_at
    return programme.finalists_published_at


def _select_ranked(
    programme: Programme,
    stage: str,
    rows: list[Ranked],
    n: int,
    actor: Any,
    replace: bool,
) -> SelectionReport:
    if _published(programme, stage) is not None:
        raise Conflict(
            f"The {STAGE_LABELS[stage]} has been published to candidates; change it "
            "by hand (with a reason) instead of picking it again."
        )
    existing = db.session.scalar(
        select(func.count())
        .select_from(Selection)
        .where(Selection.programme_id == programme.id, Selection.stage == stage)
    )
    if existing and not replace:
        raise Conflict(
            f"The {STAGE_LABELS[stage]} already has {existing} people. Tick "
            "'replace' to pick it again from the ranking (changes by hand are lost).",
            field="replace",
        )
    if not rows:
        raise DomainError("Nobody is ranked yet, so there is nobody to pick.")
    db.session.execute(
        delete(Selection).where(
            Selection.programme_id == programme.id, Selection.stage == stage
        )
    )
    report = SelectionReport()
    now = clock.now()
    last_rank = rows[min(n, len(rows)) - 1].rank
    for position, row in enumerate(rows[: n + waitlist_size(n)]):
        status = SELECTED if position < n else WAITLISTED
        db.session.add(
            Selection(
                programme_id=programme.id,
                stage=stage,
                user_id=row.user_id,
                status=status,
                source=BY_RANK,
                rank=row.rank,
                score=row.score,
                created_at=now,
                created_by_id=getattr(actor, "id", None),
            )
        )
        if status == SELECTED:
            report.selected += 1
        else:
            report.waitlisted += 1
            if row.rank == last_rank:
                report.tied_below_cut.append(row.user_id)
    audit.record(
        f"{stage}.picked",
        "programme",
        programme.id,
        actor,
        size=n,
        selected=report.selected,
        waitlisted=report.waitlisted,
        replaced=existing,
        tied_below_cut=report.tied_below_cut,
    )
    db.session.flush()
    return report


def screening_state(programme: Programme, now: datetime) -> str:
    """``none`` (no screening quiz), ``upcoming``, ``open`` or ``closed``."""
    quiz = programme.screening_quiz
    if quiz is None:
        return "none"
    if quiz.opens_at is not None and now < quiz.opens_at:
        return "upcoming"
    if quiz.closes_at is None or now < quiz.closes_at:
        return "open"
    return "closed"


def running_attempts(quiz: Quiz) -> tuple[int, datetime | None]:
    """``(attempts in progress, the latest of their deadlines)``."""
    return db.session.execute(
        select(func.count(), func.max(Attempt.deadline_at)).where(
            Attempt.quiz_id == quiz.id, Attempt.status == IN_PROGRESS
        )
    ).one()


def shortlist_top(
    programme: Programme,
    actor: Any,
    n: int | None = None,
    replace: bool = False,
    now: datetime | None = None,
) -> SelectionReport:
    """Shortlist the top ``n`` (default: the programme's size) of the screening.

    :raise DomainError: without a screening quiz, while its window is open or while
        attempts at it are still running (extra time), or with an ``n`` out of range.
    :raise Conflict: when a list exists and ``replace`` is not set, or it has been
        published.
    """
    now = now or clock.now()
    quiz = programme.screening_quiz
    if quiz is None:
        raise DomainError("This programme has no screening quiz to shortlist from.")
    n = programme.shortlist_size if n is None else n
    if n < 1:
        raise DomainError("Shortlist at least one person.", field="size")
    state = screening_state(programme, now)
    if state != "closed":
        raise DomainError(
            "The screening window is still open: close it first (Windows page), so "
            "nobody is ranked on a result that can still change."
            if state == "open"
            else "The screening has not started yet.",
        )
    running, latest = running_attempts(quiz)
    if running:
        raise DomainError(
            f"{running} screening attempt(s) are still running (extra time); "
            "shortlist once they end"
            + (f" (the last by {latest:%d %b %Y %H:%M} UTC)." if latest else ".")
        )
    rows = [
        Ranked(r.user_id, r.rank, r.percent, r.tied)
        for r in ranking.top(quiz, n + waitlist_size(n))
    ]
    return _select_ranked(programme, SHORTLIST, rows, n, actor, replace)


# -- The combined score -------------------------------------------------------------

#: Sources of project scores (percent by account id), registered by the feature that
#: scores projects; with none registered, or none scored yet, the project part of
#: the combined score is left out and the other weights are rescaled.
ProjectScores = Callable[[Programme, list[int]], dict[int, float]]
_project_sources: list[ProjectScores] = []


def project_scores_from(source: ProjectScores) -> ProjectScores:
    _project_sources.append(source)
    return source


@dataclass(frozen=True)
class CohortRow:
    user: User
    screening: float | None
    #: Mean percentage over every assessment of every module (0 for one not taken).
    modules: float
    #: Per assessment quiz id: the counting percentage, if taken.
    assessments: dict[int, float]
    project: float | None
    combined: float
    rank: int
    tied: bool
    selection: str | None


def _project_scores(programme: Programme, user_ids: list[int]) -> dict[int, float]:
    scores: dict[int, float] = {}
    for source in _project_sources:
        scores.update(source(programme, user_ids))
    return scores


def assessment_ids(programme: Programme) -> list[int]:
    return [a.quiz_id for module in programme.modules for a in module.assessments]


def cohort_ranking(programme: Programme) -> list[CohortRow]:
    """The cohort ranked by the combined score (docs/organisers.md)::

        combined = (ws * screening + wm * modules + wp * project) / (ws + wm + wp)

    each part a percentage; ``wp`` counts only once some project is scored (a
    participant without a score then has 0 for it). Ties: the higher screening
    percentage, then the earlier registration, then the lower account id.
    """
    user_ids = cohort_ids(programme)
    if not user_ids:
        return []
    users = {
        u.id: u for u in db.session.scalars(select(User).where(User.id.in_(user_ids)))
    }
    quiz_ids = assessment_ids(programme)
    results = ranking.counting_results(
        [
            *quiz_ids,
            *([programme.screening_quiz_id] if programme.screening_quiz_id else []),
        ],
        user_ids,
    )
    projects = _project_scores(programme, user_ids)
    finalists = {s.user_id: s.status for s in members(programme, FINALISTS)}
    ws, wm, wp = (
        programme.weight_screening,
        programme.weight_modules,
        programme.weight_project if projects else 0.0,
    )
    total_weight = (ws + wm + wp) or 1.0
    rows = []
    for user_id in user_ids:
        screening = results.get((programme.screening_quiz_id, user_id))
        taken = {
            quiz_id: results[(quiz_id, user_id)].percent
            for quiz_id in quiz_ids
            if (quiz_id, user_id) in results
        }
        modules = sum(taken.values()) / len(quiz_ids) if quiz_ids else 0.0
        project = projects.get(user_id)
        combined = (
            ws * (screening.percent if screening else 0.0)
            + wm * modules
            + wp * (project or 0.0)
        ) / total_weight
        rows.append(
            (
                round(combined, 6),
                screening.percent if screening else None,
                taken,
                modules,
                project,
                users[user_id],
            )
        )
    rows.sort(
        key=lambda r: (-r[0], -(r[1] or 0.0), r[5].created_at, r[5].id),
    )
    out: list[CohortRow] = []
    keys = [(r[0], r[1] or 0.0) for r in rows]
    for position, (combined, screening, taken, modules, project, user) in enumerate(
        rows
    ):
        key = keys[position]
        first = keys.index(key)
        out.append(
            CohortRow(
                user=user,
                screening=screening,
                modules=modules,
                assessments=taken,
                project=project,
                combined=combined,
                rank=first + 1,
                tied=keys.count(key) > 1,
                selection=finalists.get(user.id),
            )
        )
    return out


def select_finalists(
    programme: Programme, actor: Any, m: int | None = None, replace: bool = False
) -> SelectionReport:
    """Select the top ``m`` (default: the programme's count) of the cohort.

    :raise DomainError: without a cohort, or with an ``m`` out of range.
    :raise Conflict: as :func:`shortlist_top`.
    """
    m = programme.finalist_count if m is None else m
    if m < 1:
        raise DomainError("Select at least one finalist.", field="size")
    rows = [
        Ranked(r.user.id, r.rank, r.combined, r.tied) for r in cohort_ranking(programme)
    ]
    if not rows:
        raise DomainError("The bootcamp has no cohort yet: shortlist first.")
    return _select_ranked(programme, FINALISTS, rows, m, actor, replace)


# -- Changes by hand ----------------------------------------------------------------


def _reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if len(reason) < 3:
        raise DomainError("Say why (a few words are kept in the log).", field="reason")
    if len(reason) > REASON_MAX:
        raise DomainError(
            f"Keep the reason under {REASON_MAX} characters.", field="reason"
        )
    return reason


def add_by_hand(
    programme: Programme, stage: str, user: User, reason: str, actor: Any
) -> Selection:
    """Put ``user`` on the list (a waitlisted person is promoted).

    :raise DomainError: for an account that is not a candidate, a finalist who is
        not in the cohort, someone already selected, or no reason.
    """
    if stage not in STAGES:
        raise DomainError("Unknown list.")
    reason = _reason(reason)
    if not user.has_role(Role.candidate):
        raise DomainError(f"{user.email} is not a candidate account.", field="email")
    if stage == FINALISTS and user.id not in cohort_ids(programme):
        raise DomainError(
            f"{user.name} is not in the bootcamp cohort; add them to the shortlist "
            "first.",
            field="email",
        )
    row = selection_of(programme, stage, user.id)
    if row is not None and row.status == SELECTED:
        raise DomainError(
            f"{user.name} is already on the {STAGE_LABELS[stage]}.", field="email"
        )
    was = row.status if row is not None else None
    if row is None:
        row = Selection(
            programme_id=programme.id,
            stage=stage,
            user_id=user.id,
            source=BY_HAND,
            created_at=clock.now(),
            created_by_id=getattr(actor, "id", None),
        )
        db.session.add(row)
    row.status, row.reason = SELECTED, reason
    audit.record(
        f"{stage}.added",
        "programme",
        programme.id,
        actor,
        user_id=user.id,
        reason=reason,
        was=was,
    )
    db.session.flush()
    return row


def remove_by_hand(
    programme: Programme, stage: str, user: User, reason: str, actor: Any
) -> None:
    """Take ``user`` off the list (or the waitlist).

    :raise DomainError: when they are not on it, are still a finalist (for the
        shortlist), or no reason is given.
    """
    reason = _reason(reason)
    row = selection_of(programme, stage, user.id)
    if row is None:
        raise DomainError(f"{user.name} is not on the {STAGE_LABELS[stage]}.")
    if stage == SHORTLIST and selection_of(programme, FINALISTS, user.id):
        raise DomainError(
            f"{user.name} is also a finalist: take them off the finalists first."
        )
    db.session.delete(row)
    audit.record(
        f"{stage}.removed",
        "programme",
        programme.id,
        actor,
        user_id=user.id,
        reason=reason,
        was=row.status,
    )
    db.session.flush()


def set_published(programme: Programme, stage: str, published: bool, actor: Any):
    """Show (or hide again) the list's outcome on candidates' dashboards."""
    when = clock.now() if published else None
    if stage == SHORTLIST:
        programme.shortlist_published_at = when
    else:
        programme.finalists_published_at = when
    audit.record(
        f"{stage}.{'published' if published else 'unpublished'}",
        "programme",
        programme.id,
        actor,
    )


def _events(target_type: str, target_id: int, prefix: str, limit: int):
    """Audit events about one object whose action starts with ``prefix``, newest
    first."""
    from quizapp.core.audit import AuditEvent

    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(
                AuditEvent.target_type == target_type,
                AuditEvent.target_id == target_id,
                AuditEvent.action.startswith(prefix),
            )
            .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
            .limit(limit)
        )
    )


def history(programme: Programme, stage: str, limit: int = 200):
    """Audit events of one list, newest first."""
    return _events("programme", programme.id, f"{stage}.", limit)


def set_weights(
    programme: Programme,
    screening: float,
    modules: float,
    project: float,
    actor: Any,
) -> None:
    """:raise DomainError: for a negative weight or all three zero."""
    for name, value in (
        ("screening", screening),
        ("modules", modules),
        ("project", project),
    ):
        if value < 0 or value > 1000:
            raise DomainError("Use a weight from 0 to 1000.", field=f"weight_{name}")
    if screening + modules + project <= 0:
        raise DomainError(
            "At least one weight must be above 0.", field="weight_screening"
        )
    before = [
        programme.weight_screening,
        programme.weight_modules,
        programme.weight_project,
    ]
    programme.weight_screening = screening
    programme.weight_modules = modules
    programme.weight_project = project
    audit.record(
        "programme.weights_set",
        "programme",
        programme.id,
        actor,
        before=before,
        after=[screening, modules, project],
    )


# -- Candidate's side ---------------------------------------------------------------


@dataclass(frozen=True)
class Standing:
    """What a candidate is told about one programme."""

    programme: Programme
    #: shortlisted, waitlisted, not_selected, or None (not published / not applied).
    shortlist: str | None
    #: finalist, waitlisted, not_selected, or None.
    finals: str | None
    consent: Consent | None


def standings(user: User) -> list[Standing]:
    """The candidate's published outcomes, programme by programme (fixed queries)."""
    programmes = [
        p
        for p in db.session.scalars(select(Programme).order_by(Programme.title))
        if p.shortlist_published_at or p.finalists_published_at
    ]
    if not programmes:
        return []
    rows = {
        (s.programme_id, s.stage): s.status
        for s in db.session.scalars(
            select(Selection).where(Selection.user_id == user.id)
        )
    }
    applied = set(
        db.session.scalars(
            select(Attempt.quiz_id).where(
                Attempt.user_id == user.id,
                Attempt.quiz_id.in_(
                    [p.screening_quiz_id for p in programmes if p.screening_quiz_id]
                ),
            )
        )
    )
    consents = {
        c.programme_id: c
        for c in db.session.scalars(select(Consent).where(Consent.user_id == user.id))
    }
    out = []
    for p in programmes:
        shortlist = finals = None
        status = rows.get((p.id, SHORTLIST))
        if p.shortlist_published_at:
            if status == SELECTED:
                shortlist = "shortlisted"
            elif status == WAITLISTED:
                shortlist = "waitlisted"
            elif p.screening_quiz_id in applied:
                shortlist = "not_selected"
        final = rows.get((p.id, FINALISTS))
        if p.finalists_published_at and status == SELECTED:
            finals = {SELECTED: "finalist", WAITLISTED: "waitlisted"}.get(
                final, "not_selected"
            )
        if shortlist or finals:
            out.append(Standing(p, shortlist, finals, consents.get(p.id)))
    return out


def set_consent(programme: Programme, user: User, given: bool) -> Consent:
    """A finalist agrees (or stops agreeing) to show partners their profile.

    :raise DomainError: for someone who is not a published finalist.
    """
    if not (
        programme.finalists_published_at
        and (row := selection_of(programme, FINALISTS, user.id))
        and row.status == SELECTED
    ):
        raise DomainError("Only finalists are asked to share their profile.")
    consent = db.session.get(Consent, (programme.id, user.id))
    now = clock.now()
    if consent is None:
        consent = Consent(programme_id=programme.id, user_id=user.id, granted_at=now)
        db.session.add(consent)
    if given:
        consent.granted_at, consent.revoked_at = now, None
    else:
        consent.revoked_at = now
    audit.record(
        "consent.given" if given else "consent.revoked",
        "programme",
        programme.id,
        user,
        user_id=user.id,
    )
    db.session.flush()
    return consent


# -- Quiz windows -------------------------------------------------------------------


def set_window(
    quiz: Quiz,
    opens_at: datetime | None,
    closes_at: datetime | None,
    actor: Any,
    reason: str | None = None,
) -> None:
    """Set the quiz's window from the browser; imports then keep it (see
    :class:`~quizapp.banks.models.Quiz`). Running attempts are re-timed at once.

    :raise DomainError: when the window closes before it opens.
    """
    if opens_at and closes_at and closes_at <= opens_at:
        raise DomainError("The window must close after it opens.", field="closes_at")
    before = [_iso(quiz.opens_at), _iso(quiz.closes_at)]
    quiz.opens_at, quiz.closes_at = opens_at, closes_at
    quiz.window_set_at, quiz.window_set_by_id = clock.now(), getattr(actor, "id", None)
    audit.record(
        "quiz.window_set",
        "quiz",
        quiz.id,
        actor,
        before=before,
        after=[_iso(opens_at), _iso(closes_at)],
        reason=(reason or "").strip()[:REASON_MAX] or None,
    )
    db.session.flush()
    signals.quiz_changed.send(quiz, quiz=quiz)


def open_now(quiz: Quiz, actor: Any, now: datetime | None = None) -> None:
    now = now or clock.now()
    closes = quiz.closes_at if quiz.closes_at and quiz.closes_at > now else None
    set_window(quiz, now, closes, actor, reason="opened now")


def close_now(quiz: Quiz, actor: Any, now: datetime | None = None) -> None:
    """Close the window now: nobody may start, and running attempts end at their
    deadline or now, whichever is first (personal closes of extra time stay)."""
    now = now or clock.now()
    opens = (
        quiz.opens_at
        if quiz.opens_at and quiz.opens_at < now
        else now - timedelta(seconds=1)
    )
    set_window(quiz, opens, now, actor, reason="closed now")


def revert_window(quiz: Quiz, actor: Any) -> None:
    """Go back to the files' window (and let imports set it again)."""
    before = [_iso(quiz.opens_at), _iso(quiz.closes_at)]
    quiz.opens_at, quiz.closes_at = quiz.source_opens_at, quiz.source_closes_at
    quiz.window_set_at = quiz.window_set_by_id = None
    audit.record(
        "quiz.window_reverted",
        "quiz",
        quiz.id,
        actor,
        before=before,
        after=[_iso(quiz.opens_at), _iso(quiz.closes_at)],
    )
    db.session.flush()
    signals.quiz_changed.send(quiz, quiz=quiz)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


#: The window page's buttons.
WINDOW_ACTIONS = {"open": open_now, "close": close_now, "revert": revert_window}


def window_history(quiz: Quiz, limit: int = 50):
    """Changes of the quiz's window made from the browser, newest first."""
    return _events("quiz", quiz.id, "quiz.window", limit)
