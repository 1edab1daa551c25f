"""Organiser pages of a programme: dashboard and charts, leaderboards and their CSV,
the shortlist and the finalists, quiz windows; and the candidate's public
leaderboard and consent."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import UTC

from flask import (
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from quizapp.accounts import services as accounts
from quizapp.accounts.models import (
    DISCIPLINES,
    GRADUATION_YEAR_MAX,
    GRADUATION_YEAR_MIN,
    STAFF_ROLES,
    Role,
    User,
    UserRole,
)
from quizapp.banks.models import Programme, Quiz
from quizapp.core import audit, clock
from quizapp.core.auth import role_required
from quizapp.core.errors import DomainError, form_status, pour_onto
from quizapp.delivery.views import quiz_or_404
from quizapp.extensions import db
from quizapp.programmes import bp, ranking, services
from quizapp.programmes.access import ORGANISERS, STAFF_READERS, programme_or_404
from quizapp.programmes.exports import csv_chunks
from quizapp.programmes.forms import (
    AddForm,
    ConsentForm,
    PickForm,
    PublishForm,
    RemoveForm,
    VisibilityForm,
    WeightsForm,
    WindowActionForm,
    WindowForm,
)
from quizapp.programmes.models import FINALISTS, SELECTED, SHORTLIST, WAITLISTED

PUBLIC_TOP = 10


# -- Dashboard ----------------------------------------------------------------------


@bp.get("/organise")
@role_required(*STAFF_READERS)
def index():
    """Every programme with its stage and the size of each list."""
    programmes = db.session.scalars(select(Programme).order_by(Programme.title)).all()
    now = clock.now()
    sizes = _list_sizes()
    return render_template(
        "programmes/index.html",
        rows=[
            (
                p,
                stage_of(p, sizes.get(p.id, {}), services.screening_state(p, now)),
                sizes.get(p.id, {}),
            )
            for p in programmes
        ],
    )


def _list_sizes() -> dict[int, dict[tuple[str, str], int]]:
    from quizapp.programmes.models import Selection

    out: dict[int, dict[tuple[str, str], int]] = {}
    for programme_id, stage, status, count in db.session.execute(
        select(
            Selection.programme_id, Selection.stage, Selection.status, func.count()
        ).group_by(Selection.programme_id, Selection.stage, Selection.status)
    ):
        out.setdefault(programme_id, {})[(stage, status)] = count
    return out


def stage_of(programme: Programme, sizes: dict[tuple[str, str], int], state: str):
    """Where the funnel is: screening (upcoming/open/closed), bootcamp, finals."""
    if sizes.get((FINALISTS, SELECTED)):
        return "finals"
    if sizes.get((SHORTLIST, SELECTED)):
        return "bootcamp"
    return f"screening {state}" if state != "none" else "no screening quiz"


@bp.get("/organise/programmes/<slug>")
@role_required(*STAFF_READERS)
def dashboard(slug: str):
    programme = programme_or_404(slug)
    now = clock.now()
    state = services.screening_state(programme, now)
    sizes = _list_sizes().get(programme.id, {})
    counts = _funnel_counts(programme, sizes)
    return render_template(
        "programmes/dashboard.html",
        programme=programme,
        stage=stage_of(programme, sizes, state),
        state=state,
        counts=counts,
        scores=_score_chart(programme),
        modules=_module_chart(programme),
    )


def _funnel_counts(programme: Programme, sizes) -> dict[str, int]:
    registered = db.session.scalar(
        select(func.count()).where(UserRole.role == Role.candidate)
    )
    started = submitted = 0
    if programme.screening_quiz is not None:
        started, submitted = ranking.started_count(programme.screening_quiz)
    return {
        "registered": registered,
        "started": started,
        "submitted": submitted,
        "shortlisted": sizes.get((SHORTLIST, SELECTED), 0),
        "waitlisted": sizes.get((SHORTLIST, WAITLISTED), 0),
        "finalists": sizes.get((FINALISTS, SELECTED), 0),
    }


def _score_chart(programme: Programme) -> dict:
    """Histogram of the screening's counting percentages, with the cut-off: the
    last shortlisted person's score, or where a top-N cut would fall today."""
    quiz = programme.screening_quiz
    if quiz is None:
        return {"label": "Screening score (%)", "bins": [], "cutoff": None}
    counts = ranking.distribution(quiz)
    width = 100 / len(counts)
    cutoff, label = None, None
    shortlisted = [
        s.score
        for s in services.members(programme, SHORTLIST, SELECTED)
        if s.score is not None
    ]
    if shortlisted:
        cutoff = min(shortlisted)
        label = f"Shortlist cut-off {cutoff:.1f}%"
    else:
        row = ranking.cut_off(quiz, programme.shortlist_size)
        if row is not None:
            cutoff = row.percent
            label = f"Top {programme.shortlist_size} today: {cutoff:.1f}%"
    return {
        "label": "Screening score (%)",
        "bins": [
            {"from": round(i * width, 1), "to": round((i + 1) * width, 1), "count": c}
            for i, c in enumerate(counts)
        ],
        "cutoff": round(cutoff, 2) if cutoff is not None else None,
        "cutoff_label": label,
    }


