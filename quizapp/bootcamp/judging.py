"""The judges' rubric scores of the mini-projects, and their publication.

The rules (issue 6):

- **Who is judged**: the programme's cohort (the selected shortlist); when a finalist
  list exists its members are flagged and listed first.
- **A review** is one judge's score per rubric criterion (a number from 0 to the
  criterion's points, at most two decimal places) and an optional comment of at
  most :data:`COMMENT_MAX` characters. Each judge has one review per participant and
  project module, which they may revise until the organiser publishes the scores;
  once published, reviews are locked (unpublishing unlocks them).
- **The project score** is the mean over the judges of each review's percentage
  (what :mod:`quizapp.bootcamp.progress` stores as ``project_score``); the
  per-criterion means are for display.
- **Who sees what**: a judge sees the other judges' scores and comments for a
  participant only after submitting their own for that participant; organisers and
  admins see everything. Participants see the per-criterion means, the project score
  and the comments (signed "Judge 1", "Judge 2", never by name) once published.

Services change state and write an audit event in the same transaction; callers
commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from quizapp.accounts.models import User
from quizapp.banks.models import Programme, ProgrammeModule
from quizapp.bootcamp import cohort, progress
from quizapp.bootcamp.access import JUDGES, ORGANISERS
from quizapp.bootcamp.cohort import Participant
from quizapp.bootcamp.models import ProjectReview
from quizapp.core import audit, clock
from quizapp.core.errors import Conflict, DomainError, PermissionDenied
from quizapp.extensions import db

COMMENT_MAX = 2000
LOCKED = (
    "The project scores are published, so reviews are locked. Ask an organiser "
    "to unpublish them if a score must change."
)
_CENT = Decimal("0.01")


def criterion_field(index: int) -> str:
    """The form field of the rubric's ``index``-th criterion (errors name it)."""
    return f"criterion_{index}"


class InvalidReview(DomainError):
    """Several fields of one review are wrong; ``errors`` has one per field."""

    status = 422

    def __init__(self, errors: list[DomainError]):
        super().__init__("Check the scores marked below.")
        self.errors = errors


# -- Who is judged ------------------------------------------------------------------


def project_modules(programme: Programme) -> list[ProgrammeModule]:
    return [m for m in programme.modules if m.is_project]


# -- Submitting ---------------------------------------------------------------------


def _max_of(item: Mapping[str, Any]) -> Decimal:
    return Decimal(str(item["points"]))


