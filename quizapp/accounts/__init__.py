"""Accounts: sign-up, sign-in, roles, and the admin's account pages."""

from flask import Blueprint

bp = Blueprint("accounts", __name__)

from quizapp.accounts import views  # noqa: E402, F401  (registers the routes)
