"""The admin's audit log: who may read it, its filters and pages, one test per staff
action the issue lists (done through the web, then found on the log), and the log
staying append-only below the web (the ORM, and PostgreSQL's trigger)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError

from quizapp.accounts.models import Role, User
from quizapp.banks.models import Programme, Question
from quizapp.bootcamp.models import Certificate
from quizapp.core import audit
from quizapp.core.audit import AuditEvent, AuditLogIsAppendOnly
from quizapp.delivery.models import Accommodation
from quizapp.extensions import db
from quizapp.programmes import services as programmes
from tests.bootcamp_fixtures import make_bootcamp
from tests.conftest import is_postgres
from tests.factories import make_admin, make_finished_attempt, make_quiz, make_user
from tests.web.delivery.test_regrade_pages import (
    LYON,
    PARIS,
    apply_from_page,
    dry_run_url,
    finished,
    fix_key,
)
from tests.web.programmes.test_organiser_pages import post_form

LOG = "/admin/audit"
PAST = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def admin(app, auth):
    user = make_admin(email="root@example.org", name="Root Admin")
    auth.sign_in("root@example.org")
    return user


def logged(client, action: str, **filters) -> list[str]:
    """The rows of the log page filtered to ``action``, as text."""
    page = client.get(LOG, query_string={"action": action, **filters})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    rows = re.findall(r'<tr data-action="([^"]+)">(.*?)</tr>', html, re.S)
    return [
        " ".join([name, *re.sub(r"<[^>]+>", " ", body).split()]) for name, body in rows
    ]


# -- Who and how --------------------------------------------------------------------


def test_only_admins_read_the_log(client, auth, app):
    anonymous = client.get(LOG)
    refused = []
    for role in (Role.candidate, Role.instructor, Role.organiser):
        make_user(email=f"{role}@example.org", roles=(role,))
        auth.sign_in(f"{role}@example.org")
        refused.append(client.get(LOG).status_code)
        auth.sign_out()

    assert anonymous.status_code == 302
    assert anonymous.location.startswith("/sign-in?next=")
    assert refused == [403, 403, 403]


def test_no_route_changes_an_event(app):
    methods = {
        method
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/admin/audit")
        for method in rule.methods
    }

    assert methods <= {"GET", "HEAD", "OPTIONS"}


def test_filters_by_action_prefix_actor_and_target_newest_first(client, admin):
    other = make_admin(email="second@example.org", name="Second Admin")
    cand = make_user(email="cand@example.org")
    audit.record("account.role_granted", "user", cand.id, admin, role="instructor")
    audit.record("account.role_revoked", "user", cand.id, other, role="instructor")
    audit.record("quiz.window_set", "quiz", 7, admin)
    audit.record("shortlist.added", "programme", 3, admin, user_id=cand.id)
    db.session.commit()

    by_prefix = logged(client, "account.role")
    by_actor = logged(client, "", actor="second@")
    by_target = logged(client, "", target_type="quiz", target_id="7")
    about_cand = logged(client, "", target_type="user", target_id=str(cand.id))
    page = client.get(LOG).get_data(as_text=True)

    assert [r.split()[0] for r in by_prefix] == [
        "account.role_revoked",
        "account.role_granted",
    ]
    assert [r.split()[0] for r in by_actor] == ["account.role_revoked"]
    assert [r.split()[0] for r in by_target] == ["quiz.window_set"]
    # A person's events include those kept on other objects about them.
    assert {r.split()[0] for r in about_cand} == {
        "account.created",
        "account.role_granted",
        "account.role_revoked",
        "shortlist.added",
    }
    for inline in ("<script>", "<style", " style=", "onclick="):  # the CSP forbids
        assert inline not in page


def test_the_log_is_paginated(client, admin):
    for n in range(51):
        audit.record("quiz.window_set", "quiz", n + 1, admin)
    db.session.commit()

    first = client.get(LOG, query_string={"action": "quiz."}).get_data(as_text=True)
    second = client.get(LOG, query_string={"action": "quiz.", "page": 2})

    assert "Page 1 of 2" in first
    assert "quiz 51" in first  # newest first
    assert "quiz 1 <" not in first
    assert "action=quiz." in first  # the next page keeps the filter
    assert len(re.findall(r"<tr data-action=", second.get_data(as_text=True))) == 1


# -- Each staff action is logged ----------------------------------------------------


def test_role_changes_are_logged(client, admin, forms):
    cand = make_user(email="cand@example.org")
    url = f"/admin/accounts/{cand.id}/roles"

    forms.post(url, {"role": "instructor", "action": "grant"}, page=url[:-6])
    forms.post(url, {"role": "instructor", "action": "revoke"}, page=url[:-6])

    granted = logged(client, "account.role_granted")
    revoked = logged(client, "account.role_revoked")
    assert len(granted) == len(revoked) == 1
    assert "root@example.org" in granted[0]
    assert f"user {cand.id}" in granted[0]
    assert "instructor" in revoked[0]


@pytest.fixture
def quiz(app, tmp_path):
    return make_quiz(tmp_path, time_limit="20m", programme=True)


def test_accommodations_granted_and_revoked_are_logged(client, admin, forms, quiz):
    cand = make_user(email="cand@example.org", name="Cara Candidate")
    url = "/staff/quizzes/every-type-quiz/accommodations"

    forms.post(
        url,
        {
            "email": "cand@example.org",
            "scope": "quiz",
            "time_multiplier": "1",
            "extra_minutes": "15",
            "extra_attempts": "0",
        },
    )
    row = db.session.scalar(select(Accommodation))
    forms.post(f"{url}/{row.id}/revoke", {}, page=url)

    granted = logged(client, "accommodation.granted")
    revoked = logged(client, "accommodation.revoked")
    assert len(granted) == len(revoked) == 1
    assert f"user {cand.id}" in granted[0]
    assert "Cara Candidate" in granted[0]  # today's name, looked up by id
    assert "extra minutes: 15" in granted[0]
    assert "root@example.org" in revoked[0]


@pytest.fixture
def programme(app, tmp_path) -> Programme:
    """A closed screening with three applicants, A00 best."""
    screening = make_quiz(
        tmp_path, "scr", programme=True, opens=PAST - timedelta(days=3), closes=PAST
    )
    for n in range(3):
        user = make_user(name=f"A{n:02}", email=f"a{n:02}@example.org")
        make_finished_attempt(
            user, screening, 90 - 10 * n, finished_at=PAST - timedelta(hours=1)
        )
    return db.session.scalar(select(Programme).where(Programme.slug == "scr-programme"))


def test_shortlist_edits_are_logged_by_id(client, admin, programme):
    url = "/organise/programmes/scr-programme/shortlist"
    a02 = db.session.scalar(select(User).where(User.email == "a02@example.org"))

    assert post_form(client, url, "pick", size="2").status_code == 302
    assert post_form(client, url, "remove", user_id=str(a02.id), reason="Withdrew")
    assert post_form(client, url, "add", email="a02@example.org", reason="Back in")

    assert len(logged(client, "shortlist.picked")) == 1
    removed = logged(client, "shortlist.removed")
    added = logged(client, "shortlist.added")
    assert "A02" in removed[0]
    assert "Withdrew" in removed[0]
    assert "A02" in added[0]
    assert "Back in" in added[0]
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "shortlist.added")
    )
    assert event.details["user_id"] == a02.id
    assert "name" not in event.details  # ids, never a copy of the name


def test_finalist_selection_is_logged(client, admin, programme):
    programmes.shortlist_top(programme, admin, n=3)
    db.session.commit()

    response = post_form(
        client, "/organise/programmes/scr-programme/finalists", "pick", size="1"
    )

    assert response.status_code == 302
    picked = logged(client, "finalists.picked")
    assert len(picked) == 1
    assert "selected: 1" in picked[0]
    assert "root@example.org" in picked[0]


def test_an_applied_regrade_is_logged(client, admin, tmp_path):
    quiz = make_quiz(tmp_path)
    finished(quiz, LYON, "Lea Lyon")
    finished(quiz, PARIS, "Paul Paris")
    fix_key(tmp_path, "Lyon")
    capital = db.session.scalar(
        select(Question).where(Question.key == "single-capital")
    )

    assert apply_from_page(client, dry_run_url(capital)).status_code == 302

    regraded = logged(client, "question.regraded")
    assert len(regraded) == 1
    assert "every-type/single-capital" in regraded[0]
    assert "attempts: 2" in regraded[0]


def test_certificate_issue_and_revoke_are_logged(client, admin, forms, tmp_path):
    camp = make_bootcamp(tmp_path, participants=1, m1_keys=("tf-sky",))
    camp.complete(camp.participants[0])
    page = "/organise/programmes/bc/certificates"

    forms.post(f"{page}/issue", {"user_id": camp.participants[0].id}, page=page)
    certificate = db.session.scalar(select(Certificate))
    forms.post(
        f"{page}/{certificate.id}/revoke",
        {f"revoke-{certificate.id}-reason": "Issued by mistake"},
        page=page,
    )

    issued = logged(client, "certificate.issued")
    revoked = logged(client, "certificate.revoked")
    assert len(issued) == len(revoked) == 1
    assert certificate.code in issued[0]
    assert "Participant 1" in issued[0]  # looked up by user_id
    assert "Issued by mistake" in revoked[0]
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "certificate.issued")
    )
    assert "name" not in event.details


# -- Append-only below the web ------------------------------------------------------


@pytest.fixture
def event(app):
    row = audit.record("quiz.window_set", "quiz", 1, None, reason="first")
    db.session.commit()
    return row


def test_the_orm_refuses_to_change_an_event(event):
    event.details = {"reason": "rewritten"}

    with pytest.raises(AuditLogIsAppendOnly):
        db.session.commit()
    db.session.rollback()
    assert db.session.get(AuditEvent, event.id).details == {"reason": "first"}


def test_the_orm_refuses_to_delete_an_event(event):
    db.session.delete(event)

    with pytest.raises(AuditLogIsAppendOnly):
        db.session.commit()
    db.session.rollback()
    assert db.session.get(AuditEvent, event.id) is not None


def test_the_orm_refuses_bulk_changes(event):
    for statement in (update(AuditEvent).values(action="x.y"), delete(AuditEvent)):
        with pytest.raises(AuditLogIsAppendOnly):
            db.session.execute(statement)
        db.session.rollback()

    assert db.session.get(AuditEvent, event.id).action == "quiz.window_set"


@pytest.mark.skipif(not is_postgres(), reason="the trigger is PostgreSQL's")
def test_postgresql_rejects_update_and_delete_of_events(event):
    for sql in ("UPDATE audit_events SET action = 'x.y'", "DELETE FROM audit_events"):
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(text(sql))
        db.session.rollback()

    assert db.session.get(AuditEvent, event.id).action == "quiz.window_set"


@pytest.mark.skipif(not is_postgres(), reason="the trigger is PostgreSQL's")
def test_postgresql_refuses_to_delete_an_account_that_acted(app):
    actor = make_admin()
    audit.record("quiz.window_set", "quiz", 1, actor)
    db.session.commit()

    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text("DELETE FROM users WHERE id = :id"), {"id": actor.id})
    db.session.rollback()
