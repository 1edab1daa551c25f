"""Item statistics of a quiz, as psychometricians read a test."""

from flask import Blueprint

bp = Blueprint("statistics", __name__)

from quizapp.statistics import views  # noqa: E402, F401  (routes)
