"""An append-only log of staff actions: who did what to whom, when and why.

There is no route that edits or deletes an event; services call :func:`record` in the
same transaction as the change it describes, so the log and the data never disagree.
Below the web the log stays append-only too: the ORM refuses to update or delete an
event (:func:`_refuse_change`, :func:`_refuse_bulk_change`) and on PostgreSQL a
trigger rejects ``UPDATE`` and ``DELETE`` on ``audit_events`` (the migration of
issue 9). ``TRUNCATE`` (test clean-up) is not affected.

Details name people by id (``user_id``), never by name or e-mail address, so an
anonymised account leaves nothing of its person in the log.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, event
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column, relationship

from quizapp.core import clock
from quizapp.extensions import db


class AuditEvent(db.Model):
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_target", "target_type", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=clock.now, index=True)
    #: Null for the command line or for an actor whose account was removed.
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    #: Dotted verb, e.g. ``account.role_granted``.
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[int | None]
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    actor = relationship("User", foreign_keys=[actor_id], lazy="joined")


class AuditLogIsAppendOnly(RuntimeError):
    """Raised on any attempt to change or remove an audit event."""


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _refuse_change(mapper: Any, connection: Any, target: AuditEvent) -> None:
    raise AuditLogIsAppendOnly(
        f"audit event {target.id} cannot be changed or deleted: the log is append-only"
    )


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_change(state: ORMExecuteState) -> None:
    """``update(AuditEvent)`` and ``delete(AuditEvent)`` run no mapper events."""
    if (state.is_update or state.is_delete) and any(
        mapper.class_ is AuditEvent for mapper in state.all_mappers
    ):
        raise AuditLogIsAppendOnly("audit events cannot be changed or deleted")


def record(
    action: str,
    target_type: str,
    target_id: int | None,
    actor: Any = None,
    **details: Any,
) -> AuditEvent:
    """Add an audit event to the current transaction (the caller commits)."""
    event = AuditEvent(
        action=action,
        target_type=target_type,
        target_id=target_id,
        actor_id=getattr(actor, "id", None),
        details=details,
        at=clock.now(),
    )
    db.session.add(event)
    return event


def events_for(target_type: str, target_id: int, limit: int = 50) -> list[AuditEvent]:
    """The latest events about one object, newest first."""
    return list(
        db.session.scalars(
            db.select(AuditEvent)
            .where(
                AuditEvent.target_type == target_type,
                AuditEvent.target_id == target_id,
            )
            .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
            .limit(limit)
        )
    )


#: Detail keys that hold the id of the person an event is about.
PERSON_KEYS = ("user_id", "participant_id")


def people_in(events: list[AuditEvent]) -> dict[int, str]:
    """The current names of the people the events are about (a ``user`` target or
    a :data:`PERSON_KEYS` detail), in one query: the log keeps ids, so a name
    shown beside an event is always today's (an anonymised account's placeholder)."""
    from quizapp.accounts.models import User

    ids = {e.target_id for e in events if e.target_type == "user" and e.target_id}
    for event_ in events:
        for key in PERSON_KEYS:
            value = (event_.details or {}).get(key)
            if isinstance(value, int):
                ids.add(value)
    if not ids:
        return {}
    rows = db.session.execute(db.select(User.id, User.name).where(User.id.in_(ids)))
    return {user_id: name for user_id, name in rows}