def _module_chart(programme: Programme) -> dict:
    """Per module: how many of the cohort completed it, are in progress, or have
    not started (the bootcamp's progress rules, docs/bootcamp.md)."""
    # Imported here: the bootcamp builds on this package, not the other way round.
    from quizapp.bootcamp.cohort import completion_counts

    cohort = services.cohort_ids(programme)
    categories, done, begun, untouched = completion_counts(programme, cohort)
    return {
        "label": "Module completion",
        "cohort": len(cohort),
        "categories": categories,
        "series": [
            {"name": "Completed", "values": done},
            {"name": "In progress", "values": begun},
            {"name": "Not started", "values": untouched},
        ],
    }


@bp.get("/organise/programmes/<slug>/charts/scores.json")
@role_required(*STAFF_READERS)
def score_chart(slug: str):
    return jsonify(_score_chart(programme_or_404(slug)))


@bp.get("/organise/programmes/<slug>/charts/modules.json")
@role_required(*STAFF_READERS)
def module_chart(slug: str):
    return jsonify(_module_chart(programme_or_404(slug)))


# -- Leaderboards -------------------------------------------------------------------


def _filters() -> ranking.Filters:
    args = request.args
    year = args.get("year", type=int)
    passed = {"yes": True, "no": False}.get(args.get("passed", ""))
    discipline = args.get("discipline") or None
    return ranking.Filters(
        discipline=discipline if discipline in DISCIPLINES else None,
        # (like an unknown discipline, a year nobody can have filters nothing)
        graduation_year=year
        if year is not None and GRADUATION_YEAR_MIN <= year <= GRADUATION_YEAR_MAX
        else None,
        passed=passed,
        search=(args.get("q") or "").strip()[: ranking.SEARCH_MAX] or None,
    )


def _leaderboard_page(quiz: Quiz, programme: Programme | None, template_args: dict):
    filters = _filters()
    page = ranking.leaderboard(
        quiz,
        filters,
        page=request.args.get("page", 1, type=int),
        per_page=request.args.get("per_page", ranking.PER_PAGE, type=int),
        programme_id=programme.id if programme else None,
    )
    if not page.rows and page.page > page.pages:
        return redirect(_with_args(page=page.pages))
    return render_template(
        "programmes/leaderboard.html",
        quiz=quiz,
        programme=programme,
        page=page,
        filters=filters,
        disciplines=DISCIPLINES,
        args={k: v for k, v in request.args.items() if k != "page"},
        visibility=VisibilityForm(),
        **template_args,
    )


def _with_args(**changes) -> str:
    args = {**request.args.to_dict(), **changes}
    return url_for(request.endpoint, **(request.view_args or {}), **args)


@bp.get("/organise/quizzes/<slug>/leaderboard")
@role_required(*STAFF_READERS)
def quiz_leaderboard(slug: str):
    quiz = quiz_or_404(slug)
    return _leaderboard_page(
        quiz,
        None,
        {"csv_url": url_for(".quiz_leaderboard_csv", slug=slug, **request.args)},
    )


