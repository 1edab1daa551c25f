"""``flask banks check|import|export``: banks, quizzes and programmes from YAML."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy.exc import OperationalError, ProgrammingError

from quizapp.banks import export as exporter
from quizapp.banks import sync
from quizapp.banks.checker import check
from quizapp.banks.loader import load_paths
from quizapp.banks.yamlsource import Problem
from quizapp.core.errors import DomainError
from quizapp.extensions import db

banks = AppGroup(
    "banks", help="Check, import and export question banks, quizzes, programmes."
)


SCHEMA_HINT = (
    "database: the tables are missing or out of date; run `flask db upgrade` first "
    "(database error: {error})"
)


def _report_problems(problems: list[Problem]) -> None:
    for problem in problems:
        click.echo(str(problem), err=True)
    files = len({p.path for p in problems})
    count = len(problems)
    click.echo(
        f"{count} problem{'s' if count != 1 else ''} "
        f"in {files} file{'s' if files != 1 else ''}.",
        err=True,
    )


@banks.command("check")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
def check_command(paths: tuple[Path, ...]) -> None:
    """Check bank, quiz and programme files (folders are walked).

    Prints every problem as path:line: field: message and exits 1 if there is any.
    References resolve against the files given only: check a quiz together with the
    banks it draws from.
    """
    docs = load_paths(paths)
    problems = check(docs)
    if problems:
        _report_problems(problems)
        raise SystemExit(1)
    questions = sum(len(bank.questions) for bank in docs.banks)
    click.echo(
        f"OK: {docs.files} files, {len(docs.banks)} banks, {questions} questions, "
        f"{len(docs.quizzes)} quizzes, {len(docs.programmes)} programmes."
    )


@banks.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
def import_command(paths: tuple[Path, ...]) -> None:
    """Check, then import files into the database in one transaction.

    New questions are added, changed ones get a new version, questions removed from a
    bank file are retired. With any problem nothing is imported and the command exits 1.
    """
    try:
        report, problems = sync.import_paths(paths)
        if problems:
            db.session.rollback()
            _report_problems(problems)
            click.echo("Nothing was imported.", err=True)
            raise SystemExit(1)
        db.session.commit()
    except (OperationalError, ProgrammingError) as error:
        db.session.rollback()
        raise click.ClickException(SCHEMA_HINT.format(error=error.orig)) from None
    except BaseException:
        db.session.rollback()
        raise
    for line in report.lines():
        click.echo(line)


@banks.command("export")
@click.argument("bank")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write <bank>/bank.yaml and its assets into.",
)
def export_command(bank: str, output: Path) -> None:
    """Write an imported bank (its live questions) back to YAML."""
    try:
        path = exporter.export_bank(bank, output)
    except DomainError as error:
        raise click.ClickException(f"{error.field}: {error.message}") from None
    except (OperationalError, ProgrammingError) as error:
        raise click.ClickException(SCHEMA_HINT.format(error=error.orig)) from None
    click.echo(f"Wrote {path}")
