"""The organiser's side of a programme: its dashboard and charts, leaderboards, the
shortlist and the finalists with their audit trail, exports, quiz windows, and the
partner companies who recruit from the finalists."""

from flask import Blueprint

bp = Blueprint("programmes", __name__)

from quizapp.programmes import (  # noqa: E402, F401  (tables, routes)
    models,
    partners,
    standings,
    views,
)
