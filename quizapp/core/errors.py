"""Domain errors raised by services, and the HTML/JSON error pages.

Services raise a :class:`DomainError` for a rule the caller broke; views either pour
it back onto a form (when it names a field) or let the handler below turn it into a
page or a JSON body with the right status. Nobody ever sees a stack trace.
"""

from __future__ import annotations

import logging

from flask import Flask, Request, jsonify, render_template, request
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class DomainError(Exception):
    """A request that breaks a rule of the domain.

    :param message: shown to the user as is, so write it for them.
    :param field: the form field it belongs to, if any.
    """

    status = 400

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class PermissionDenied(DomainError):
    status = 403


class Conflict(DomainError):
    status = 409


def pour_onto(form: FlaskForm, error: DomainError) -> None:
    """Show ``error`` next to its field on ``form`` (or above the form)."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


def form_status(form: FlaskForm) -> int:
    """422 when ``form`` is shown again with errors, 200 otherwise."""
    return 422 if form.errors or form.form_errors else 200


def wants_json(req: Request) -> bool:
    if req.path.startswith("/api/") or req.is_json:
        return True
    best = req.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


#: What a person reads when a page answers with a bare status (``abort(404)``).
MESSAGES = {
    400: "The request could not be understood. Go back and try again.",
    401: "Sign in first.",
    403: "Your account does not have access to this page.",
    404: "There is nothing here. The address may be mistyped, or the page may "
    "belong to someone else.",
    405: "This page cannot be used that way.",
    413: "What you sent is too large.",
}

TITLES = {
    400: "Bad request",
    401: "Not signed in",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Too large",
    422: "Cannot process",
    429: "Too many attempts",
    500: "Something went wrong",
    503: "Service unavailable",
}

#: What a person reads while the database cannot be reached.
UNAVAILABLE = (
    "The service is unavailable for a moment and nothing was saved. Try again in a "
    "few seconds."
)

#: Seconds a client is asked to wait before trying again after a 503.
RETRY_AFTER = 5


def is_database_unavailable(error: DBAPIError) -> bool:
    """True when the database could not be reached: connecting failed, or the
    connection died under the request (a restart, an outage). A statement's own
    error (a constraint, bad SQL) is not."""
    return error.connection_invalidated or (
        isinstance(error, OperationalError) and error.statement is None
    )


def _respond(status: int, message: str):
    title = TITLES.get(status, "Error")
    if wants_json(request):
        return jsonify(error={"status": status, "title": title, "message": message}), (
            status
        )
    return render_template(
        "errors/error.html", status=status, title=title, message=message
    ), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        return _respond(error.status, error.message)

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return _respond(
            400,
            "The form had expired or did not come from this site. Go back, reload "
            "the page and send it again.",
        )

    @app.errorhandler(429)
    def too_many(error: HTTPException):
        return _respond(
            429,
            "Too many attempts in a short time. Wait a few minutes and try again.",
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        status = error.code or 500
        message = error.description
        if not message or message == type(error).description:
            message = MESSAGES.get(status, "")
        return _respond(status, message)

    @app.errorhandler(DBAPIError)
    def database_error(error: DBAPIError):
        if not is_database_unavailable(error):
            return unexpected(error)
        log.error(
            "database unavailable on %s %s: %s", request.method, request.path, error
        )
        _rollback()
        # The page of an outage loads nothing from the database: not the menu's
        # signed-in user (the page has no menu), nor the user that every template
        # is given (Flask-Login's context processor loads it: it is taken as
        # anonymous). The attempt page's script keeps unsent answers and retries
        # on a 503.
        from quizapp.extensions import login_manager

        login_manager._update_request_context_with_user(None)
        if wants_json(request):
            body = {"status": 503, "title": TITLES[503], "message": UNAVAILABLE}
            response = jsonify(error=body)
        else:
            response = render_template("errors/unavailable.html", message=UNAVAILABLE)
        return response, 503, {"Retry-After": str(RETRY_AFTER)}

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        # Nothing of a failed request is kept, and the error page can still load
        # the signed-in user.
        _rollback()
        return _respond(
            500,
            "The server hit an error and your last action was not saved. Please "
            "try again, and tell the organisers if it keeps happening.",
        )


def _rollback() -> None:
    from quizapp.extensions import db

    db.session.rollback()
