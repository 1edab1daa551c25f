"""``flask attempts finalize-expired``: submit attempts whose time ran out."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy.exc import DBAPIError

from quizapp.core import clock
from quizapp.core.errors import is_database_unavailable
from quizapp.delivery import services
from quizapp.extensions import db

attempts = AppGroup("attempts", help="Timed attempts.")


@attempts.command("finalize-expired")
def finalize_expired_command() -> None:
    """Submit every attempt whose deadline has passed, with its saved answers.

    Safe to run from cron on every host, as often as you like: each attempt is
    finalized once, with its deadline as the finish time. The app also finalizes
    an expired attempt the next time anyone opens it.
    """
    try:
        count = services.finalize_expired(clock.now())
        db.session.commit()
    except DBAPIError as error:
        db.session.rollback()
        if not is_database_unavailable(error):
            raise
        raise click.ClickException(
            f"the database cannot be reached ({error.orig}); nothing was finalized. "
            "The next run finalizes what has expired by then."
        ) from None
    click.echo(f"Finalized {count} expired attempt{'s' if count != 1 else ''}.")
