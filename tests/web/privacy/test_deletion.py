"""Deletion requests (the person's) and anonymisation (an admin's, or the command
line's): what changes, what is kept, and the rules that refuse it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from quizapp.accounts.models import Role, User
from quizapp.bootcamp import certificates
from quizapp.bootcamp.models import Certificate
from quizapp.core import clock
from quizapp.core.audit import AuditEvent
from quizapp.delivery import services
from quizapp.delivery.models import AnswerEvent, Attempt, IntegritySignal
from quizapp.extensions import db
from quizapp.programmes.models import Consent, Interest
from tests.bootcamp_fixtures import consent_and_interest, make_bootcamp
from tests.factories import make_admin, make_quiz, make_user
from tests.web.privacy.test_data_export import take

PAGE = "/account/data"
NOW = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)


@pytest.fixture
def candidate(app):
    return make_user(email="cand@example.org", name="Cara Candidate")


def account(user_id: int) -> User:
    db.session.expire_all()
    return db.session.get(User, user_id)


def actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


# -- The person's request -----------------------------------------------------------


def test_a_wrong_password_is_shown_next_to_the_field(client, auth, forms, candidate):
    auth.sign_in("cand@example.org")

    response = forms.post("/account/deletion", {"password": "wrong"}, page=PAGE)

    assert response.status_code == 422
    assert "This is not your password." in response.get_data(as_text=True)
    assert account(candidate.id).deletion_requested_at is None


def test_a_request_is_recorded_shown_pending_and_can_be_withdrawn(
    client, auth, forms, candidate
):
    auth.sign_in("cand@example.org")

    with clock.frozen(NOW):
        asked = forms.post(
            "/account/deletion", {"password": "correct horse battery"}, page=PAGE
        )
    pending = client.get(PAGE).get_data(as_text=True)
    withdrawn = forms.post("/account/deletion/withdraw", {}, page=PAGE)

    assert asked.status_code == 302
    assert 'id="deletion-pending"' in pending
    assert "Withdraw my request" in pending
    assert withdrawn.status_code == 302
    assert 'id="deletion-pending"' not in client.get(PAGE).get_data(as_text=True)
    assert account(candidate.id).deletion_requested_at is None
    assert actions()[-2:] == [
        "account.deletion_requested",
        "account.deletion_withdrawn",
    ]


def test_the_forms_need_their_csrf_token(client, auth, candidate):
    auth.sign_in("cand@example.org")

    asked = client.post("/account/deletion", data={"password": "x"})
    withdrawn = client.post("/account/deletion/withdraw")

    assert asked.status_code == 400
    assert withdrawn.status_code == 400


def test_admins_find_pending_requests(client, auth, forms, candidate):
    make_user(email="other@example.org")
    candidate.deletion_requested_at = NOW
    db.session.commit()
    make_admin(email="root@example.org")
    auth.sign_in("root@example.org")

    listing = client.get("/admin/accounts?status=deletion_requested")
    page = client.get(f"/admin/accounts/{candidate.id}").get_data(as_text=True)

    text = listing.get_data(as_text=True)
    assert "cand@example.org" in text
    assert "other@example.org" not in text
    assert "deletion requested" in text
    assert 'id="deletion-requested"' in page
    assert 'id="deletion-request"' in page


# -- Anonymising --------------------------------------------------------------------


@pytest.fixture
def admin(app, auth):
    user = make_admin(email="root@example.org", name="Root Admin")
    auth.sign_in("root@example.org")
    return user


def anonymise(forms, user_id: int, confirm: str):
    return forms.post(
        f"/admin/accounts/{user_id}/anonymise",
        {"confirm": confirm},
        page=f"/admin/accounts/{user_id}",
    )


def test_anonymising_keeps_results_and_statistics_and_removes_the_person(
    app, tmp_path, admin, forms, client, candidate
):
    quiz = make_quiz(tmp_path)
    take(candidate, quiz, NOW - timedelta(hours=1))
    take(make_user(), quiz, NOW - timedelta(hours=1), right=False)
    candidate.deletion_requested_at = NOW
    db.session.commit()
    statistics = "/staff/quizzes/every-type-quiz/statistics/chart.json"
    board = "/organise/quizzes/every-type-quiz/leaderboard.csv"
    stats_before = client.get(statistics).get_json()
    board_before = client.get(board).get_data(as_text=True).splitlines()
    assert "Cara Candidate" in "".join(board_before)

    response = anonymise(forms, candidate.id, "CAND@example.org ")

    assert response.status_code == 302
    assert client.get(statistics).get_json() == stats_before
    board_after = client.get(board).get_data(as_text=True).splitlines()
    assert len(board_after) == len(board_before)
    assert "Cara Candidate" not in "".join(board_after)
    assert f"Deleted account {candidate.id}" in "".join(board_after)
    user = account(candidate.id)
    assert (user.name, user.email) == (
        f"Deleted account {candidate.id}",
        f"deleted-{candidate.id}@invalid.example",
    )
    assert (user.school, user.discipline, user.graduation_year) == (None, None, None)
    assert not user.is_active
    assert user.anonymised_at is not None
    attempt = db.session.scalar(select(Attempt).where(Attempt.user_id == user.id))
    assert attempt.score == 8.0
    assert (attempt.last_ip, attempt.last_user_agent) == (None, None)
    answers = db.session.scalars(
        select(AnswerEvent).where(AnswerEvent.attempt_id == attempt.id)
    ).all()
    assert len(answers) == 8
    assert {(a.ip, a.browser_session) for a in answers} == {(None, None)}
    assert all(a.response is not None for a in answers)
    page = client.get(f"/admin/accounts/{user.id}").get_data(as_text=True)
    assert "anonymised" in page
    assert f'action="/admin/accounts/{user.id}/anonymise"' not in page
    listing = client.get("/admin/accounts?status=anonymised").get_data(as_text=True)
    assert user.email in listing
    assert actions().count("account.anonymised") == 1


def test_the_person_is_signed_out_everywhere_and_cannot_sign_in(
    app, admin, forms, candidate
):
    theirs = app.test_client()
    from tests.conftest import Auth, Forms

    Auth(Forms(theirs)).sign_in("cand@example.org")
    assert theirs.get(PAGE).status_code == 200

    anonymise(forms, candidate.id, "cand@example.org")

    assert theirs.get(PAGE).status_code == 302  # to sign-in: the session is gone
    for email in ("cand@example.org", f"deleted-{candidate.id}@invalid.example"):
        again = Auth(Forms(theirs)).sign_in(email)
        assert again.status_code == 401


def test_the_name_leaves_no_trace_in_the_log(app, admin, forms, candidate, tmp_path):
    camp = make_bootcamp(tmp_path, participants=1, m1_keys=("tf-sky",))
    person = camp.participants[0]
    camp.complete(person)
    with clock.frozen(NOW):
        certificates.issue(camp.programme, person, admin)
    from quizapp.programmes import services as programmes

    programmes.remove_by_hand(camp.programme, "shortlist", person, "Withdrew", admin)
    programmes.add_by_hand(camp.programme, "shortlist", person, "Back in", admin)
    db.session.commit()

    anonymise(forms, person.id, person.email)

    events = db.session.scalars(select(AuditEvent)).all()
    logged = json.dumps([e.details for e in events])
    assert "Participant 1" not in logged
    assert "p1@example.org" not in logged
    page = forms.client.get("/admin/audit").get_data(as_text=True)
    assert "Participant 1" not in page
    assert f"Deleted account {person.id}" in page


def test_certificates_stop_verifying_under_the_name_and_partners_lose_interest(
    app, admin, forms, client, tmp_path
):
    camp = make_bootcamp(tmp_path, participants=1, m1_keys=("tf-sky",))
    person = camp.participants[0]
    camp.complete(person)
    certificate = certificates.issue(camp.programme, person, admin)
    consent_and_interest(camp.programme, person)
    assert "Participant 1" in client.get(f"/verify/{certificate.code}").get_data(
        as_text=True
    )

    anonymise(forms, person.id, person.email)

    verify = client.get(f"/verify/{certificate.code}").get_data(as_text=True)
    assert "Participant 1" not in verify
    assert ">Revoked<" in verify
    row = db.session.get(Certificate, certificate.id)
    assert row.recipient_name == f"Deleted account {person.id}"
    assert row.revoke_reason == "The account was anonymised."
    assert db.session.scalar(select(func.count()).select_from(Interest)) == 0
    consent = db.session.scalar(select(Consent))
    assert consent.revoked_at is not None
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "account.anonymised")
    )
    assert event.details["certificates_revoked"] == [certificate.id]
    assert event.details["interest_removed"] == 1


def test_ip_and_browser_signals_lose_their_detail(app, admin, forms, tmp_path):
    quiz = make_quiz(tmp_path)
    person = make_user(email="p@example.org")
    attempt = services.start_attempt(person, quiz, clock.now(), "10.0.0.1", "UA-1")
    item = services.item_at(attempt, 1)
    origin = services.Origin("autosave", "tab-2", "10.0.0.2", "UA-2")
    services.save_response(attempt, item, None, clock.now(), origin, True)
    services.record_page_signal(attempt, "hidden", "tab switched", clock.now())
    db.session.commit()

    anonymise(forms, person.id, "p@example.org")

    signals = {
        s.kind: s.detail
        for s in db.session.scalars(
            select(IntegritySignal).where(IntegritySignal.attempt_id == attempt.id)
        )
    }
    assert signals == {
        "ip_changed": None,
        "browser_changed": None,
        "hidden": "tab switched",
    }


def test_a_mismatched_confirmation_changes_nothing(admin, forms, client, candidate):
    response = anonymise(forms, candidate.id, "someone@example.org")

    assert "does not match; nothing changed" in client.get(response.location).get_data(
        as_text=True
    )
    assert account(candidate.id).anonymised_at is None


def test_anonymising_twice_is_a_no_op_with_a_message(admin, forms, client, candidate):
    anonymise(forms, candidate.id, "cand@example.org")

    again = anonymise(forms, candidate.id, f"deleted-{candidate.id}@invalid.example")

    assert "already anonymised; nothing changed" in client.get(again.location).get_data(
        as_text=True
    )
    assert actions().count("account.anonymised") == 1


def test_an_anonymised_account_cannot_be_activated(admin, forms, client, candidate):
    anonymise(forms, candidate.id, "cand@example.org")

    url = f"/admin/accounts/{candidate.id}"
    response = forms.post(f"{url}/activation", {"action": "activate"}, page=url)

    assert "cannot be activated again" in client.get(response.location).get_data(
        as_text=True
    )
    assert not account(candidate.id).is_active


def test_admins_cannot_anonymise_themselves(admin, forms, client):
    make_admin(email="second@example.org")

    response = anonymise(forms, admin.id, "root@example.org")

    assert "cannot anonymise your own account" in client.get(
        response.location
    ).get_data(as_text=True)
    assert account(admin.id).anonymised_at is None


def test_the_last_admin_cannot_be_anonymised(runner, app):
    make_admin(email="root@example.org")

    result = runner.invoke(args=["users", "anonymise", "root@example.org", "--yes"])

    assert result.exit_code == 1
    assert "last active admin" in result.output
    assert db.session.scalar(select(User)).anonymised_at is None


def test_only_admins_anonymise(client, auth, forms, candidate):
    statuses = []
    for role in (Role.candidate, Role.organiser):
        make_user(email=f"{role}@example.org", roles=(role,))
        auth.sign_in(f"{role}@example.org")
        statuses.append(
            forms.post(
                f"/admin/accounts/{candidate.id}/anonymise",
                {"confirm": "cand@example.org"},
                page=PAGE,
            ).status_code
        )
        auth.sign_out()

    assert statuses == [403, 403]
    assert account(candidate.id).anonymised_at is None


def test_the_command_line_anonymises_once(runner, candidate):
    asked = runner.invoke(args=["users", "anonymise", "cand@example.org"], input="n\n")
    done = runner.invoke(args=["users", "anonymise", "cand@example.org", "--yes"])
    again = runner.invoke(
        args=["users", "anonymise", f"deleted-{candidate.id}@invalid.example"]
    )

    assert asked.exit_code == 1  # declined: nothing changed
    assert done.exit_code == 0
    assert f"anonymised as deleted-{candidate.id}@invalid.example" in done.output
    assert "already anonymised" in again.output
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "account.anonymised")
    )
    assert event.actor_id is None
    assert actions().count("account.anonymised") == 1
