"""Personal data: a person's own data page and JSON export, deletion requests,
anonymisation by an admin, and the admin's read-only audit log."""

from flask import Blueprint

bp = Blueprint("privacy", __name__)

from quizapp.privacy import views  # noqa: E402, F401  (registers the routes)
