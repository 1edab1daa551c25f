"""``flask users …``: manage accounts from the command line."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from quizapp.accounts import services
from quizapp.accounts.models import Role, User
from quizapp.accounts.queries import account_page
from quizapp.core.errors import DomainError
from quizapp.extensions import db

users = AppGroup("users", help="Create and manage accounts.")

ROLE_CHOICE = click.Choice([r.value for r in Role])


def _fail(error: DomainError) -> None:
    db.session.rollback()
    field = f"{error.field}: " if error.field else ""
    raise click.ClickException(f"{field}{error.message}")


def _get(email: str) -> User:
    user = services.find_by_email(email)
    if user is None:
        raise click.ClickException(f"email: no account with the address {email!r}.")
    return user


@users.command("create")
@click.option("--email", required=True, help="E-mail address (the sign-in name).")
@click.option(
    "--role",
    "roles",
    required=True,
    multiple=True,
    type=ROLE_CHOICE,
    help="A role; repeat for several.",
)
@click.option("--name", default=None, help="Full name (default: from the e-mail).")
@click.option(
    "--password",
    default=None,
    help="Password; a strong one is generated and printed when omitted.",
)
def create(
    email: str, roles: tuple[str, ...], name: str | None, password: str | None
) -> None:
    """Create an account with one or more roles."""
    display = name or email.split("@", 1)[0]
    try:
        user, generated = services.create_account(email, display, roles, password)
    except DomainError as error:
        _fail(error)
    db.session.commit()
    click.echo(f"created {user.email} ({', '.join(sorted(user.role_names))})")
    if generated:
        click.echo(f"password: {generated}")


@users.command("list")
@click.option("--role", type=ROLE_CHOICE, default=None, help="Only this role.")
def list_users(role: str | None) -> None:
    """List accounts: e-mail, roles, status."""

    page_number = 1
    while True:
        page = account_page(role=role, page=page_number)
        for user in page.items:
            status = "active" if user.is_active else "deactivated"
            click.echo(f"{user.email}\t{','.join(sorted(user.role_names))}\t{status}")
        if not page.has_next:
            break
        page_number += 1


@users.command("grant")
@click.argument("email")
@click.argument("role", type=ROLE_CHOICE)
def grant(email: str, role: str) -> None:
    """Give an account a role."""
    user = _get(email)
    changed = services.grant_role(user, role, actor=None)
    db.session.commit()
    click.echo(f"{user.email}: {role} {'granted' if changed else 'already held'}")


@users.command("revoke")
@click.argument("email")
@click.argument("role", type=ROLE_CHOICE)
def revoke(email: str, role: str) -> None:
    """Take a role from an account."""
    user = _get(email)
    try:
        changed = services.revoke_role(user, role, actor=None)
    except DomainError as error:
        _fail(error)
    db.session.commit()
    click.echo(f"{user.email}: {role} {'revoked' if changed else 'was not held'}")


def _set_active(email: str, active: bool) -> None:
    user = _get(email)
    try:
        services.set_active(user, active, actor=None)
    except DomainError as error:
        _fail(error)
    db.session.commit()
    click.echo(f"{user.email}: {'active' if active else 'deactivated'}")


@users.command("deactivate")
@click.argument("email")
def deactivate(email: str) -> None:
    """Deactivate an account and sign it out everywhere."""
    _set_active(email, False)


@users.command("activate")
@click.argument("email")
def activate(email: str) -> None:
    """Re-activate a deactivated account."""
    _set_active(email, True)


@users.command("anonymise")
@click.argument("email")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def anonymise(email: str, yes: bool) -> None:
    """Anonymise an account: name, e-mail and profile removed, attempts kept."""
    from quizapp.core import clock
    from quizapp.privacy import services as privacy

    user = _get(email)
    if user.anonymised_at is not None:
        click.echo(f"{user.email}: already anonymised; nothing changed")
        return
    if not yes:
        click.confirm(f"Anonymise {user.email}? This cannot be undone.", abort=True)
    try:
        privacy.anonymise(user, actor=None, now=clock.now())
    except DomainError as error:
        _fail(error)
    db.session.commit()
    click.echo(f"{email.strip().lower()}: anonymised as {user.email}")
