"""Account operations. Each one checks its rules, changes state, logs, and leaves the
commit to the caller (a view or a CLI command), so one request is one transaction."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.exc import IntegrityError

from quizapp.accounts import passwords
from quizapp.accounts.models import (
    DISCIPLINES,
    GRADUATION_YEAR_MAX,
    GRADUATION_YEAR_MIN,
    Role,
    User,
    UserRole,
    count_active_admins,
    new_session_token,
)
from quizapp.core import audit, clock
from quizapp.core.errors import Conflict, DomainError, PermissionDenied
from quizapp.extensions import db

log = logging.getLogger(__name__)

SIGN_IN_FAILED = "That e-mail address and password do not match an account."
DEACTIVATED = (
    "This account has been deactivated. Contact the programme's organisers if you "
    "think this is a mistake."
)


class InvalidCredentials(DomainError):
    status = 401


class AccountDeactivated(DomainError):
    status = 403


@dataclass(frozen=True)
class Registration:
    """What a candidate gives when signing up."""

    name: str
    email: str
    password: str
    school: str
    discipline: str
    graduation_year: int


def normalise_email(email: str, field: str = "email") -> str:
    """Return the canonical (lower-case) form of ``email``.

    :raise DomainError: if it is not a valid address.
    """
    try:
        checked = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise DomainError(str(exc), field=field) from None
    return checked.normalized.lower()


def find_by_email(email: str) -> User | None:
    return db.session.scalar(db.select(User).where(User.email == email.strip().lower()))


def check_password_strength(password: str, *user_inputs: str, field: str) -> None:
    """:raise DomainError: naming ``field`` if the password is too weak."""
    problem = passwords.weakness(password, list(user_inputs))
    if problem:
        raise DomainError(problem, field=field)


def register_candidate(data: Registration) -> User:
    """Create a candidate account.

    :raise DomainError: for an invalid or taken e-mail, a weak password, an unknown
        discipline or an implausible graduation year, naming the field.
    """
    email = normalise_email(data.email)
    if data.discipline not in DISCIPLINES:
        raise DomainError("Choose a discipline from the list.", field="discipline")
    if not GRADUATION_YEAR_MIN <= data.graduation_year <= GRADUATION_YEAR_MAX:
        raise DomainError(
            f"Enter a year between {GRADUATION_YEAR_MIN} and {GRADUATION_YEAR_MAX}.",
            field="graduation_year",
        )
    check_password_strength(
        data.password, data.name, email, data.school, field="password"
    )
    user = User(
        email=email,
        name=data.name.strip(),
        password_hash=passwords.hash_password(data.password),
        school=data.school.strip(),
        discipline=data.discipline,
        graduation_year=data.graduation_year,
        roles=[UserRole(role=Role.candidate)],
    )
    _add_unique(user)
    log.info("candidate registered: user=%s", user.id)
    return user


def _add_unique(user: User) -> None:
    """Insert ``user``; a concurrent sign-up with the same e-mail loses cleanly."""
    if find_by_email(user.email) is not None:
        raise _email_taken()
    try:
        with db.session.begin_nested():
            db.session.add(user)
    except IntegrityError:
        raise _email_taken() from None


def _email_taken() -> DomainError:
    return DomainError(
        "An account with this e-mail address already exists. Sign in instead.",
        field="email",
    )


def authenticate(email: str, password: str) -> User:
    """Return the account for these credentials and note the sign-in time.

    An unknown e-mail and a wrong password get the same message and take the same
    time. A hash made with older cost parameters is upgraded on the way.

    :raise InvalidCredentials: the pair does not match an account.
    :raise AccountDeactivated: the password is right but the account is deactivated.
    """
    user = find_by_email(email)
    if user is None:
        passwords.burn_time(password)
        raise InvalidCredentials(SIGN_IN_FAILED)
    if not passwords.verify_password(user.password_hash, password):
        log.info("sign-in failed: user=%s", user.id)
        raise InvalidCredentials(SIGN_IN_FAILED)
    if not user.is_active:
        raise AccountDeactivated(DEACTIVATED)
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    user.last_sign_in_at = clock.now()
    log.info("signed in: user=%s", user.id)
    return user


def change_password(user: User, current: str, new: str) -> None:
    """Replace the password and sign the account out of every other browser.

    :raise DomainError: on ``current_password`` if it is wrong, on
        ``new_password`` if the new one is weak or unchanged.
    """
    if not passwords.verify_password(user.password_hash, current):
        raise DomainError("This is not your current password.", "current_password")
    if new == current:
        raise DomainError(
            "Choose a password different from the current one.", "new_password"
        )
    check_password_strength(
        new, user.name, user.email, user.school or "", field="new_password"
    )
    user.password_hash = passwords.hash_password(new)
    user.session_token = new_session_token()
    audit.record("account.password_changed", "user", user.id, actor=user)
    log.info("password changed: user=%s", user.id)


def create_account(
    email: str,
    name: str,
    roles: Iterable[str],
    password: str | None = None,
    actor: User | None = None,
) -> tuple[User, str | None]:
    """Create an account with ``roles`` (staff accounts, by an admin or the CLI).

    Returns the account and the generated password when none was given, so the
    caller can hand it over once; it is never stored in clear.

    :raise DomainError: for an invalid or taken e-mail, an unknown role, no role,
        or a weak password.
    """
    email = normalise_email(email)
    role_values = sorted({_role(r) for r in roles})
    if not role_values:
        raise DomainError("Give the account at least one role.", field="roles")
    generated = None
    if password is None:
        generated = password = _generate_password()
    else:
        check_password_strength(password, name, email, field="password")
    user = User(
        email=email,
        name=name.strip(),
        password_hash=passwords.hash_password(password),
        roles=[
            UserRole(role=r, granted_by_id=getattr(actor, "id", None))
            for r in role_values
        ],
    )
    _add_unique(user)
    audit.record("account.created", "user", user.id, actor=actor, roles=role_values)
    log.info("account created: user=%s roles=%s", user.id, ",".join(role_values))
    return user, generated


def _generate_password() -> str:
    # Four random words would be friendlier, but a 20-character token needs no list.
    return secrets.token_urlsafe(15)


def _role(value: str) -> str:
    try:
        return Role(value).value
    except ValueError:
        known = ", ".join(r.value for r in Role)
        raise DomainError(
            f"Unknown role {value!r}; use one of {known}.", field="roles"
        ) from None


def grant_role(user: User, role: str, actor: User | None) -> bool:
    """Give ``user`` the role. Returns False if they already held it."""
    role = _role(role)
    if user.has_role(role):
        return False
    user.roles.append(UserRole(role=role, granted_by_id=getattr(actor, "id", None)))
    audit.record("account.role_granted", "user", user.id, actor=actor, role=role)
    log.info("role granted: user=%s role=%s", user.id, role)
    return True


def revoke_role(user: User, role: str, actor: User | None) -> bool:
    """Take the role from ``user``. Returns False if they did not hold it.

    :raise Conflict: when it would leave no active admin.
    """
    role = _role(role)
    held = [r for r in user.roles if r.role == role]
    if not held:
        return False
    if role == Role.admin and user.is_active and count_active_admins() <= 1:
        raise Conflict(
            "This is the last active admin account; grant the admin role "
            "to someone else first."
        )
    user.roles.remove(held[0])
    audit.record("account.role_revoked", "user", user.id, actor=actor, role=role)
    log.info("role revoked: user=%s role=%s", user.id, role)
    return True


def set_active(user: User, active: bool, actor: User | None) -> bool:
    """Activate or deactivate ``user``. Deactivating signs them out everywhere.

    Returns False if nothing changed.

    :raise PermissionDenied: an admin deactivating their own account.
    :raise Conflict: deactivating the last active admin, or activating an
        anonymised account (it has nobody behind it any more).
    """
    if user.is_active == active:
        return False
    if active and user.anonymised_at is not None:
        raise Conflict("This account was anonymised; it cannot be activated again.")
    if not active:
        if actor is not None and actor.id == user.id:
            raise PermissionDenied("You cannot deactivate your own account.")
        if user.has_role(Role.admin) and count_active_admins() <= 1:
            raise Conflict("This is the last active admin account.")
        user.session_token = new_session_token()
    user.is_active = active
    action = "account.activated" if active else "account.deactivated"
    audit.record(action, "user", user.id, actor=actor)
    log.info("%s: user=%s", action, user.id)
    return True
