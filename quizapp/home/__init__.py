"""The front page: what quizapp is for visitors, the signed-in user's start page."""

from flask import Blueprint

bp = Blueprint("home", __name__)

from quizapp.home import views  # noqa: E402, F401  (registers the routes)
