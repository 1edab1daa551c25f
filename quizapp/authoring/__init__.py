"""Authoring questions in the browser: editors per type, live preview, uploads."""

from flask import Blueprint

bp = Blueprint("authoring", __name__)

from quizapp.authoring import views  # noqa: E402, F401  (routes)
