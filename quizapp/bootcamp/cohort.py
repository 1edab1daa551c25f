"""The cohort grid: every participant by every module, with status and score, sorted
as asked; and the same as CSV rows."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import select

from quizapp.accounts.models import User
from quizapp.banks.models import Programme, ProgrammeModule
from quizapp.bootcamp import progress
from quizapp.bootcamp.models import COMPLETED, IN_PROGRESS, STATE_LABELS
from quizapp.extensions import db
from quizapp.programmes.exports import safe_cell
from quizapp.programmes.models import FINALISTS, SELECTED, SHORTLIST, Selection

#: Sort keys besides a module's slug.
SORT_NAME = "name"
SORT_COMPLETED = "completed"
_STATUS_ORDER = {COMPLETED: 0, IN_PROGRESS: 1}


def cell_score(status: progress.ModuleStatus) -> float | None:
    """What a cell shows: the project score for a project module, else the mean of
    the best percentages over the module's assessments (one not taken counts 0);
    None when nothing is scored yet."""
    if status.module.is_project and status.project_score is not None:
        return status.project_score
    taken = [a.best for a in status.assessments if a.best is not None]
    if not taken:
        return None
    return sum(taken) / len(status.assessments)


# -- Who is in the cohort -----------------------------------------------------------


@dataclass(frozen=True)
class Participant:
    user: User
    is_finalist: bool


def finalist_ids(programme: Programme) -> set[int]:
    return set(
        db.session.scalars(
            select(Selection.user_id).where(
                Selection.programme_id == programme.id,
                Selection.stage == FINALISTS,
                Selection.status == SELECTED,
            )
        )
    )


def cohort_query(programme: Programme):
    return (
        select(User)
        .join(Selection, Selection.user_id == User.id)
        .where(
            Selection.programme_id == programme.id,
            Selection.stage == SHORTLIST,
            Selection.status == SELECTED,
        )
    )


def participants(programme: Programme) -> list[Participant]:
    """The cohort: finalists first, then by name (ties by account id)."""
    finalists = finalist_ids(programme)
    people = [
        Participant(user, user.id in finalists)
        for user in db.session.scalars(cohort_query(programme))
    ]
    return sorted(
        people, key=lambda p: (not p.is_finalist, p.user.name.casefold(), p.user.id)
    )


def cohort_member(programme: Programme, user_id: int) -> Participant | None:
    """``user_id`` as a member of the cohort, or None when they are not in it."""
    user = db.session.scalar(cohort_query(programme).where(User.id == user_id))
    if user is None:
        return None
    return Participant(user, user.id in finalist_ids(programme))


# -- The grid -----------------------------------------------------------------------


@dataclass(frozen=True)
class GridRow:
    user: User
    finalist: bool
    progress: progress.ParticipantProgress

    def status(self, module: ProgrammeModule) -> progress.ModuleStatus:
        return next(m for m in self.progress.modules if m.module.id == module.id)


def _sort_key(sort: str, programme: Programme):
    if sort == SORT_COMPLETED:
        return lambda row: (-row.progress.completed, row.user.name.casefold())
    module = next((m for m in programme.modules if m.slug == sort), None)
    if module is None:
        return lambda row: (row.user.name.casefold(), row.user.id)

    def by_module(row: GridRow):
        status = row.status(module)
        score = cell_score(status)
        return (
            _STATUS_ORDER.get(status.status, 2),
            -(score if score is not None else -1.0),
            row.user.name.casefold(),
        )

    return by_module


def sort_options(programme: Programme) -> list[tuple[str, str]]:
    return [
        (SORT_NAME, "Name"),
        (SORT_COMPLETED, "Modules completed"),
        *((m.slug, m.title) for m in programme.modules),
    ]


def grid(programme: Programme, sort: str = SORT_NAME) -> list[GridRow]:
    """The cohort (selected on the shortlist), a fixed number of queries."""
    people = participants(programme)
    states = progress.of_participants(programme, [p.user.id for p in people])
    rows = [GridRow(p.user, p.is_finalist, states[p.user.id]) for p in people]
    rows.sort(key=_sort_key(sort, programme))
    return rows


def totals(programme: Programme, rows: list[GridRow]) -> dict[int, int]:
    """Per module id: how many completed it."""
    return {
        m.id: sum(1 for r in rows if r.status(m).status == COMPLETED)
        for m in programme.modules
    }


def csv_rows(programme: Programme, rows: list[GridRow]) -> Iterator[list[str]]:
    """Header, then one line per participant: name, e-mail, finalist, modules
    completed, and a status and a score column per module."""
    header = ["name", "email", "finalist", "modules_completed", "certificate_ready"]
    for module in programme.modules:
        header += [f"{module.slug}_status", f"{module.slug}_score"]
    yield header
    for row in rows:
        line = [
            safe_cell(row.user.name),
            safe_cell(row.user.email),
            "yes" if row.finalist else "no",
            f"{row.progress.completed}/{len(programme.modules)}",
            "yes" if row.progress.is_complete else "no",
        ]
        for status in row.progress.modules:
            score = cell_score(status)
            line += [
                STATE_LABELS[status.status],
                "" if score is None else f"{score:.1f}",
            ]
        yield line


def completion_counts(
    programme: Programme, user_ids: list[int]
) -> tuple[list[str], list[int], list[int], list[int]]:
    """Module titles and, per module, how many of ``user_ids`` completed it, are in
    progress, and have not started (the dashboard's chart)."""
    states = progress.of_participants(programme, user_ids)
    titles, done, begun, untouched = [], [], [], []
    for position, module in enumerate(programme.modules):
        counted = [states[u].modules[position].status for u in user_ids]
        titles.append(module.title)
        done.append(counted.count(COMPLETED))
        begun.append(counted.count(IN_PROGRESS))
        untouched.append(len(counted) - done[-1] - begun[-1])
    return titles, done, begun, untouched


def participations(user: User) -> list[progress.ParticipantProgress]:
    """The programmes whose published cohort ``user`` is in, with their progress
    (the home dashboard)."""
    programme_list = db.session.scalars(
        select(Programme)
        .join(Selection, Selection.programme_id == Programme.id)
        .where(
            Selection.user_id == user.id,
            Selection.stage == SHORTLIST,
            Selection.status == SELECTED,
            Programme.shortlist_published_at.is_not(None),
        )
        .order_by(Programme.title)
    ).all()
    return [progress.of_participant(p, user.id) for p in programme_list]
