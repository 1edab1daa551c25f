"""Deletion requests and anonymisation. Each operation checks its rules, changes
state, writes one audit event and leaves the commit to the caller.

Accounts are never deleted: attempts, answers and scores are kept for the item
statistics and the leaderboards, and the audit log points at its actors. What
anonymising does, table by table, is listed in ``docs/privacy.md``; in short it
removes the person (name, e-mail, profile, network traces, certificates under
their name, partner interest) and keeps the results.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from quizapp.accounts import passwords
from quizapp.accounts.models import Role, User, count_active_admins
from quizapp.accounts.services import end_all_sign_ins
from quizapp.bootcamp import certificates
from quizapp.bootcamp.models import Certificate
from quizapp.core import audit
from quizapp.core.errors import Conflict, DomainError, PermissionDenied
from quizapp.delivery.models import (
    Accommodation,
    AnswerEvent,
    Attempt,
    IntegritySignal,
)
from quizapp.extensions import db
from quizapp.programmes.models import Consent, Interest

log = logging.getLogger(__name__)

#: Why an anonymised person's certificates were revoked (shown to staff).
REVOKED_BY_ANONYMISATION = "The account was anonymised."
#: Integrity signals whose detail holds an IP address or a browser string.
TRACE_SIGNALS = ("ip_changed", "browser_changed")


def anonymised_name(user_id: int) -> str:
    return f"Deleted account {user_id}"


def anonymised_email(user_id: int) -> str:
    """Unique, lower-case and never deliverable (``.example`` is reserved)."""
    return f"deleted-{user_id}@invalid.example"


def request_deletion(user: User, password: str, now: datetime) -> bool:
    """Record that ``user`` asks for their account to be deleted. Returns False if
    a request is already pending.

    :raise DomainError: on ``password`` when it is not the account's password.
    """
    if not passwords.verify_password(user.password_hash, password):
        raise DomainError("This is not your password.", field="password")
    if user.deletion_requested_at is not None:
        return False
    user.deletion_requested_at = now
    audit.record("account.deletion_requested", "user", user.id, actor=user)
    log.info("deletion requested: user=%s", user.id)
    return True


def withdraw_deletion_request(user: User) -> bool:
    """Withdraw a pending request. Returns False if there was none."""
    if user.deletion_requested_at is None or user.anonymised_at is not None:
        return False
    user.deletion_requested_at = None
    audit.record("account.deletion_withdrawn", "user", user.id, actor=user)
    log.info("deletion request withdrawn: user=%s", user.id)
    return True


def anonymise(user: User, actor: User | None, now: datetime) -> bool:
    """Replace everything that identifies ``user`` and sign them out for good.

    Kept: the account row (its id), roles, attempts with their answers and scores,
    standings, module progress, shortlist and finalist rows, project reviews and
    accommodations (their terms explain an attempt's deadline). Changed: name and
    e-mail become placeholders; school, discipline and graduation year, the
    accommodations' reasons, the IP addresses and browser sessions of the answer
    history and the attempts, and the details of IP and browser integrity signals
    are cleared; the password becomes unusable and every sign-in is ended;
    the account is deactivated; consents are revoked; partner interest is
    deleted; every certificate is re-labelled with the placeholder name and the
    valid ones are revoked, so none verifies under the person's name.

    Returns False, changing nothing, for an account already anonymised.

    :raise PermissionDenied: an admin anonymising their own account.
    :raise Conflict: the last active admin account.
    """
    if user.anonymised_at is not None:
        return False
    if actor is not None and actor.id == user.id:
        raise PermissionDenied("You cannot anonymise your own account.")
    if user.is_active and user.has_role(Role.admin) and count_active_admins() <= 1:
        raise Conflict(
            "This is the last active admin account; grant the admin role to "
            "someone else first."
        )
    attempt_ids = select(Attempt.id).where(Attempt.user_id == user.id)
    db.session.execute(
        update(AnswerEvent)
        .where(AnswerEvent.attempt_id.in_(attempt_ids))
        .values(ip=None, browser_session=None)
    )
    db.session.execute(
        update(IntegritySignal)
        .where(
            IntegritySignal.attempt_id.in_(attempt_ids),
            IntegritySignal.kind.in_(TRACE_SIGNALS),
        )
        .values(detail=None)
    )
    db.session.execute(
        update(Attempt)
        .where(Attempt.user_id == user.id)
        .values(last_ip=None, last_user_agent=None)
    )
    db.session.execute(
        update(Accommodation)
        .where(Accommodation.user_id == user.id)
        .values(reason=None)
    )
    consents = db.session.execute(
        update(Consent)
        .where(Consent.user_id == user.id, Consent.revoked_at.is_(None))
        .values(revoked_at=now)
    ).rowcount
    interests = db.session.execute(
        Interest.__table__.delete().where(Interest.user_id == user.id)
    ).rowcount
    revoked = _relabel_certificates(user, actor, now)

    user.name = anonymised_name(user.id)
    user.email = anonymised_email(user.id)
    user.school = user.discipline = user.graduation_year = None
    # Not a hash of anything: no password verifies against it.
    user.password_hash = "!anonymised:" + secrets.token_urlsafe(16)
    end_all_sign_ins(user)  # (and their addresses and browsers with them)
    user.is_active = False
    user.anonymised_at = now
    audit.record(
        "account.anonymised",
        "user",
        user.id,
        actor=actor,
        certificates_revoked=revoked,
        consents_revoked=consents,
        interest_removed=interests,
        had_requested_at=user.deletion_requested_at.isoformat()
        if user.deletion_requested_at
        else None,
    )
    db.session.flush()
    log.info("account anonymised: user=%s", user.id)
    return True


def _relabel_certificates(user: User, actor: Any, now: datetime) -> list[int]:
    """Revoke the valid certificates of ``user`` (as an organiser would, logged
    the same way) and put the placeholder name on all of them; returns the ids
    revoked."""
    revoked = []
    for certificate in db.session.scalars(
        select(Certificate).where(Certificate.user_id == user.id)
    ):
        if certificate.is_valid:
            certificates.revoke(certificate, REVOKED_BY_ANONYMISATION, actor, now)
            revoked.append(certificate.id)
        certificate.recipient_name = anonymised_name(user.id)
    return revoked
