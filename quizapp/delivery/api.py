"""The attempt page's JSON endpoints: autosave, the timer's state, page signals.

Thin adapters over the same services as the plain pages. Errors are JSON with a
proper status (``{"error": {"status", "title", "message"}}``): 404 for someone
else's attempt, 409 once the attempt has ended, 422 for an answer that does not fit
the question. CSRF is checked through the ``X-CSRFToken`` header.
"""

from __future__ import annotations

from flask import abort, jsonify, request, url_for
from flask_login import current_user

from quizapp.accounts.models import Role
from quizapp.core import clock
from quizapp.core.auth import role_required
from quizapp.delivery import api_bp, responses, services
from quizapp.delivery.models import TIMED_OUT, Attempt
from quizapp.delivery.views import origin, own_attempt_or_404
from quizapp.extensions import db


def _state(attempt: Attempt) -> dict:
    now = clock.now()
    return {
        "status": attempt.status,
        "remaining_seconds": attempt.remaining_seconds(now),
        "deadline_at": attempt.deadline_at.isoformat() if attempt.deadline_at else None,
        "result_url": url_for("delivery.result", attempt_id=attempt.id),
    }


def _json_body() -> dict:
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # nested deeper than the parser goes: not ValueError
        body = None
    if not isinstance(body, dict):
        abort(400, "Send a JSON object.")
    return body


@api_bp.get("/attempts/<int:attempt_id>/state")
@role_required(Role.candidate)
def attempt_state(attempt_id: int):
    """Status and the seconds really left (the timer resynchronises on it, so an
    extension shows at once)."""
    return jsonify(_state(own_attempt_or_404(attempt_id)))


@api_bp.post("/attempts/<int:attempt_id>/answers/<int:position>")
@role_required(Role.candidate)
def save_answer(attempt_id: int, position: int):
    """Autosave one answer: ``{"response": ..., "flagged": bool}`` (see
    :mod:`quizapp.delivery.responses` for the formats).

    :raise 409: the attempt has ended (the body says so and links the result).
    :raise 422: the answer does not fit the question.
    """
    body = _json_body()
    # The attempt (locked), the item and its version in one query; someone
    # else's attempt is 404.
    attempt, item = services.load_for_save(
        attempt_id, current_user.id, position
    ) or abort(404)
    if services.finalize_if_expired(attempt, clock.now()):
        db.session.commit()
    if attempt.is_finalized:
        return _closed(attempt)
    if item is None:
        abort(404)
    answer = responses.clean(item.version.content, body.get("response"))
    flagged = body.get("flagged")
    if flagged is not None and type(flagged) is not bool:
        raise responses.InvalidResponse("flagged must be true or false.")
    outcome = services.save_response(
        attempt, item, answer, clock.now(), origin("autosave"), flagged
    )
    answered = item.is_answered  # read before the commit expires the item
    db.session.commit()
    if outcome.expired:
        return _closed(attempt)
    return jsonify(
        saved=True,
        saved_at=outcome.saved_at.isoformat(),
        remaining_seconds=outcome.remaining_seconds,
        answered=answered,
    )


def _closed(attempt: Attempt):
    """409: the attempt has ended; the body says why and links the result."""
    message = (
        "Time is up: this answer arrived after the deadline and was not saved. "
        "Your saved answers were submitted."
        if attempt.finish_reason == TIMED_OUT
        else "This attempt has already been submitted; the answer was not saved."
    )
    error = {"status": 409, "title": "Attempt ended", "message": message}
    return jsonify(error=error, **_state(attempt)), 409


@api_bp.post("/attempts/<int:attempt_id>/signals")
@role_required(Role.candidate)
def page_signal(attempt_id: int):
    """The page lost focus or was hidden: ``{"kind": "focus_lost"|"hidden",
    "detail": "..."}``. Recorded for the organisers beside the attempt."""
    body = _json_body()
    attempt = own_attempt_or_404(attempt_id)
    detail = body.get("detail")
    recorded = services.record_page_signal(
        attempt,
        str(body.get("kind", ""))[:32],
        str(detail)[:300] if detail is not None else None,
        clock.now(),
    )
    db.session.commit()
    return jsonify(recorded=recorded)
