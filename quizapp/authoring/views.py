"""Question editors: find, create, edit, preview; image uploads.

Instructors and admins only. Organisers read banks (``banks.*``) but do not edit
questions: content belongs to the instructors who answer for it.

One editor page per type. Its buttons share the form, told apart by ``action``:
``save``; ``preview`` and ``sample`` (the preview, or another sample of it, for
browsers without script); ``upload`` (keep the chosen image and say how to show
it). With script, ``static/js/authoring.js`` sends the form to :func:`preview` as
it changes and uploads through :func:`upload_asset`.
"""

from __future__ import annotations

from flask import (
    abort,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select

from quizapp.accounts.models import Role
from quizapp.authoring import bp, presenters, queries, services
from quizapp.authoring.forms import FORMS, QuestionForm, initial_data
from quizapp.banks import schema
from quizapp.banks.export import question_yaml
from quizapp.banks.models import AssetBlob, Bank, Question
from quizapp.core.auth import role_required
from quizapp.core.errors import DomainError, pour_onto
from quizapp.extensions import db

EDITORS = (Role.instructor, Role.admin)


def _bank_or_404(slug: str) -> Bank:
    bank = db.session.scalar(select(Bank).where(Bank.slug == slug))
    return bank if bank is not None else abort(404)


def _question_or_404(bank: Bank, key: str) -> Question:
    question = db.session.scalar(
        select(Question).where(Question.bank_id == bank.id, Question.key == key)
    )
    if question is None or question.current_version is None:
        abort(404)
    return question


def _form_class(kind: str) -> type[QuestionForm]:
    return FORMS.get(kind) or abort(404)


def _arg(name: str, allowed: tuple[str, ...] | None = None, size: int = 64) -> str:
    value = request.args.get(name, "").strip()[:size]
    return value if allowed is None or value in allowed else ""


@bp.get("/authoring")
@role_required(*EDITORS)
def index():
    """Every bank's questions, searched and filtered; links to the editors."""
    filters = queries.Filters(
        q=_arg("q", size=100),
        bank=_arg("bank"),
        type=_arg("type", schema.QUESTION_TYPES),
        tag=_arg("tag"),
        difficulty=_arg("difficulty", ("easy", "medium", "hard")),
        module=_arg("module"),
        show=_arg("show", ("live", "retired", "all")) or "live",
    )
    rows = queries.find_questions(filters)
    return render_template(
        "authoring/index.html",
        filters=filters,
        rows=rows[: queries.LIMIT],
        more=len(rows) > queries.LIMIT,
        banks=list(db.session.scalars(select(Bank).order_by(Bank.slug))),
        modules=queries.modules(),
        tags=sorted({tag for row in rows for tag in row.version.tags}),
        types=schema.QUESTION_TYPES,
        forms=FORMS,
    )


@bp.get("/authoring/banks/<slug>/new")
@role_required(*EDITORS)
def choose_type(slug: str):
    """Pick the type of a new question."""
    return render_template(
        "authoring/choose_type.html", bank=_bank_or_404(slug), forms=FORMS
    )


@bp.route("/authoring/banks/<slug>/new/<kind>", methods=["GET", "POST"])
@role_required(*EDITORS)
def new_question(slug: str, kind: str):
    """The editor of a new question of type ``kind``; saving creates version 1."""
    bank = _bank_or_404(slug)
    form_class = _form_class(kind)
    form = form_class() if request.method == "POST" else form_class(formdata=None)
    return _editor(bank, form, None)


@bp.route("/authoring/banks/<slug>/questions/<key>/edit", methods=["GET", "POST"])
@role_required(*EDITORS)
def edit_question(slug: str, key: str):
    """The editor of a question; saving adds a version, never changes one."""
    bank = _bank_or_404(slug)
    question = _question_or_404(bank, key)
    content = question.current_version.content
    form_class = _form_class(content["type"])
    if request.method == "POST":
        form = form_class()
    else:
        form = form_class(data=initial_data(question_yaml(content, bank)))
    return _editor(bank, form, question)


def _editor(bank: Bank, form: QuestionForm, question: Question | None):
    """GET: show; POST: upload, preview or save, by the button pressed."""
    if request.method == "GET":
        return _page(bank, form, question)
    if not form.validate_on_submit():
        return _page(bank, form, question), 422
    action = request.form.get("action", "save")
    if action == "upload":
        return _upload_in_form(bank, form, question)
    data = form.question_data(question.key if question else None)
    if action in ("preview", "sample"):
        with_key = request.form.get("show_key") == "1"
        preview = _preview(bank, form, data, question, action == "sample", with_key)
        return _page(bank, form, question, preview), 422 if _errors(form) else 200
    try:
        if form.row_problems:  # a row was left out of the data: never save that
            raise services.InvalidQuestion([])
        saved = services.save_question(bank, data, current_user, question)
    except services.InvalidQuestion as error:
        form.show(error.problems + form.row_problems)
        return _page(bank, form, question), 422
    except DomainError as error:
        pour_onto(form, error)
        return _page(bank, form, question), 422
    db.session.commit()
    if saved.version is None:
        flash("Nothing changed: the current version already says this.", "info")
    else:
        flash(f"Saved as version {saved.version.number}.", "success")
    return redirect(url_for("banks.question", slug=bank.slug, key=saved.question.key))


def _preview(
    bank: Bank,
    form: QuestionForm,
    data: dict,
    question: Question | None,
    bump: bool = False,
    with_key: bool = False,
) -> presenters.Preview | None:
    """The draft's preview, or None (its problems are put on the form)."""
    sample = (form.sample.data or "1").strip()
    sample_number = (int(sample) if sample.isdigit() else 1) + (1 if bump else 0)
    form.sample.data = str(sample_number)
    model, assets, problems = services.validate(bank, data, question)
    if model is None or form.row_problems:
        form.show(problems + form.row_problems)
        return None
    content, _ = services.canonical(bank, model, assets)
    return presenters.draft_preview(bank, content, assets, sample_number, with_key)


def _upload_in_form(bank: Bank, form: QuestionForm, question: Question | None):
    """The no-script upload: keep the image, show the editor again with its name."""
    try:
        reference = services.store_upload(*_uploaded())
    except DomainError as error:
        pour_onto(form, error)
        return _page(bank, form, question), 422
    db.session.commit()
    return _page(bank, form, question, uploaded=reference)


def _uploaded() -> tuple[str, bytes]:
    """The name and bytes of the ``image`` file sent, read at most one byte past
    the limit (the checker's), and closed."""
    upload = request.files.get("image")
    if upload is None:
        return "", b""
    with upload.stream as stream:
        return upload.filename or "", stream.read(services.MAX_ASSET_BYTES + 1)


def _page(
    bank: Bank,
    form: QuestionForm,
    question: Question | None,
    preview: presenters.Preview | None = None,
    uploaded: str | None = None,
):
    return render_template(
        "authoring/editor.html",
        bank=bank,
        form=form.with_spare_rows(),
        question=question,
        preview=preview,
        uploaded=uploaded,
        uses=queries.quizzes_using(question) if question else [],
    )


@bp.post("/authoring/banks/<slug>/preview/<kind>")
@role_required(*EDITORS)
def preview(slug: str, kind: str):
    """JSON for the live preview: ``{html, errors, sample}``, ``errors`` keyed by
    field name like the form's (``choices-1-text``; ``""`` for the whole form).

    ``?key=`` names the question being edited; ``show_key=1`` in the form adds
    the answer key (staff only, like the whole editor).
    """
    bank = _bank_or_404(slug)
    form = _form_class(kind)()
    question = (
        _question_or_404(bank, request.args["key"]) if "key" in request.args else None
    )
    if not form.validate_on_submit():
        return jsonify(errors={"": ["The form expired: reload the page."]}), 400
    data = form.question_data(question.key if question else None)
    with_key = request.form.get("show_key") == "1"
    result = _preview(bank, form, data, question, with_key=with_key)
    errors = _errors(form)
    html = render_template("authoring/_preview.html", preview=result, form=form)
    # 200 with the problems: the preview worked, the draft is what is wrong.
    return jsonify(html=html, errors=errors, sample=int(form.sample.data))


def _errors(form: QuestionForm) -> dict[str, list[str]]:
    out = {name: list(messages) for name, messages in form.list_errors.items()}
    if form.form_errors:
        out.setdefault("", []).extend(form.form_errors)
    for name, field in form.leaves():
        if field.errors:
            out[name] = list(field.errors)
    return out


@bp.post("/authoring/banks/<slug>/assets")
@role_required(*EDITORS)
def upload_asset(slug: str):
    """Keep an uploaded image; JSON ``{reference, markdown}`` (400 with ``error``)."""
    _bank_or_404(slug)
    try:
        reference = services.store_upload(*_uploaded())
    except DomainError as error:
        return jsonify(error=error.message), 400
    db.session.commit()
    alt = reference.rsplit("/", 1)[-1].rsplit("-", 1)[0]
    return jsonify(reference=reference, markdown=f"![{alt}]({reference})")


@bp.get("/authoring/banks/<slug>/assets/<path:path>")
@role_required(*EDITORS)
def draft_asset(slug: str, path: str):
    """An image a draft refers to (a bank image or an upload), for the preview."""
    bank = _bank_or_404(slug)
    digest = services.resolve_asset(path, services.bank_assets(bank))
    blob = db.session.get(AssetBlob, digest) if digest else None
    if blob is None:
        abort(404)
    response = make_response(blob.data)
    response.mimetype = blob.media_type
    response.headers["Cache-Control"] = "private, no-cache"
    # An SVG opened on its own must not run script in our origin.
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    )
    response.headers["Content-Disposition"] = "inline"
    return response
