"""Staff pages for banks, questions and previews; the access-checked asset route."""

from __future__ import annotations

from flask import abort, make_response, render_template, request
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from quizapp import grading
from quizapp.accounts.models import STAFF_ROLES
from quizapp.banks import bp, queries, schema
from quizapp.banks.access import may_view_version
from quizapp.banks.models import (
    AssetBlob,
    Bank,
    ModuleAssessment,
    Programme,
    ProgrammeModule,
    Question,
    QuestionVersion,
)
from quizapp.banks.presenters import answer_key, present
from quizapp.core.auth import role_required, signed_in
from quizapp.extensions import db

#: The sample shown first; "New sample" picks another, up to this many.
MAX_SAMPLE = 1_000_000


@bp.get("/banks")
@role_required(*STAFF_ROLES)
def index():
    """Every bank with its live and retired question counts; quizzes; programmes."""
    programmes = db.session.scalars(
        select(Programme)
        .order_by(Programme.slug)
        .options(
            selectinload(Programme.screening_quiz),
            selectinload(Programme.modules)
            .selectinload(ProgrammeModule.assessments)
            .selectinload(ModuleAssessment.quiz),
        )
    )
    return render_template(
        "banks/index.html",
        banks=queries.bank_rows(),
        quizzes=queries.quizzes(),
        programmes=list(programmes),
    )


def _bank_or_404(slug: str) -> Bank:
    bank = db.session.scalar(select(Bank).where(Bank.slug == slug))
    if bank is None:
        abort(404)
    return bank


def _choice(name: str, allowed: tuple[str, ...]) -> str:
    value = request.args.get(name, "")
    return value if value in allowed else ""


@bp.get("/banks/<slug>")
@role_required(*STAFF_ROLES)
def bank(slug: str):
    """The bank's questions, filtered by type, difficulty, tag, text and status."""
    bank = _bank_or_404(slug)
    filters = queries.Filters(
        q=request.args.get("q", "").strip()[:100],
        type=_choice("type", schema.QUESTION_TYPES),
        difficulty=_choice("difficulty", ("easy", "medium", "hard")),
        tag=request.args.get("tag", "").strip()[:64],
        show=_choice("show", ("live", "retired", "all")) or "live",
    )
    rows = queries.bank_questions(bank, filters)
    tags = sorted({tag for _, version in rows for tag in version.tags})
    return render_template(
        "banks/bank.html",
        bank=bank,
        rows=rows,
        filters=filters,
        tags=tags,
        types=schema.QUESTION_TYPES,
    )


@bp.get("/banks/<slug>/questions/<key>")
@role_required(*STAFF_ROLES)
def question(slug: str, key: str):
    """A question as a candidate sees it (a sample variant), its key and versions.

    ``?v=N`` shows version N; ``?sample=N`` another draw of its parameters.
    """
    bank = _bank_or_404(slug)
    question = db.session.scalar(
        select(Question).where(Question.bank_id == bank.id, Question.key == key)
    )
    if question is None:
        abort(404)
    number = request.args.get("v", type=int)
    version = (
        next((v for v in question.versions if v.number == number), None)
        if number
        else question.current_version
    )
    if version is None:
        abort(404)
    sample = min(max(request.args.get("sample", 1, type=int), 1), MAX_SAMPLE)
    seed = f"preview:{sample}"
    values = grading.draw_params(version.content["params"], seed)
    return render_template(
        "banks/question.html",
        bank=bank,
        question=question,
        version=version,
        view=present(version, values, seed),
        key=answer_key(version, values),
        values=values,
        sample=sample,
        next_sample=sample % MAX_SAMPLE + 1,
    )


@bp.get("/questions/v<int:version_id>/assets/<path:path>")
@signed_in
def asset(version_id: int, path: str):
    """An image of a question version, to those who may see the version.

    :raise 404: for a version the viewer may not see, as for a missing one.
    """
    version = db.session.get(QuestionVersion, version_id)
    if version is None or not may_view_version(current_user, version):
        abort(404)
    digest = version.assets.get(path)
    blob = db.session.get(AssetBlob, digest) if digest else None
    if blob is None:
        abort(404)
    response = make_response(blob.data)
    response.mimetype = blob.media_type
    # A version's images never change, so the browser may keep them; "private"
    # because they are not for shared caches.
    response.headers["Cache-Control"] = "private, max-age=31536000, immutable"
    # An SVG opened on its own must not run script in our origin.
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    )
    response.headers["Content-Disposition"] = "inline"
    return response