def _number(value: object) -> Decimal | None:
    """``value`` as a finite decimal, or None when it is not a number."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float):
        value = repr(value)
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _fmt(number: Decimal | float) -> str:
    return f"{float(number):g}"


def validate_points(
    rubric: list[dict[str, Any]], points: Mapping[str, object]
) -> tuple[list[dict[str, Any]], list[DomainError]]:
    """Check a score for every criterion of ``rubric``.

    :return: the ``[{criterion, points, max}]`` snapshot (rubric order) and the
        errors, one per wrong criterion, each naming its form field.
    """
    criteria: list[dict[str, Any]] = []
    errors: list[DomainError] = []
    unknown = set(points) - {item["criterion"] for item in rubric}
    if unknown:
        errors.append(
            DomainError("Not in the rubric: " + ", ".join(sorted(map(str, unknown))))
        )
    for index, item in enumerate(rubric):
        name, top = item["criterion"], _max_of(item)
        raw = points.get(name)
        where = criterion_field(index)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            errors.append(
                DomainError(f"Give {name} a score from 0 to {_fmt(top)}.", where)
            )
            continue
        number = _number(raw)
        if number is None:
            errors.append(
                DomainError(
                    f"Enter a number from 0 to {_fmt(top)} for {name}.", field=where
                )
            )
        elif number < 0:
            errors.append(DomainError(f"{name} cannot be below 0.", field=where))
        elif number > top:
            errors.append(
                DomainError(
                    f"{name} is out of {_fmt(top)}: give at most {_fmt(top)}.",
                    field=where,
                )
            )
        elif number != number.quantize(_CENT):
            errors.append(
                DomainError(
                    f"Use at most two decimal places for {name} (e.g. 7.5 or 7.25).",
                    field=where,
                )
            )
        else:
            criteria.append(
                {"criterion": name, "points": float(number), "max": float(top)}
            )
    return criteria, errors


def _comment(comment: str | None) -> tuple[str | None, DomainError | None]:
    text = (comment or "").strip()
    if len(text) > COMMENT_MAX:
        return None, DomainError(
            f"Keep the comment to {COMMENT_MAX:,} characters "
            f"(this one has {len(text):,}).",
            field="comment",
        )
    return text or None, None


def _lock_published_at(programme: Programme) -> datetime | None:
    """Re-read whether the scores are published, holding the programme's row until
    the transaction ends: publishing waits for a review being saved, and a review
    saved while publishing sees that it is locked (PostgreSQL; SQLite serialises
    writers anyway)."""
    db.session.refresh(
        programme, attribute_names=["projects_published_at"], with_for_update=True
    )
    return programme.projects_published_at


@dataclass(frozen=True)
class Submitted:
    review: ProjectReview
    created: bool


def submit_review(
    programme: Programme,
    module: ProgrammeModule,
    participant: User,
    judge: User,
    points: Mapping[str, object],
    comment: str | None,
    now: datetime | None = None,
) -> Submitted:
    """Create or revise ``judge``'s review of ``participant``'s project.

    Stores the rubric as scored, the total and its maximum, refreshes the
    participant's progress in ``module`` and writes ``project.reviewed`` (first
    time) or ``project.review_changed``.

    :raise PermissionDenied: ``judge`` is not an instructor or admin, or judges
        their own project.
    :raise DomainError: ``module`` is not a project of ``programme``, or
        ``participant`` is not in its cohort.
    :raise Conflict: the scores are published (reviews are locked).
    :raise InvalidReview: a score or the comment is wrong (nothing is written).
    """
    if not judge.has_role(*JUDGES):
        raise PermissionDenied("Only instructors and admins score projects.")
    if module.programme_id != programme.id or not module.is_project:
        raise DomainError(f"{module.title} is not a project of {programme.title}.")
    if judge.id == participant.id:
        raise PermissionDenied("You cannot score your own project.")
    if cohort.cohort_member(programme, participant.id) is None:
        raise DomainError(f"{participant.name} is not in this programme's cohort.")
    if _lock_published_at(programme) is not None:
        raise Conflict(LOCKED)
    criteria, errors = validate_points(module.rubric, points)
    text, comment_error = _comment(comment)
    if comment_error is not None:
        errors.append(comment_error)
    if errors:
        raise InvalidReview(errors)

    now = now or clock.now()
    total = float(sum(Decimal(str(c["points"])) for c in criteria))
    top = float(sum(_max_of(item) for item in module.rubric))
    review = db.session.scalar(
        select(ProjectReview).where(
            ProjectReview.programme_id == programme.id,
            ProjectReview.module_slug == module.slug,
            ProjectReview.participant_id == participant.id,
            ProjectReview.judge_id == judge.id,
        )
    )
    created = review is None
    was: dict[str, Any] = {}
    if review is None:
        review = ProjectReview(
            programme_id=programme.id,
            module_slug=module.slug,
            participant_id=participant.id,
            judge_id=judge.id,
            submitted_at=now,
        )
        db.session.add(review)
    else:
        was = {"was_points": review.points, "was_criteria": review.criteria}
    review.criteria = criteria
    review.points = total
    review.max_points = top
    review.comment = text
    review.updated_at = now
    db.session.flush()
    audit.record(
        "project.reviewed" if created else "project.review_changed",
        "project_review",
        review.id,
        judge,
        programme=programme.slug,
        module=module.slug,
        participant_id=participant.id,
        points=total,
        max_points=top,
        criteria=criteria,
        **was,
    )
    progress.refresh([module], [participant.id])
    return Submitted(review, created)


def set_published(programme: Programme, published: bool, actor: Any) -> bool:
    """Show the project scores to participants (and lock the reviews), or hide them
    again (and unlock). Writes ``projects.published`` / ``projects.unpublished``.

    :return: False when the scores already were in that state (nothing changes,
        so a second click keeps the first publication time).
    """
    was = _lock_published_at(programme)
    if (was is not None) == published:
        return False
    programme.projects_published_at = clock.now() if published else None
    audit.record(
        f"projects.{'published' if published else 'unpublished'}",
        "programme",
        programme.id,
        actor,
        was_published_at=was.isoformat() if was else None,
    )
    return True


# -- Reading ------------------------------------------------------------------------


def reviews_of(
    programme: Programme, module: ProgrammeModule, participant_ids: list[int]
) -> dict[int, list[ProjectReview]]:
    """Participant id to their reviews in ``module``, oldest first."""
    out: dict[int, list[ProjectReview]] = {pid: [] for pid in participant_ids}
    if not participant_ids:
        return out
    for start in range(0, len(participant_ids), progress.BATCH):
        chunk = participant_ids[start : start + progress.BATCH]
        for review in db.session.scalars(
            select(ProjectReview)
            .where(
                ProjectReview.programme_id == programme.id,
                ProjectReview.module_slug == module.slug,
                ProjectReview.participant_id.in_(chunk),
            )
            .options(selectinload(ProjectReview.judge))
            .order_by(ProjectReview.submitted_at, ProjectReview.id)
        ):
            out[review.participant_id].append(review)
    return out


@dataclass(frozen=True)
class CriterionMean:
    criterion: str
    max: float
    #: The mean of the judges' points for this criterion.
    mean: float
    judges: int


def criterion_means(
    module: ProgrammeModule, reviews: list[ProjectReview]
) -> list[CriterionMean]:
    """Per criterion (rubric order; criteria only in older snapshots after), the
    mean of the points the judges gave out of the same maximum."""
    given: dict[tuple[str, float], list[float]] = {}
    for review in reviews:
        for item in review.criteria:
            key = (item["criterion"], float(item["max"]))
            given.setdefault(key, []).append(float(item["points"]))
    order = {item["criterion"]: i for i, item in enumerate(module.rubric)}
    keys = sorted(given, key=lambda k: (order.get(k[0], len(order)), k[0], k[1]))
    means = []
    for name, top in keys:
        values = given[(name, top)]
        means.append(CriterionMean(name, top, sum(values) / len(values), len(values)))
    return means


def mean_percent(reviews: list[ProjectReview]) -> float | None:
    """The project score: the mean of the reviews' percentages (None: unscored)."""
    if not reviews:
        return None
    return sum(r.percent for r in reviews) / len(reviews)


