"""Read-only queries behind the audit log page."""

from __future__ import annotations

from dataclasses import dataclass

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import or_, select

from quizapp.accounts.models import User
from quizapp.core.audit import PERSON_KEYS, AuditEvent
from quizapp.extensions import db

PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditFilters:
    #: Events whose action starts with this (``account.``, ``shortlist.added``).
    action: str = ""
    #: A fragment of the actor's e-mail address.
    actor: str = ""
    target_type: str = ""
    target_id: int | None = None


def audit_page(filters: AuditFilters, page: int = 1) -> Pagination:
    """One page of audit events, newest first.

    A ``user`` target with an id also finds the events about that person kept on
    other objects (a shortlist change, a certificate, partner interest: their
    ``user_id`` or ``participant_id`` detail).
    """
    query = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    if filters.action.strip():
        query = query.where(
            AuditEvent.action.startswith(filters.action.strip(), autoescape=True)
        )
    if filters.actor.strip():
        fragment = filters.actor.strip().lower()
        query = query.where(
            AuditEvent.actor_id.in_(
                select(User.id).where(User.email.contains(fragment, autoescape=True))
            )
        )
    if filters.target_type:
        about = AuditEvent.target_type == filters.target_type
        if filters.target_id is not None:
            about &= AuditEvent.target_id == filters.target_id
            if filters.target_type == "user":
                about = or_(
                    about,
                    *(
                        AuditEvent.details[key].as_integer() == filters.target_id
                        for key in PERSON_KEYS
                    ),
                )
        query = query.where(about)
    elif filters.target_id is not None:
        query = query.where(AuditEvent.target_id == filters.target_id)
    return db.paginate(query, page=max(page, 1), per_page=PAGE_SIZE, error_out=False)


def target_types() -> list[str]:
    """The kinds of object the log has events about, for the filter."""
    return list(
        db.session.scalars(
            select(AuditEvent.target_type).distinct().order_by(AuditEvent.target_type)
        )
    )
