"""Everything quizapp holds about one person, as one JSON document.

The structure is documented in ``docs/privacy.md`` and versioned by
:data:`FORMAT_VERSION`: a field may be added without a new version; renaming or
removing one needs the next version.

What the person's own pages would not show them yet stays out, by the same rules
those pages use, never a copy of them:

- an attempt's score, pass, item scores and feedback only when
  :func:`quizapp.delivery.services.results_visible` says its result page shows
  them (the same rule gates the standing and the module progress built from it);
- shortlist and finalist outcomes only once published
  (:func:`quizapp.programmes.services.standings`);
- project rubric scores and the judges' comments only once published
  (:func:`quizapp.bootcamp.judging.published_results`), signed "Judge N".

Never included: the password hash, the sign-in tokens, answer keys (quiz content,
shown on a visible result page), and who on the staff did what (the audit events
say "staff", not a name).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from quizapp.accounts.models import SignIn, User
from quizapp.banks.models import (
    Programme,
    ProgrammeModule,
    Question,
    QuestionVersion,
    Quiz,
)
from quizapp.bootcamp import certificates, judging
from quizapp.bootcamp.models import ModuleProgress, ProjectReview
from quizapp.core.audit import AuditEvent
from quizapp.delivery import presenters
from quizapp.delivery import services as delivery
from quizapp.delivery.models import (
    Accommodation,
    AnswerEvent,
    Attempt,
    AttemptItem,
)
from quizapp.extensions import db
from quizapp.programmes import services as programmes
from quizapp.programmes.models import Consent, Interest, Opening, Standing

FORMAT = "quizapp-personal-data"
#: Bumped when a field is renamed or removed (adding one is compatible).
FORMAT_VERSION = 1


def _iso(moment: datetime | date | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def personal_data(user: User, now: datetime) -> dict[str, Any]:
    """The document for ``user`` as of ``now``. Reads only; a fixed number of
    queries per attempt at most (items and events come in one query each)."""
    attempts = _attempts(user)
    visible = _visible_attempts(attempts, now)
    visible_quizzes = {a.quiz_id for a in attempts if a.id in visible}
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "exported_at": _iso(now),
        "account": _account(user),
        "attempts": _attempts_out(attempts, visible),
        "accommodations": _accommodations(user),
        "standings": _standings(user, visible),
        "programmes": _programme_outcomes(user),
        "consents": _consents(user),
        "module_progress": _module_progress(user, visible_quizzes),
        "project_results": _project_results(user),
        "certificates": _certificates(user),
        "partner_interest": _interest(user),
        "audit_events": _audit_events(user),
    }


def _account(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "name": user.name,
        "email": user.email,
        "school": user.school,
        "discipline": user.discipline,
        "graduation_year": user.graduation_year,
        "is_active": user.is_active,
        "created_at": _iso(user.created_at),
        "last_sign_in_at": _iso(user.last_sign_in_at),
        "deletion_requested_at": _iso(user.deletion_requested_at),
        "anonymised_at": _iso(user.anonymised_at),
        "roles": [
            {"role": r.role, "granted_at": _iso(r.granted_at)} for r in user.roles
        ],
        # The browsers signed in now, without the tokens their cookies carry.
        "sign_ins": [
            {
                "created_at": _iso(s.created_at),
                "ip": s.ip,
                "user_agent": s.user_agent,
            }
            for s in db.session.scalars(
                select(SignIn).where(SignIn.user_id == user.id).order_by(SignIn.id)
            )
        ],
    }


# -- Attempts -----------------------------------------------------------------------


def _attempts(user: User) -> list[Attempt]:
    return list(
        db.session.scalars(
            select(Attempt)
            .where(Attempt.user_id == user.id)
            .options(
                selectinload(Attempt.quiz),
                selectinload(Attempt.signals),
                selectinload(Attempt.items)
                .selectinload(AttemptItem.version)
                .selectinload(QuestionVersion.question)
                .selectinload(Question.bank),
            )
            .order_by(Attempt.started_at, Attempt.id)
        )
    )


def _visible_attempts(attempts: list[Attempt], now: datetime) -> set[int]:
    """Ids of the attempts whose result page shows the result now."""
    release: dict[int, datetime | None] = {}
    out = set()
    for attempt in attempts:
        if attempt.quiz_id not in release:
            release[attempt.quiz_id] = delivery.results_release_at(attempt.quiz)
        if delivery.results_visible(attempt, now, release[attempt.quiz_id]):
            out.add(attempt.id)
    return out


def _attempts_out(attempts: list[Attempt], visible: set[int]) -> list[dict[str, Any]]:
    events: dict[int, list[AnswerEvent]] = {a.id: [] for a in attempts}
    if attempts:
        for answer in db.session.scalars(
            select(AnswerEvent)
            .where(AnswerEvent.attempt_id.in_(list(events)))
            .order_by(AnswerEvent.at, AnswerEvent.id)
        ):
            events[answer.attempt_id].append(answer)
    return [_attempt(a, a.id in visible, events[a.id]) for a in attempts]


def _attempt(
    attempt: Attempt, is_visible: bool, events: list[AnswerEvent]
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": attempt.id,
        "quiz": {"slug": attempt.quiz.slug, "title": attempt.quiz.title},
        "number": attempt.number,
        "status": attempt.status,
        "started_at": _iso(attempt.started_at),
        "deadline_at": _iso(attempt.deadline_at),
        "finished_at": _iso(attempt.finished_at),
        "finish_reason": attempt.finish_reason,
        "seconds_used": attempt.seconds_used,
        "results_visible": is_visible,
        "last_ip": attempt.last_ip,
        "last_user_agent": attempt.last_user_agent,
    }
    if is_visible:
        out |= {
            "score": attempt.score,
            "max_score": attempt.max_score,
            "percent": attempt.percent,
            "passed": attempt.passed,
        }
    out["items"] = [_item(item, is_visible) for item in attempt.items]
    out["answer_events"] = [
        {
            "at": _iso(e.at),
            "position": e.position,
            "response": e.response,
            "is_flagged": e.is_flagged,
            "channel": e.channel,
            "browser_session": e.browser_session,
            "ip": e.ip,
        }
        for e in events
    ]
    out["integrity_signals"] = [
        {"kind": s.kind, "at": _iso(s.at), "detail": s.detail} for s in attempt.signals
    ]
    return out


def _item(item: AttemptItem, is_visible: bool) -> dict[str, Any]:
    version = item.version
    out: dict[str, Any] = {
        "position": item.position,
        "section_title": item.section_title,
        "question": {
            "bank": version.question.bank.slug,
            "key": version.question.key,
            "version": version.number,
            "type": version.type,
        },
        "points": item.points,
        "response": item.response,
        "saved_at": _iso(item.saved_at),
        "is_flagged": item.is_flagged,
    }
    if is_visible:
        shown = presenters.result_item(item)
        out |= {
            "score": shown.score,
            "outcome": shown.outcome,
            "feedback": [str(text) for text in shown.feedback],
        }
    return out


# -- Programmes ---------------------------------------------------------------------


def _accommodations(user: User) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        select(Accommodation)
        .where(Accommodation.user_id == user.id)
        .options(
            selectinload(Accommodation.quiz), selectinload(Accommodation.programme)
        )
        .order_by(Accommodation.granted_at, Accommodation.id)
    )
    return [
        {
            "quiz": a.quiz.slug if a.quiz else None,
            "programme": a.programme.slug if a.programme else None,
            "extra_minutes": a.extra_minutes,
            "time_multiplier": a.time_multiplier,
            "extra_attempts": a.extra_attempts,
            "closes_at": _iso(a.closes_at),
            "reason": a.reason,
            "granted_at": _iso(a.granted_at),
        }
        for a in rows
    ]


def _standings(user: User, visible: set[int]) -> list[dict[str, Any]]:
    """The counting attempt per quiz; its score only when its result is visible."""
    rows = db.session.execute(
        select(Standing, Attempt.quiz_id)
        .join(Attempt, Attempt.id == Standing.attempt_id)
        .where(Standing.user_id == user.id)
        .order_by(Standing.quiz_id)
    ).all()
    slugs = _quiz_slugs(quiz_id for _, quiz_id in rows)
    out = []
    for standing, quiz_id in rows:
        row: dict[str, Any] = {
            "quiz": slugs[quiz_id],
            "attempts": standing.attempts,
            "counting_attempt": standing.attempt_number,
        }
        if standing.attempt_id in visible:
            row |= {
                "score": standing.score,
                "max_score": standing.max_score,
                "percent": standing.percent,
                "passed": standing.passed,
            }
        out.append(row)
    return out


def _quiz_slugs(ids: Iterable[int]) -> dict[int, str]:
    wanted = set(ids)
    if not wanted:
        return {}
    rows = db.session.execute(select(Quiz.id, Quiz.slug).where(Quiz.id.in_(wanted)))
    return {quiz_id: slug for quiz_id, slug in rows}


def _programme_outcomes(user: User) -> list[dict[str, Any]]:
    return [
        {
            "programme": s.programme.slug,
            "title": s.programme.title,
            "shortlist": s.shortlist,
            "finals": s.finals,
        }
        for s in programmes.standings(user)
    ]


def _consents(user: User) -> list[dict[str, Any]]:
    rows = db.session.execute(
        select(Consent, Programme.slug)
        .join(Programme, Programme.id == Consent.programme_id)
        .where(Consent.user_id == user.id)
        .order_by(Programme.slug)
    ).all()
    return [
        {
            "programme": slug,
            "purpose": "show my profile to the programme's partner companies",
            "granted_at": _iso(c.granted_at),
            "revoked_at": _iso(c.revoked_at),
        }
        for c, slug in rows
    ]


def _module_progress(user: User, visible_quizzes: set[int]) -> list[dict[str, Any]]:
    """Per module: status and completion; a quiz's best score only when its result
    is visible, a project score only once the programme published them."""
    rows = db.session.execute(
        select(ModuleProgress, ProgrammeModule, Programme)
        .join(ProgrammeModule, ProgrammeModule.id == ModuleProgress.module_id)
        .join(Programme, Programme.id == ModuleProgress.programme_id)
        .where(ModuleProgress.user_id == user.id)
        .order_by(Programme.slug, ProgrammeModule.position)
    ).all()
    slugs = _quiz_slugs(int(q) for row, _, _ in rows for q in row.scores)
    out = []
    for row, module, programme in rows:
        assessments = []
        for quiz_id, score in sorted(row.scores.items()):
            shown: dict[str, Any] = {
                "quiz": slugs.get(int(quiz_id)),
                "attempts": score.get("attempts"),
            }
            if int(quiz_id) in visible_quizzes:
                shown |= {"best_percent": score.get("best"), "passed": score["passed"]}
            assessments.append(shown)
        entry: dict[str, Any] = {
            "programme": programme.slug,
            "module": module.slug,
            "status": row.status,
            "assessments_passed": row.passed,
            "assessments_required": row.required,
            "assessments": assessments,
            "project_reviews": row.reviews,
            "completed_at": _iso(row.completed_at),
        }
        if module.is_project and programme.projects_published_at is not None:
            entry["project_score"] = row.project_score
        out.append(entry)
    return out


def _project_results(user: User) -> list[dict[str, Any]]:
    reviewed = db.session.scalars(
        select(Programme)
        .where(
            Programme.id.in_(
                select(ProjectReview.programme_id).where(
                    ProjectReview.participant_id == user.id
                )
            )
        )
        .order_by(Programme.slug)
    )
    out = []
    for programme in reviewed:
        results = judging.published_results(programme, user)
        entry: dict[str, Any] = {
            "programme": programme.slug,
            "published": results is not None,
        }
        if results is not None:
            entry["modules"] = [
                {
                    "module": slug,
                    "score": r.score,
                    "judges": r.judges,
                    "criteria": [
                        {"criterion": c.criterion, "max": c.max, "mean": c.mean}
                        for c in r.criteria
                    ],
                    "comments": [{"by": c.label, "text": c.text} for c in r.comments],
                }
                for slug, r in results.items()
            ]
        out.append(entry)
    return out


def _certificates(user: User) -> list[dict[str, Any]]:
    return [
        {
            "code": c.code,
            "recipient_name": c.recipient_name,
            "programme_title": c.programme_title,
            "modules": list(c.modules),
            "completed_on": _iso(c.completed_on),
            "issued_at": _iso(c.issued_at),
            "revoked_at": _iso(c.revoked_at),
            "revoke_reason": c.revoke_reason,
        }
        for c in certificates.of_user(user.id)
    ]


def _interest(user: User) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        select(Interest)
        .where(Interest.user_id == user.id)
        .options(selectinload(Interest.opening).selectinload(Opening.company))
        .order_by(Interest.marked_at)
    )
    return [
        {
            "company": i.opening.company.name,
            "opening": i.opening.title,
            "kind": i.opening.kind,
            "note": i.note,
            "marked_at": _iso(i.marked_at),
        }
        for i in rows
    ]


def _audit_events(user: User) -> list[dict[str, Any]]:
    """Events whose target is the account, oldest first."""
    rows = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.target_type == "user", AuditEvent.target_id == user.id)
        .order_by(AuditEvent.at, AuditEvent.id)
    )
    return [
        {
            "at": _iso(e.at),
            "action": e.action,
            "by": "you"
            if e.actor_id == user.id
            else ("staff" if e.actor_id else "the command line"),
            "details": dict(e.details or {}),
        }
        for e in rows
    ]
