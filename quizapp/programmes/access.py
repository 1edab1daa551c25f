"""Who may see what on the organiser's side, and loading its objects."""

from __future__ import annotations

from flask import abort
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from quizapp.accounts.models import Role
from quizapp.banks.models import ModuleAssessment, Programme, ProgrammeModule
from quizapp.extensions import db

#: Run programmes: dashboards, leaderboards, lists, windows, partners, exports.
ORGANISERS = (Role.organiser, Role.admin)
#: May read leaderboards and the cohort (instructors follow their modules).
STAFF_READERS = (Role.organiser, Role.admin, Role.instructor)


def programme_or_404(slug: str) -> Programme:
    programme = db.session.scalar(
        select(Programme)
        .where(Programme.slug == slug)
        .options(
            selectinload(Programme.screening_quiz),
            selectinload(Programme.modules)
            .selectinload(ProgrammeModule.assessments)
            .selectinload(ModuleAssessment.quiz),
        )
    )
    if programme is None:
        abort(404)
    return programme
