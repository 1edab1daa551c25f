"""``flask demo``: demo accounts and the sample bootcamp content, for a laptop.

Safe to run again: what exists is kept, the sample banks are re-imported (which
changes nothing unless the files changed), the demo programme's partner company is
added once, the demo bootcamp (:mod:`quizapp.demo_bootcamp`) is made once, from the
first run with screening attempts, and the accounts are printed each time.
Refused in production, because the demo passwords are public.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from quizapp.accounts import services
from quizapp.accounts.models import Role
from quizapp.banks import sync
from quizapp.banks.models import Programme
from quizapp.core.errors import DomainError
from quizapp.demo_applicants import PASSWORD as APPLICANT_PASSWORD
from quizapp.demo_applicants import load_applicants
from quizapp.demo_bootcamp import Bootcamp, load_bootcamp
from quizapp.extensions import db
from quizapp.programmes import partners
from quizapp.programmes.models import Company, PartnerMember

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
        "judge@demo.example",
        "Jonah Judge",
        [Role.instructor],
        "demo-judge-2026",
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


#: The sample programme's partner company, its openings, and the demo partner
#: account (of DEMO_ACCOUNTS) that speaks for it.
DEMO_PROGRAMME = "dtt-demo"
DEMO_COMPANY = "Demo Robotics Pte Ltd"
DEMO_OPENINGS = (
    (
        "Computer vision intern",
        "internship",
        "Six months on the perception stack of our warehouse robots.",
    ),
    ("ML engineer", "job", "Train, ship and monitor the models our robots run."),
)
DEMO_PARTNER = "partner@demo.example"


def load_demo_company() -> str | None:
    """Give the sample programme its partner company with the demo openings, and
    link the demo partner account to it; what exists is kept. Returns the
    company's name, or None when the imported content has no such programme."""
    programme = db.session.scalar(
        select(Programme).where(Programme.slug == DEMO_PROGRAMME)
    )
    if programme is None:
        return None
    company = db.session.scalar(
        select(Company).where(
            Company.programme_id == programme.id, Company.name == DEMO_COMPANY
        )
    ) or partners.add_company(programme, DEMO_COMPANY, None, actor=None)
    titles = {opening.title for opening in company.openings}
    for title, kind, description in DEMO_OPENINGS:
        if title not in titles:
            partners.add_opening(company, title, kind, description, actor=None)
    user = services.find_by_email(DEMO_PARTNER)
    if user is not None and db.session.get(PartnerMember, user.id) is None:
        partners.link_partner(company, user, actor=None)
    return company.name


def bootcamp_line(bootcamp: Bootcamp) -> str:
    """The one line ``flask demo`` prints about the demo bootcamp."""
    verify = f"; try /verify/{bootcamp.example_code}" if bootcamp.example_code else ""
    kept = "" if bootcamp.created else " (kept)"
    return (
        f"Bootcamp of {DEMO_PROGRAMME}{kept}: {bootcamp.participants} participants, "
        f"{bootcamp.completed} completed every module, "
        f"{bootcamp.certificates} certificates, {bootcamp.reviews} project reviews"
        f"{verify}"
    )


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
@click.option(
    "--applicants",
    "applicant_count",
    type=click.IntRange(0, 5000),
    default=120,
    show_default=True,
    help="Demo candidates who took the screening quiz (kept on a re-run).",
)
@with_appcontext
def demo(banks_path: Path | None, applicant_count: int) -> None:
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
    company = load_demo_company()
    applicants = load_applicants(DEMO_PROGRAMME, applicant_count)
    bootcamp, skipped = None, None
    try:
        # Only the bootcamp is undone if a service refuses (say, screening
        # attempts still running); the accounts and applicants are kept.
        with db.session.begin_nested():
            bootcamp = load_bootcamp(DEMO_PROGRAMME)
    except DomainError as error:
        skipped = str(error)
    db.session.commit()
    for line in report.lines():
        click.echo(line)
    if company:
        click.echo(f"Partner company of {DEMO_PROGRAMME}: {company} ({DEMO_PARTNER})")
    if applicants:
        click.echo(
            f"{applicants} demo applicants took the screening quiz "
            f"(applicant-001@demo.example ..., password: {APPLICANT_PASSWORD})"
        )
    if bootcamp:
        click.echo(bootcamp_line(bootcamp))
    elif skipped:
        click.echo(f"Bootcamp of {DEMO_PROGRAMME} not made: {skipped}")
    click.echo("Demo accounts (sign in at the address gunicorn prints):")
    for email, password, created in rows:
        note = "created" if created else "exists"
        click.echo(f"  {email:<28} password: {password:<22} ({note})")
