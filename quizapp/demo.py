"""``flask demo``: demo accounts (and, as features land, demo content) for a laptop.

Safe to run again: what exists is kept, and the accounts are printed each time.
Refused in production, because the demo passwords are public.
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from quizapp.accounts import services
from quizapp.accounts.models import Role
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


@click.command("demo")
@with_appcontext
def demo() -> None:
    """Load demo accounts for every role (kept if they exist) and print them."""
    if current_app.config["QUIZAPP_ENV"] == "production":
        raise click.ClickException(
            "flask demo is refused in production: its passwords are public."
        )
    rows = load_demo_accounts()
    db.session.commit()
    click.echo("Demo accounts (sign in at the address gunicorn prints):")
    for email, password, created in rows:
        note = "created" if created else "exists"
        click.echo(f"  {email:<28} password: {password:<22} ({note})")