@dataclass(frozen=True)
class ReviewShown:
    """One review as staff see it."""

    judge_id: int | None
    judge: str
    is_mine: bool
    points: float
    max_points: float
    percent: float
    criteria: list[dict[str, Any]]
    comment: str | None
    updated_at: datetime


def _shown(review: ProjectReview, viewer: User) -> ReviewShown:
    return ReviewShown(
        judge_id=review.judge_id,
        judge=review.judge.name if review.judge is not None else "Former judge",
        is_mine=review.judge_id == viewer.id,
        points=review.points,
        max_points=review.max_points,
        percent=review.percent,
        criteria=list(review.criteria),
        comment=review.comment,
        updated_at=review.updated_at,
    )


@dataclass(frozen=True)
class Scorecard:
    """One participant's project scores as one viewer may see them.

    Built field by field: when the viewer may not see the other judges' work,
    ``reviews``, ``mean`` and ``criteria`` are empty, so no template can show it.
    """

    participant: Participant
    #: How many judges scored (shown to every judge).
    judges: int
    mine: ProjectReview | None
    sees_all: bool
    reviews: list[ReviewShown] = field(default_factory=list)
    mean: float | None = None
    criteria: list[CriterionMean] = field(default_factory=list)

    def of_judge(self, judge_id: int | None) -> ReviewShown | None:
        return next((r for r in self.reviews if r.judge_id == judge_id), None)


def may_see_all(viewer: User, mine: ProjectReview | None) -> bool:
    """Organisers and admins always; a judge once they scored the participant."""
    return viewer.has_role(*ORGANISERS) or mine is not None


def _card(
    module: ProgrammeModule,
    person: Participant,
    reviews: list[ProjectReview],
    viewer: User,
) -> Scorecard:
    mine = next((r for r in reviews if r.judge_id == viewer.id), None)
    if not may_see_all(viewer, mine):
        return Scorecard(person, len(reviews), mine, False)
    return Scorecard(
        person,
        len(reviews),
        mine,
        True,
        [_shown(r, viewer) for r in reviews],
        mean_percent(reviews),
        criterion_means(module, reviews),
    )


