"""The personal-data migration: names and e-mail addresses copied into past audit
events are dropped (their ids stay), and on PostgreSQL the log becomes append-only."""

from __future__ import annotations

import json

import flask_migrate
import pytest
from sqlalchemy import text

from quizapp.extensions import db
from tests.conftest import is_postgres

BEFORE = "2e786240e62b"

EVENTS = [
    ("shortlist.added", {"user_id": 7, "name": "Ada Lovelace", "reason": "Late"}),
    ("certificate.issued", {"user_id": 7, "name": "Ada Lovelace", "code": "QZ-1"}),
    ("partner.account_linked", {"user_id": 7, "email": "ada@example.org"}),
    ("partner.company_added", {"programme_id": 1, "name": "Acme"}),
]


def test_upgrade_drops_copied_names_and_keeps_ids(empty_database):
    flask_migrate.upgrade(revision=BEFORE)
    with db.engine.begin() as connection:
        for action, details in EVENTS:
            connection.execute(
                text(
                    "INSERT INTO audit_events (at, action, target_type, target_id, "
                    "details) VALUES (CURRENT_TIMESTAMP, :action, 'programme', 1, "
                    ":details)"
                ),
                {"action": action, "details": json.dumps(details)},
            )

    flask_migrate.upgrade()

    with db.engine.connect() as connection:
        rows = connection.execute(
            text("SELECT action, details FROM audit_events ORDER BY id")
        ).all()
    details = {
        action: value if isinstance(value, dict) else json.loads(value)
        for action, value in rows
    }
    assert details == {
        "shortlist.added": {"user_id": 7, "reason": "Late"},
        "certificate.issued": {"user_id": 7, "code": "QZ-1"},
        "partner.account_linked": {"user_id": 7},
        "partner.company_added": {"programme_id": 1, "name": "Acme"},  # a company
    }


@pytest.mark.skipif(not is_postgres(), reason="the trigger is PostgreSQL's")
def test_downgrade_removes_the_trigger(empty_database):
    flask_migrate.upgrade()
    flask_migrate.downgrade(revision=BEFORE)

    with db.engine.connect() as connection:
        triggers = connection.execute(
            text("SELECT tgname FROM pg_trigger WHERE tgname LIKE 'audit_events%'")
        ).all()
    assert triggers == []
