"""The ``quizapp`` console script: the same commands as ``flask --app quizapp``."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import FlaskGroup

from quizapp.config import ConfigError


def register_commands(app: Flask) -> None:
    """Attach every feature's command group to ``app.cli``."""
    from quizapp.accounts.cli import users
    from quizapp.banks.cli import banks
    from quizapp.bootcamp.cli import progress_group
    from quizapp.delivery.cli import attempts
    from quizapp.demo import demo
    from quizapp.programmes.cli import leaderboards

    app.cli.add_command(users)
    app.cli.add_command(banks)
    app.cli.add_command(attempts)
    app.cli.add_command(demo)
    app.cli.add_command(leaderboards)
    app.cli.add_command(progress_group)


def _create_app() -> Flask:
    from quizapp import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app)
def cli() -> None:
    """quizapp: online quizzes and bootcamp assessment."""


def main() -> None:
    try:
        cli.main(prog_name="quizapp")
    except ConfigError as error:
        click.echo(f"quizapp: configuration error: {error}", err=True)
        sys.exit(2)
