"""Timed quiz delivery: start, answer (autosave and plain forms), submit, results,
accommodations and integrity signals."""

from flask import Blueprint

#: The candidate's and the staff pages.
bp = Blueprint("delivery", __name__)
#: The JSON endpoints of the attempt page (autosave, timer, signals).
api_bp = Blueprint("delivery_api", __name__, url_prefix="/api")

from quizapp.delivery import access, api, regrade_views, staff, views  # noqa: E402, F401  (routes, rules)
