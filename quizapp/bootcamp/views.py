"""Progress pages: the participant's own view of a programme, the cohort grid (and
its CSV) for instructors and organisers, and one participant's page for staff."""

from __future__ import annotations

from flask import Response, abort, render_template, request
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from quizapp.banks.models import Programme
from quizapp.bootcamp import bp, certificates, cohort, judging, progress
from quizapp.bootcamp.access import STAFF_READERS
from quizapp.bootcamp.models import STATE_LABELS
from quizapp.core import clock
from quizapp.core.auth import role_required, signed_in
from quizapp.delivery import services as delivery
from quizapp.delivery.models import Attempt
from quizapp.extensions import db
from quizapp.programmes import services as programmes
from quizapp.programmes.access import programme_or_404
from quizapp.programmes.exports import csv_chunks


def _participant_or_404(programme: Programme, user_id: int) -> cohort.Participant:
    return cohort.cohort_member(programme, user_id) or abort(404)


def _page_context(programme: Programme, person: cohort.Participant) -> dict:
    """What both the participant's page and the staff's copy of it show."""
    return {
        "programme": programme,
        "participant": person.user,
        "progress": progress.of_participant(programme, person.user.id),
        "finalist": person.is_finalist,
        "project_results": judging.published_results(programme, person.user),
        "certificates": [
            c
            for c in certificates.of_user(person.user.id)
            if c.programme_id == programme.id
        ],
        "labels": STATE_LABELS,
        "cell_score": cohort.cell_score,
    }


@bp.get("/programmes/<slug>/progress")
@signed_in
def my_progress(slug: str):
    """The participant's modules in order: status, best scores, what is left and
    the next assessment to take. Only for the cohort (anyone else: 404)."""
    programme = programme_or_404(slug)
    if programme.shortlist_published_at is None:
        abort(404)  # Nobody is told they are in before the shortlist is out.
    person = _participant_or_404(programme, current_user.id)
    context = _page_context(programme, person)
    now = clock.now()
    # A module quiz whose results are not out yet shows no score here either.
    context["held_back"] = {
        a.quiz.id
        for m in context["progress"].modules
        for a in m.assessments
        if not delivery.results_released(a.quiz, now)
    }
    return render_template("bootcamp/my_progress.html", **context)


@bp.get("/organise/programmes/<slug>/progress")
@role_required(*STAFF_READERS)
def cohort_grid(slug: str):
    """Participants by modules, each cell coloured by status with its score."""
    programme = programme_or_404(slug)
    sort = request.args.get("sort", cohort.SORT_NAME)
    rows = cohort.grid(programme, sort)
    return render_template(
        "bootcamp/cohort.html",
        programme=programme,
        rows=rows,
        totals=cohort.totals(programme, rows),
        sort=sort,
        sort_options=cohort.sort_options(programme),
        labels=STATE_LABELS,
        cell_score=cohort.cell_score,
    )


@bp.get("/organise/programmes/<slug>/progress.csv")
@role_required(*STAFF_READERS)
def cohort_csv(slug: str):
    programme = programme_or_404(slug)
    rows = cohort.grid(programme, request.args.get("sort", cohort.SORT_NAME))
    stamp = clock.now().strftime("%Y%m%d-%H%M")
    return Response(
        # Every typed cell already went through safe_cell.
        "".join(csv_chunks(cohort.csv_rows(programme, rows), text_columns=())),
        mimetype="text/csv",
        headers={
            "Content-Disposition": (
                f'attachment; filename="{programme.slug}-progress-{stamp}.csv"'
            )
        },
    )


@bp.get("/organise/programmes/<slug>/participants/<int:user_id>")
@role_required(*STAFF_READERS)
def participant(slug: str, user_id: int):
    """One participant's progress as they see it, with their attempts at the
    programme's assessments (each linked to the attempt's staff page)."""
    programme = programme_or_404(slug)
    person = _participant_or_404(programme, user_id)
    quiz_ids = programmes.assessment_ids(programme)
    attempts = db.session.scalars(
        select(Attempt)
        .where(Attempt.user_id == user_id, Attempt.quiz_id.in_(quiz_ids))
        .options(selectinload(Attempt.quiz))
        .order_by(Attempt.started_at.desc(), Attempt.id.desc())
    ).all()
    return render_template(
        "bootcamp/participant.html",
        attempts=attempts,
        **_page_context(programme, person),
    )
