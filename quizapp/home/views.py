from __future__ import annotations

from flask import render_template
from flask_login import current_user

from quizapp.accounts.models import Role
from quizapp.bootcamp import cohort
from quizapp.core import clock
from quizapp.core.auth import public
from quizapp.delivery import queries
from quizapp.home import bp
from quizapp.programmes import services as programmes
from quizapp.programmes.forms import ConsentForm


@bp.get("/")
@public
def index():
    """Visitors see what quizapp is and how to join; a signed-in user sees their
    account and the areas their roles open."""
    if not current_user.is_authenticated:
        return render_template("home/landing.html")
    candidate = current_user.has_role(Role.candidate)
    rows = queries.dashboard_rows(current_user.id, clock.now()) if candidate else []
    return render_template(
        "home/dashboard.html",
        user=current_user,
        rows=rows,
        standings=programmes.standings(current_user) if candidate else [],
        bootcamps=cohort.participations(current_user) if candidate else [],
        consent_form=ConsentForm(),
    )
