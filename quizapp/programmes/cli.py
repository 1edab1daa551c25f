"""``flask leaderboards``: maintenance of the leaderboards' standings."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from quizapp.extensions import db
from quizapp.programmes import standings


@click.group("leaderboards")
def leaderboards() -> None:
    """Leaderboard maintenance."""


@leaderboards.command("rebuild")
@with_appcontext
def rebuild() -> None:
    """Recompute every quiz's standings from the attempts (in one transaction).

    The app keeps them in step by itself; this is for after restoring attempts
    from a backup or changing rows by hand."""
    rows = standings.rebuild_all()
    db.session.commit()
    click.echo(f"{rows} standings rebuilt.")
