"""Account operations. Each one checks its rules, changes state, logs, and leaves the
commit to the caller (a view or a CLI command), so one request is one transaction."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from flask import current_app, render_template, url_for
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError

from quizapp.accounts import passwords
from quizapp.accounts.models import (
    DISCIPLINES,
    GRADUATION_YEAR_MAX,
    GRADUATION_YEAR_MIN,
    SIGN_IN_MAX_AGE,
    Role,
    SignIn,
    User,
    UserRole,
    count_active_admins,
)
from quizapp.core import audit, clock, mail
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
    _set_password(user, new, "account.password_changed")


def _set_password(user: User, new: str, action: str) -> None:
    """Store ``new`` (if strong enough), sign out every browser, log ``action``.

    :raise DomainError: on ``new_password`` if the password is weak.
    """
    check_password_strength(
        new, user.name, user.email, user.school or "", field="new_password"
    )
    user.password_hash = passwords.hash_password(new)
    end_all_sign_ins(user)
    audit.record(action, "user", user.id, actor=user)
    log.info("%s: user=%s", action, user.id)


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
        end_all_sign_ins(user)
    user.is_active = active
    action = "account.activated" if active else "account.deactivated"
    audit.record(action, "user", user.id, actor=actor)
    log.info("%s: user=%s", action, user.id)
    return True


def start_sign_in(user: User, ip: str | None, user_agent: str | None) -> str:
    """Record a new signed-in session for ``user`` and return its token (what the
    session cookie carries). The account's sign-ins older than
    :data:`SIGN_IN_MAX_AGE` are cleared on the way, so the table stays small."""
    db.session.execute(
        db.delete(SignIn).where(
            SignIn.user_id == user.id, SignIn.created_at < clock.now() - SIGN_IN_MAX_AGE
        )
    )
    sign_in = SignIn(
        user_id=user.id,
        ip=(ip or "")[:45] or None,
        user_agent=(user_agent or "")[:200] or None,
        created_at=clock.now(),
    )
    db.session.add(sign_in)
    db.session.flush()
    user.sign_in_token = sign_in.token
    return sign_in.token


def end_sign_in(token: str | None) -> None:
    """End one signed-in session (sign-out)."""
    if token:
        db.session.execute(db.delete(SignIn).where(SignIn.token == token))


def end_all_sign_ins(user: User) -> None:
    """Sign ``user`` out of every browser."""
    db.session.execute(db.delete(SignIn).where(SignIn.user_id == user.id))
    user.sign_in_token = None


# Password reset by e-mail. The link carries a token signed with the app's secret,
# with its time (it expires) and a fingerprint of the password hash: resetting the
# password changes the hash, so a link works once, and a link sent before the
# password changed in any other way no longer works either.

RESET_SALT = "quizapp.password-reset"


def _password_fingerprint(user: User) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:20]


def _reset_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=RESET_SALT)


def password_reset_token(user: User) -> str:
    return _reset_serializer().dumps([user.id, _password_fingerprint(user)])


class ResetLinkInvalid(DomainError):
    status = 400


RESET_LINK_INVALID = (
    "This password reset link has expired or has already been used. "
    "Ask for a new one below."
)


def user_for_reset(token: str) -> User:
    """The account a reset link is for.

    :raise ResetLinkInvalid: the link is forged, expired, already used, or its
        account is deactivated.
    """
    max_age = current_app.config["QUIZAPP_PASSWORD_RESET_MINUTES"] * 60
    try:
        user_id, fingerprint = _reset_serializer().loads(token, max_age=max_age)
        user = db.session.get(User, int(user_id))
    except (BadData, TypeError, ValueError):
        raise ResetLinkInvalid(RESET_LINK_INVALID) from None
    if (
        user is None
        or not user.is_active
        or not hmac.compare_digest(str(fingerprint), _password_fingerprint(user))
    ):
        raise ResetLinkInvalid(RESET_LINK_INVALID)
    return user


def request_password_reset(email: str) -> None:
    """Send a reset link to ``email`` if it belongs to an active account. Says
    nothing either way: the page answers the same, so it tells no one which
    addresses have accounts."""
    user = find_by_email(email)
    if user is None or not user.is_active:
        log.info("password reset asked for an unknown or inactive address")
        return
    link = current_app.config["QUIZAPP_BASE_URL"].rstrip("/") + url_for(
        "accounts.reset_password", token=password_reset_token(user)
    )
    minutes = current_app.config["QUIZAPP_PASSWORD_RESET_MINUTES"]
    mail.send(
        mail.Message(
            to=user.email,
            subject="Reset your quizapp password",
            body=render_template(
                "accounts/reset_mail.txt", user=user, link=link, minutes=minutes
            ),
        )
    )
    audit.record("account.password_reset_sent", "user", user.id)
    log.info("password reset link sent: user=%s", user.id)


def reset_password(user: User, new: str) -> None:
    """Set a new password from a reset link and sign out every browser.

    :raise DomainError: on ``new_password`` if it is weak.
    """
    _set_password(user, new, "account.password_reset")