@bp.get("/organise/programmes/<slug>/leaderboard")
@role_required(*STAFF_READERS)
def programme_leaderboard(slug: str):
    """The screening leaderboard with each candidate's shortlist status."""
    programme = _with_screening_or_404(slug)
    return _leaderboard_page(
        programme.screening_quiz,
        programme,
        {"csv_url": url_for(".programme_leaderboard_csv", slug=slug, **request.args)},
    )


CSV_HEADER = (
    "rank",
    "tied",
    "name",
    "email",
    "discipline",
    "school",
    "graduation_year",
    "score",
    "max_score",
    "percent",
    "seconds_used",
    "submitted_at",
    "passed",
    "attempts",
    "integrity_signals",
    "shortlist",
)


def csv_rows(rows: Iterator[ranking.Row]) -> Iterator[str]:
    records = (
        [
            row.rank,
            "yes" if row.tied else "no",
            row.name,
            row.email,
            row.discipline,
            row.school,
            row.graduation_year,
            f"{row.score:g}",
            f"{row.max_score:g}",
            f"{row.percent:.2f}",
            f"{row.seconds_used:.0f}",
            row.finished_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            {True: "yes", False: "no"}.get(row.passed, ""),
            row.attempts,
            row.signals,
            row.selection,
        ]
        for row in rows
    )
    header = csv_chunks([list(CSV_HEADER)])
    # name, email, discipline, school: what candidates typed.
    return itertools.chain(header, csv_chunks(records, text_columns=(2, 3, 4, 5)))


def streamed(make: Callable[[Session], Iterator[str]]) -> Iterator[str]:
    """Run ``make(session)`` while the response is sent: by then the request's
    context is gone, so the rows come through a session of their own, closed when
    the body ends (or the client goes away)."""
    engine = db.engine

    def generate() -> Iterator[str]:
        with Session(engine) as session:
            yield from make(session)

    return generate()


