"""The candidate's pages: quiz intro, start, one question per page or all on one,
review and submit, results. Every page works with plain form posts; the timer and
autosave script (static/js/attempt.js) only improve on them."""

from __future__ import annotations

import secrets

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy import select

from quizapp.accounts.models import Role
from quizapp.banks.models import Quiz
from quizapp.core import clock
from quizapp.core.auth import role_required
from quizapp.core.errors import DomainError
from quizapp.delivery import bp, presenters, queries, responses, services
from quizapp.delivery.forms import AttemptForm
from quizapp.delivery.models import TIMED_OUT, Attempt
from quizapp.extensions import db

TIME_UP = "Time is up. Your saved answers were submitted."
ALREADY_SUBMITTED = "This attempt has already been submitted."


def quiz_or_404(slug: str) -> Quiz:
    quiz = db.session.scalar(select(Quiz).where(Quiz.slug == slug))
    if quiz is None:
        abort(404)
    return quiz


def own_attempt_or_404(attempt_id: int) -> Attempt:
    """The signed-in candidate's attempt, finalized first if its time ran out. A
    post (every one of them writes) reads it with its row locked.

    :raise 404: for a missing attempt or someone else's.
    """
    attempt = services.load_attempt(
        attempt_id, current_user.id, for_update=request.method == "POST"
    )
    if attempt is None:
        abort(404)
    if services.finalize_if_expired(attempt, clock.now()):
        db.session.commit()
    return attempt


def running_attempt_or_result(attempt_id: int, posted: bool = False) -> Attempt:
    """The candidate's running attempt; once it has ended, every attempt page sends
    them to its result (a form post says why). ``posted``: check the CSRF token.

    :raise 404: for a missing attempt or someone else's.
    :raise 400: a post without a valid CSRF token.
    """
    attempt = own_attempt_or_404(attempt_id)
    if posted and not AttemptForm().validate_on_submit():
        abort(400)
    if attempt.is_finalized:
        abort(_to_result(attempt, posted))
    return attempt


def _to_result(attempt: Attempt, explain: bool):
    if explain:
        timed_out = attempt.finish_reason == TIMED_OUT
        flash(TIME_UP if timed_out else ALREADY_SUBMITTED, "warning")
    return redirect(url_for("delivery.result", attempt_id=attempt.id))


def origin(channel: str) -> services.Origin:
    """Where this request comes from; the browser session id is made on first use."""
    browser = session.setdefault("browser_session", secrets.token_hex(8))
    return services.Origin(
        channel, browser, request.remote_addr, request.user_agent.string
    )


@bp.get("/quizzes")
@role_required(Role.candidate)
def dashboard():
    """The quizzes open to the candidate, upcoming ones, and past results."""
    return render_template(
        "delivery/dashboard.html",
        rows=queries.dashboard_rows(current_user.id, clock.now()),
    )


@bp.get("/quizzes/<slug>")
@role_required(Role.candidate)
def intro(slug: str):
    """Title, description, time, questions, rules; Start or Resume."""
    quiz = quiz_or_404(slug)
    now = clock.now()
    return render_template(
        "delivery/intro.html",
        quiz=quiz,
        state=services.availability(current_user.id, quiz, now),
        question_count=queries.question_count(quiz),
        past=queries.past_attempts(current_user.id, quiz, now),
        form=AttemptForm(),
    )


@bp.post("/quizzes/<slug>/start")
@role_required(Role.candidate)
def start(slug: str):
    """Start (or resume: a double click gives the same attempt)."""
    quiz = quiz_or_404(slug)
    if not AttemptForm().validate_on_submit():
        abort(400)
    request_origin = origin("form")
    attempt = services.start_attempt(
        current_user, quiz, clock.now(), request_origin.ip, request_origin.agent
    )
    attempt_id = attempt.id  # read before the commit expires it (a reload)
    db.session.commit()
    return redirect(url_for("delivery.question", attempt_id=attempt_id, position=1))


@bp.get("/attempts/<int:attempt_id>")
@role_required(Role.candidate)
def resume(attempt_id: int):
    """Back into a running attempt at its first unanswered question; a finished
    one shows its result page."""
    attempt = running_attempt_or_result(attempt_id)
    unanswered = [item.position for item in attempt.items if not item.is_answered]
    position = unanswered[0] if unanswered else 1
    return redirect(
        url_for("delivery.question", attempt_id=attempt.id, position=position)
    )


def _attempt_page(template: str, attempt: Attempt, **context):
    return render_template(
        template,
        attempt=attempt,
        quiz=attempt.quiz,
        nav=presenters.navigator(attempt),
        remaining=attempt.remaining_seconds(clock.now()),
        form=AttemptForm(),
        **context,
    )


