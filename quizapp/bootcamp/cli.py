"""``flask progress``: maintenance of the participants' module progress."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from quizapp.bootcamp import progress
from quizapp.extensions import db


@click.group("progress")
def progress_group() -> None:
    """Bootcamp progress maintenance."""


@progress_group.command("rebuild")
@with_appcontext
def rebuild() -> None:
    """Recompute every participant's module progress from the attempts and the
    judges' reviews (in one transaction).

    The app keeps it in step by itself; run this after upgrading from a version
    without progress, after restoring attempts from a backup or after changing
    rows by hand."""
    rows = progress.rebuild_all()
    db.session.commit()
    click.echo(f"{rows} progress rows rebuilt.")