def _csv_response(quiz: Quiz, programme: Programme | None) -> Response:
    filters = _filters()
    stamp = clock.now().strftime("%Y%m%d-%H%M")
    name = f"{(programme or quiz).slug}-leaderboard-{stamp}.csv"
    programme_id = programme.id if programme else None
    return Response(
        streamed(
            lambda session: csv_rows(
                ranking.iter_rows(quiz, filters, programme_id, session=session)
            )
        ),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.get("/organise/quizzes/<slug>/leaderboard.csv")
@role_required(*STAFF_READERS)
def quiz_leaderboard_csv(slug: str):
    """Every row of the filtered leaderboard, streamed."""
    return _csv_response(quiz_or_404(slug), None)


@bp.get("/organise/programmes/<slug>/leaderboard.csv")
@role_required(*STAFF_READERS)
def programme_leaderboard_csv(slug: str):
    programme = _with_screening_or_404(slug)
    return _csv_response(programme.screening_quiz, programme)


def _with_screening_or_404(slug: str) -> Programme:
    programme = programme_or_404(slug)
    if programme.screening_quiz is None:
        abort(404)
    return programme


@bp.post("/organise/quizzes/<slug>/leaderboard/visibility")
@role_required(*ORGANISERS)
def leaderboard_visibility(slug: str):
    """Turn the candidates' view (own rank and the top 10 by name) on or off."""
    quiz = quiz_or_404(slug)
    form = VisibilityForm()
    if not form.validate_on_submit():
        abort(400)
    quiz.leaderboard_public = form.public.data == "on"
    audit.record(
        "quiz.leaderboard_public",
        "quiz",
        quiz.id,
        current_user,
        public=quiz.leaderboard_public,
    )
    db.session.commit()
    flash(
        "Candidates can now see their rank and the top 10."
        if quiz.leaderboard_public
        else "The leaderboard is hidden from candidates.",
        "success",
    )
    return redirect(request.referrer or url_for(".quiz_leaderboard", slug=slug))


@bp.get("/quizzes/<slug>/leaderboard")
@role_required(Role.candidate, *STAFF_ROLES)
def public_leaderboard(slug: str):
    """What a candidate may see when the organiser turned it on: the top 10 by name
    only, and their own rank. Staff may look at it too; partners may not (they see
    only the finalists who agreed to share their profile)."""
    quiz = quiz_or_404(slug)
    if not quiz.leaderboard_public:
        abort(404)
    top = ranking.top(quiz, PUBLIC_TOP)
    return render_template(
        "programmes/public_leaderboard.html",
        quiz=quiz,
        top=top,
        mine=ranking.rank_of(quiz, current_user.id),
        total=ranking.passed_counts(quiz)[0],
    )


# -- Shortlist and finalists --------------------------------------------------------

STAGE_PAGES = {SHORTLIST: ".shortlist", FINALISTS: ".finalists"}


def _by_hand(programme: Programme, stage: str, add: AddForm, remove: RemoveForm):
    """Handle the add and remove forms of a list page; a redirect once done."""
    action = request.form.get("form")
    if action == "add" and add.validate_on_submit():
        user = accounts.find_by_email(add.email.data)
        try:
            if user is None:
                raise DomainError("No account has this e-mail address.", field="email")
            services.add_by_hand(programme, stage, user, add.reason.data, current_user)
        except DomainError as error:
            pour_onto(add, error)
        else:
            db.session.commit()
            flash(f"{user.name} added.", "success")
            return redirect(url_for(STAGE_PAGES[stage], slug=programme.slug))
    if action in ("remove", "promote") and remove.validate_on_submit():
        user = db.session.get(User, _int(remove.user_id.data))
        change = services.remove_by_hand if action == "remove" else services.add_by_hand
        try:
            if user is None:
                raise DomainError("No such person on the list.")
            change(programme, stage, user, remove.reason.data, current_user)
        except DomainError as error:
            pour_onto(remove, error)
        else:
            db.session.commit()
            done = "taken off" if action == "remove" else "promoted from the waitlist"
            flash(f"{user.name} {done}.", "success")
            return redirect(url_for(STAGE_PAGES[stage], slug=programme.slug))
    return None


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _pick(programme: Programme, stage: str, form: PickForm):
    try:
        if stage == SHORTLIST:
            report = services.shortlist_top(
                programme, current_user, form.size.data, form.replace.data
            )
        else:
            report = services.select_finalists(
                programme, current_user, form.size.data, form.replace.data
            )
    except DomainError as error:
        pour_onto(form, error)
        return None
    db.session.commit()
    message = f"{report.selected} selected, {report.waitlisted} on the waitlist."
    if report.tied_below_cut:
        message += (
            f" {len(report.tied_below_cut)} tied with the last selected place and "
            "are first on the waitlist (the earlier registration went first)."
        )
    flash(message, "success")
    return redirect(url_for(STAGE_PAGES[stage], slug=programme.slug))


def _publish(programme: Programme, stage: str, form: PublishForm):
    services.set_published(programme, stage, form.publish.data == "on", current_user)
    db.session.commit()
    flash(
        "Candidates now see the outcome on their dashboard."
        if form.publish.data == "on"
        else "The outcome is hidden from candidates again.",
        "success",
    )
    return redirect(url_for(STAGE_PAGES[stage], slug=programme.slug))


def _list_page(programme: Programme, stage: str, default_size: int, extra: dict):
    pick = PickForm(prefix="pick", data={"size": default_size})
    add, remove = AddForm(prefix="add"), RemoveForm(prefix="remove")
    publish = PublishForm(prefix="publish")
    done = None
    if request.method == "POST":
        action = request.form.get("form")
        if action == "pick" and pick.validate_on_submit():
            done = _pick(programme, stage, pick)
        elif action == "publish" and publish.validate_on_submit():
            done = _publish(programme, stage, publish)
        elif action in ("add", "remove", "promote"):
            done = _by_hand(programme, stage, add, remove)
        elif action not in ("pick", "publish", "weights"):
            abort(400)
    if done is not None:
        return done
    forms = (pick, add, remove, publish, *extra.get("forms", ()))
    history = services.history(programme, stage)
    status = 422 if any(form_status(f) == 422 for f in forms) else 200
    return render_template(
        f"programmes/{stage}.html",
        programme=programme,
        members=services.members(programme, stage),
        history=history,
        people=audit.people_in(history),
        pick=pick,
        add=add,
        remove=remove,
        publish=publish,
        **extra,
    ), status


@bp.route("/organise/programmes/<slug>/shortlist", methods=["GET", "POST"])
@role_required(*ORGANISERS)
def shortlist(slug: str):
    programme = programme_or_404(slug)
    return _list_page(
        programme,
        SHORTLIST,
        programme.shortlist_size,
        {
            "state": services.screening_state(programme, clock.now()),
            "waitlist": services.waitlist_size(programme.shortlist_size),
        },
    )


@bp.route("/organise/programmes/<slug>/finalists", methods=["GET", "POST"])
@role_required(*ORGANISERS)
def finalists(slug: str):
    programme = programme_or_404(slug)
    weights = WeightsForm(
        prefix="weights",
        data={
            "weight_screening": programme.weight_screening,
            "weight_modules": programme.weight_modules,
            "weight_project": programme.weight_project,
        },
    )
    if request.form.get("form") == "weights" and weights.validate_on_submit():
        try:
            services.set_weights(
                programme,
                float(weights.weight_screening.data or 0),
                float(weights.weight_modules.data or 0),
                float(weights.weight_project.data or 0),
                current_user,
            )
        except DomainError as error:
            pour_onto(weights, error)
        else:
            db.session.commit()
            flash("Weights saved; the ranking below uses them.", "success")
            return redirect(url_for(".finalists", slug=slug))
    return _list_page(
        programme,
        FINALISTS,
        programme.finalist_count,
        {
            "ranking": services.cohort_ranking(programme),
            "weights": weights,
            "forms": (weights,),
            "waitlist": services.waitlist_size(programme.finalist_count),
        },
    )


# -- Quiz windows -------------------------------------------------------------------


@bp.route("/organise/quizzes/<slug>/window", methods=["GET", "POST"])
@role_required(*ORGANISERS)
def window(slug: str):
    """Open, close or extend a quiz's window; the files' window stays on record."""
    quiz = quiz_or_404(slug)
    form = WindowForm(
        prefix="window",
        data={
            "opens_at": clock.to_local(quiz.opens_at),
            "closes_at": clock.to_local(quiz.closes_at),
        },
    )
    action = WindowActionForm(prefix="quick")
    if request.method == "POST":
        saved = _save_window(quiz, form, action)
        if saved is not None:
            return saved
    running, latest = services.running_attempts(quiz)
    return render_template(
        "programmes/window.html",
        quiz=quiz,
        form=form,
        action=action,
        running=running,
        latest=latest,
        now=clock.now(),
        events=services.window_history(quiz),
    ), form_status(form)


def _save_window(quiz: Quiz, form: WindowForm, action: WindowActionForm):
    """Apply the form the page posted: the window's dates, or a quick action. The
    redirect once saved; None to show the page again with the form's errors.

    :raise 400: a post from neither form, or a quick action none of its buttons
        sends.
    """
    posted = request.form.get("form")
    if posted == "quick":
        if not action.validate_on_submit():
            abort(400)
        services.WINDOW_ACTIONS[action.action.data](quiz, current_user)
    elif posted == "window":
        if not form.validate_on_submit():
            return None
        try:
            services.set_window(
                quiz,
                clock.from_local(form.opens_at.data),
                clock.from_local(form.closes_at.data),
                current_user,
                form.reason.data,
            )
        except DomainError as error:
            pour_onto(form, error)
            return None
    else:
        abort(400)
    db.session.commit()
    flash("Window saved; attempts in progress follow it.", "success")
    return redirect(url_for(".window", slug=quiz.slug))


# -- Candidate's side ---------------------------------------------------------------


@bp.post("/programmes/<slug>/consent")
@role_required(Role.candidate)
def consent(slug: str):
    """A finalist agrees to (or stops) sharing their profile with partners."""
    programme = programme_or_404(slug)
    form = ConsentForm()
    if not form.validate_on_submit():
        abort(400)
    give = form.give.data == "yes"
    try:
        services.set_consent(programme, current_user, give)
    except DomainError:
        abort(404)
    db.session.commit()
    flash(
        "Thank you: partner companies can now see your profile and scores."
        if give
        else "Partner companies no longer see your profile.",
        "success",
    )
    return redirect(url_for("home.index"))
