"""``flask demo``: demo accounts and the sample bootcamp content, for a laptop.

Safe to run again: what exists is kept, the sample banks are re-imported (which
changes nothing unless the files changed), and the accounts are printed each time.
Refused in production, because the demo passwords are public.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from quizapp.accounts import services
from quizapp.accounts.models import Role
from quizapp.banks import sync
from quizapp.extensions import db

#: (e-mail, name, roles, password). Public on purpose: this is demo data.
DEMO_ACCOUNTS = (
    ("admin@demo.example", "Ada Admin", [Role.admin], "demo-admin-2026"),
    (
        "organiser@demo.example",
        "Omar Organiser",
        [Role.organiser],
        "demo-organiser-2026",
    ),
    (
        "instructor@demo.example",
        "Ines Instructor",
        [Role.instructor],
        "demo-instructor-2026",
    ),
    (
        "partner@demo.example",
        "Priya Partner",
        [Role.partner],
        "demo-partner-2026",
    ),
    (
        "candidate@demo.example",
        "Chen Candidate",
        [Role.candidate],
        "demo-candidate-2026",
    ),
)


def load_demo_accounts() -> list[tuple[str, str, bool]]:
    """Create the missing demo accounts; return (e-mail, password, created) rows."""
    rows = []
    for email, name, roles, password in DEMO_ACCOUNTS:
        created = services.find_by_email(email) is None
        if created:
            user, _ = services.create_account(email, name, roles, password)
            if Role.candidate in roles:
                user.school = "Demo Polytechnic"
                user.discipline = "Computer science / IT"
                user.graduation_year = 2026
        rows.append((email, password, created))
    return rows


def sample_content_path() -> Path:
    """``question_banks/`` at the top of the source tree."""
    return Path(current_app.root_path).parent / "question_banks"


@click.command("demo")
@click.option(
    "--banks",
    "banks_path",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="Content to import (default: the repository's question_banks/).",
)
@with_appcontext
def demo(banks_path: Path | None) -> None:
    """Load demo accounts for every role and the sample banks, quizzes and programme."""
    if current_app.config["QUIZAPP_ENV"] == "production":
        raise click.ClickException(
            "flask demo is refused in production: its passwords are public."
        )
    rows = load_demo_accounts()
    report, problems = sync.import_paths([banks_path or sample_content_path()])
    if problems:
        db.session.rollback()
        for problem in problems:
            click.echo(str(problem), err=True)
        raise click.ClickException(
            "the sample content has problems; nothing was loaded."
        )
    db.session.commit()
    for line in report.lines():
        click.echo(line)
    click.echo("Demo accounts (sign in at the address gunicorn prints):")
    for email, password, created in rows:
        note = "created" if created else "exists"
        click.echo(f"  {email:<28} password: {password:<22} ({note})")
