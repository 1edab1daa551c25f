"""The bootcamp after the shortlist: each participant's progress through the
modules, the judges' rubric scores of the mini-projects, and verifiable
certificates for those who complete."""

from flask import Blueprint

bp = Blueprint("bootcamp", __name__)

from quizapp.bootcamp import (  # noqa: E402, F401  (tables, signal receivers, routes)
    certificate_views,
    judging_views,
    models,
    progress,
    views,
)