def scorecards(
    programme: Programme, module: ProgrammeModule, viewer: User
) -> list[Scorecard]:
    """Every cohort member's scorecard in ``module``, finalists first."""
    people = cohort.participants(programme)
    reviews = reviews_of(programme, module, [p.user.id for p in people])
    return [_card(module, p, reviews[p.user.id], viewer) for p in people]


def scorecard(
    programme: Programme, module: ProgrammeModule, person: Participant, viewer: User
) -> Scorecard:
    reviews = reviews_of(programme, module, [person.user.id])[person.user.id]
    return _card(module, person, reviews, viewer)


@dataclass(frozen=True)
class ModuleOverview:
    module: ProgrammeModule
    scored: int
    cohort: int


@dataclass(frozen=True)
class ProgrammeOverview:
    programme: Programme
    published_at: datetime | None
    modules: list[ModuleOverview]


def overview(judge: User) -> list[ProgrammeOverview]:
    """Programmes with a project module, by title; per module how many of the
    cohort ``judge`` has scored."""
    programmes = db.session.scalars(
        select(Programme)
        .where(Programme.modules.any(ProgrammeModule.is_project.is_(True)))
        .order_by(Programme.title, Programme.id)
    )
    out = []
    for programme in programmes:
        member_ids = db.session.scalars(
            cohort.cohort_query(programme).with_only_columns(User.id)
        ).all()
        mine: dict[str, int] = {}
        for slug in db.session.scalars(
            select(ProjectReview.module_slug).where(
                ProjectReview.programme_id == programme.id,
                ProjectReview.judge_id == judge.id,
                ProjectReview.participant_id.in_(member_ids),
            )
        ):
            mine[slug] = mine.get(slug, 0) + 1
        out.append(
            ProgrammeOverview(
                programme,
                programme.projects_published_at,
                [
                    ModuleOverview(m, mine.get(m.slug, 0), len(member_ids))
                    for m in project_modules(programme)
                ],
            )
        )
    return out


@dataclass(frozen=True)
class Board:
    """A project module's scores for the organiser: a column per judge."""

    module: ProgrammeModule
    judges: list[tuple[int | None, str]]
    cards: list[Scorecard]

    @property
    def scored(self) -> int:
        return sum(1 for card in self.cards if card.judges)


def boards(programme: Programme, viewer: User) -> list[Board]:
    """Every project module of ``programme`` with every participant's scores, as
    ``viewer`` (an organiser: everything) may see them."""
    out = []
    for module in project_modules(programme):
        cards = scorecards(programme, module, viewer)
        judges = {r.judge_id: r.judge for card in cards for r in card.reviews}
        out.append(
            Board(
                module,
                sorted(judges.items(), key=lambda j: (j[1].casefold(), j[0] or 0)),
                cards,
            )
        )
    return out


# -- The participant's view ---------------------------------------------------------


@dataclass(frozen=True)
class JudgeComment:
    #: "Judge 1", "Judge 2"... in the order the judges first submitted.
    label: str
    text: str


@dataclass(frozen=True)
class ModuleResults:
    module: ProgrammeModule
    #: The project score (mean of the judges' percentages); None: not scored.
    score: float | None
    judges: int
    criteria: list[CriterionMean]
    comments: list[JudgeComment]
    published_at: datetime


def published_results(
    programme: Programme, participant: User
) -> dict[str, ModuleResults] | None:
    """What ``participant`` may read of their project scores: None until the
    organiser publishes them; then, per project module slug, the per-criterion
    means, the project score and each judge's comment, signed "Judge N" (never by
    name). A module nobody scored has ``score`` None and no criteria."""
    published_at = programme.projects_published_at
    if published_at is None:
        return None
    out = {}
    for module in project_modules(programme):
        reviews = reviews_of(programme, module, [participant.id])[participant.id]
        out[module.slug] = ModuleResults(
            module=module,
            score=mean_percent(reviews),
            judges=len(reviews),
            criteria=criterion_means(module, reviews),
            comments=[
                JudgeComment(f"Judge {n}", review.comment)
                for n, review in enumerate(reviews, start=1)
                if review.comment
            ],
            published_at=published_at,
        )
    return out