@bp.get("/attempts/<int:attempt_id>/q/<int:position>")
@role_required(Role.candidate)
def question(attempt_id: int, position: int, error: str | None = None):
    """One question, the navigator and the timer."""
    attempt = running_attempt_or_result(attempt_id)
    item = attempt.item_at(position) or abort(404)
    return _attempt_page(
        "delivery/question.html",
        attempt,
        item=presenters.item_view(item),
        error=error,
    ), (422 if error else 200)


@bp.post("/attempts/<int:attempt_id>/q/<int:position>")
@role_required(Role.candidate)
def save_answer(attempt_id: int, position: int):
    """Save the answer from the plain page, then go where the button says."""
    attempt = running_attempt_or_result(attempt_id, posted=True)
    item = attempt.item_at(position) or abort(404)
    try:
        answer = responses.from_form(item.version.content, request.form)
    except responses.InvalidResponse as error:
        return question(attempt_id, position, error=error.message)
    outcome = services.save_response(
        attempt, item, answer, clock.now(), origin("form"), "flagged" in request.form
    )
    db.session.commit()
    if outcome.expired:
        return _to_result(attempt, explain=True)
    return redirect(_after_save(attempt, position, request.form.get("action", "next")))


def _after_save(attempt: Attempt, position: int, action: str) -> str:
    if action == "review" or (action == "next" and position >= len(attempt.items)):
        return url_for("delivery.review", attempt_id=attempt.id)
    if action == "prev":
        position = max(1, position - 1)
    elif action == "next":
        position += 1
    elif action.startswith("go-") and action[3:].isdigit():
        position = int(action[3:])
    return url_for("delivery.question", attempt_id=attempt.id, position=position)


@bp.get("/attempts/<int:attempt_id>/all")
@role_required(Role.candidate)
def all_questions(attempt_id: int, errors: dict[int, str] | None = None):
    """Every question on one page, one form."""
    attempt = running_attempt_or_result(attempt_id)
    return _attempt_page(
        "delivery/all.html",
        attempt,
        items=[
            presenters.item_view(i, f"q{i.position}-")
            for i in services.items_of(attempt)
        ],
        errors=errors or {},
    ), (422 if errors else 200)


@bp.post("/attempts/<int:attempt_id>/all")
@role_required(Role.candidate)
def save_all(attempt_id: int):
    """Save every answer of the one-page form (fields are prefixed ``q<N>-``)."""
    attempt = running_attempt_or_result(attempt_id, posted=True)
    answers, errors = responses.from_page(services.items_of(attempt), request.form)
    if errors:
        return all_questions(attempt_id, errors=errors)
    outcome = services.save_many(attempt, answers, clock.now(), origin("form"))
    db.session.commit()
    if outcome.expired:
        return _to_result(attempt, explain=True)
    if request.form.get("action") == "review":
        return redirect(url_for("delivery.review", attempt_id=attempt.id))
    flash("Your answers are saved.", "success")
    return redirect(url_for("delivery.all_questions", attempt_id=attempt.id))


@bp.get("/attempts/<int:attempt_id>/review")
@role_required(Role.candidate)
def review(attempt_id: int):
    """Before submitting: which questions are unanswered or flagged."""
    attempt = running_attempt_or_result(attempt_id)
    return _attempt_page("delivery/review.html", attempt)


@bp.post("/attempts/<int:attempt_id>/submit")
@role_required(Role.candidate)
def submit(attempt_id: int):
    """Submit for grading; a second submit (double click, second tab) is harmless."""
    attempt = running_attempt_or_result(attempt_id, posted=True)
    services.submit_attempt(attempt, clock.now())
    db.session.commit()
    if attempt.finish_reason == TIMED_OUT:
        return _to_result(attempt, explain=True)
    flash("Your answers are submitted.", "success")
    return redirect(url_for("delivery.result", attempt_id=attempt.id))


@bp.get("/attempts/<int:attempt_id>/result")
@role_required(Role.candidate)
def result(attempt_id: int):
    """Score, pass or fail and every question with feedback, once the quiz's
    results policy allows; until then only that the answers are in."""
    attempt = own_attempt_or_404(attempt_id)
    if not attempt.is_finalized:
        return redirect(url_for("delivery.resume", attempt_id=attempt.id))
    now = clock.now()
    visible = services.results_visible(attempt, now)
    return render_template(
        "delivery/result.html",
        attempt=attempt,
        quiz=attempt.quiz,
        visible=visible,
        release_at=services.results_release_at(attempt.quiz),
        items=[presenters.result_item(i) for i in services.items_of(attempt)]
        if visible
        else [],
        answered=sum(1 for item in attempt.items if item.is_answered),
    )


@bp.errorhandler(services.AttemptClosed)
def attempt_closed(error: DomainError):
    flash(error.message, "warning")
    attempt_id = request.view_args.get("attempt_id") if request.view_args else None
    if attempt_id is None:
        return redirect(url_for("delivery.dashboard"))
    return redirect(url_for("delivery.result", attempt_id=attempt_id))
