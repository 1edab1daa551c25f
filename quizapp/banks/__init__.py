"""Question banks, quizzes and programmes: the YAML contract, its checker and importer,
versioned questions, and the staff pages that show them."""

from flask import Blueprint

bp = Blueprint("banks", __name__)

from quizapp.banks import views  # noqa: E402, F401  (registers the routes)
