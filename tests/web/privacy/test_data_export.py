"""The "Your data" page and its JSON download: who may reach them, what the document
holds, and that results the candidate's own pages do not show yet stay out."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from quizapp.accounts.models import SignIn
from quizapp.bootcamp import certificates
from quizapp.bootcamp.models import ProjectReview
from quizapp.core import clock
from quizapp.delivery import services
from quizapp.extensions import db
from quizapp.privacy.export import FORMAT, FORMAT_VERSION
from quizapp.privacy.views import EXPORT_LIMIT
from tests.bootcamp_fixtures import consent_and_interest, make_bootcamp
from tests.factories import make_admin, make_quiz, make_user, right_answers
from tests.web.delivery.test_attempt_pages import KEY_ONLY

PAGE, DOWNLOAD = "/account/data", "/account/data.json"
NOW = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
#: Keys that carry a result; none may appear while the result is hidden.
RESULT_KEYS = {"score", "max_score", "percent", "passed", "outcome", "feedback"}


@pytest.fixture
def candidate(app):
    return make_user(email="cand@example.org", name="Cara Candidate")


@pytest.fixture
def signed_in(client, auth, candidate):
    auth.sign_in("cand@example.org")
    return client


def take(user, quiz, when: datetime, right: bool = True):
    """Start, answer every question (right, or not at all) from a known address and
    submit, at ``when``."""
    with clock.frozen(when):
        attempt = services.start_attempt(user, quiz, when, "10.0.0.9", "UA-test")
        origin = services.Origin("autosave", "tab-1", "10.0.0.9", "UA-test")
        for position, response in right_answers(attempt).items():
            item = services.item_at(attempt, position)
            if right:
                services.save_response(attempt, item, response, when, origin)
        services.record_page_signal(attempt, "hidden", "tab switched", when)
        services.submit_attempt(attempt, when)
        db.session.commit()
    return attempt


def download(client, when: datetime = NOW) -> dict:
    with clock.frozen(when):
        response = client.get(DOWNLOAD)
    assert response.status_code == 200
    return json.loads(response.get_data(as_text=True))


def keys_in(value) -> set[str]:
    """Every dictionary key anywhere in ``value``."""
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys_in(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys_in(v)}
    return set()


# -- Pages --------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client, app):
    for url in (PAGE, DOWNLOAD):
        response = client.get(url)

        assert response.status_code == 302
        assert response.location.startswith("/sign-in?next=")


def test_the_page_explains_and_is_linked_from_the_account_menu(signed_in):
    home = signed_in.get("/").get_data(as_text=True)
    page = signed_in.get(PAGE).get_data(as_text=True)

    assert 'href="/account/data">Your data</a>' in home
    assert "What quizapp holds about you, and why" in page
    assert 'id="download-data" href="/account/data.json"' in page
    assert "Ask for my account to be deleted" in page
    for inline in ("<script>", "<style", " style=", "onclick="):  # the CSP forbids
        assert inline not in page


def test_every_role_has_a_data_page(client, auth):
    make_admin(email="root@example.org")
    auth.sign_in("root@example.org")

    assert client.get(PAGE).status_code == 200
    assert download(client)["account"]["email"] == "root@example.org"


def test_the_download_is_a_versioned_attachment_without_secrets(signed_in, candidate):
    with clock.frozen(NOW):
        response = signed_in.get(DOWNLOAD)

    body = response.get_data(as_text=True)
    document = json.loads(body)
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="quizapp-data-{candidate.id}-20260504.json"'
    )
    assert response.headers["Cache-Control"] == "private, no-store"
    assert (document["format"], document["format_version"]) == (FORMAT, 1)
    assert FORMAT_VERSION == 1
    assert document["exported_at"] == NOW.isoformat()
    assert document["account"] | {"created_at": None} == {
        "id": candidate.id,
        "name": "Cara Candidate",
        "email": "cand@example.org",
        "school": "Example Polytechnic",
        "discipline": "Engineering",
        "graduation_year": 2025,
        "is_active": True,
        "created_at": None,
        "last_sign_in_at": document["account"]["last_sign_in_at"],
        "deletion_requested_at": None,
        "anonymised_at": None,
        "roles": [
            {
                "role": "candidate",
                "granted_at": document["account"]["roles"][0]["granted_at"],
            }
        ],
        "sign_ins": [
            {
                "created_at": document["account"]["sign_ins"][0]["created_at"],
                "ip": "127.0.0.1",
                "user_agent": document["account"]["sign_ins"][0]["user_agent"],
            }
        ],
    }
    db.session.refresh(candidate)
    token = db.session.scalar(
        db.select(SignIn.token).where(SignIn.user_id == candidate.id)
    )
    for secret in (candidate.password_hash, token):
        assert secret not in body
    assert not {"password_hash", "token", "password"} & keys_in(document)


def test_the_download_is_rate_limited_per_account(signed_in):
    allowed = int(EXPORT_LIMIT.split()[0])

    statuses = [signed_in.get(DOWNLOAD).status_code for _ in range(allowed + 1)]

    assert statuses == [200] * allowed + [429]
    assert signed_in.get(PAGE).status_code == 200  # the page itself is not limited


# -- Attempts -----------------------------------------------------------------------


def test_a_visible_result_comes_with_items_answers_events_and_signals(
    signed_in, candidate, tmp_path
):
    quiz = make_quiz(tmp_path)  # results shown immediately
    attempt = take(candidate, quiz, NOW - timedelta(hours=1))

    [shown] = download(signed_in)["attempts"]

    assert shown["id"] == attempt.id
    assert shown["quiz"] == {"slug": "every-type-quiz", "title": quiz.title}
    assert shown["results_visible"] is True
    assert (shown["score"], shown["max_score"], shown["passed"]) == (8.0, 8.0, True)
    assert shown["last_ip"] == "10.0.0.9"
    assert len(shown["items"]) == 8
    capital = next(
        i for i in shown["items"] if i["question"]["key"] == "single-capital"
    )
    assert capital["question"]["bank"] == "every-type"
    assert (capital["score"], capital["outcome"]) == (1.0, "right")
    assert capital["response"] is not None
    assert capital["feedback"] == ["Right."]
    assert len(shown["answer_events"]) == 8
    assert {e["ip"] for e in shown["answer_events"]} == {"10.0.0.9"}
    assert {e["browser_session"] for e in shown["answer_events"]} == {"tab-1"}
    assert [s["kind"] for s in shown["integrity_signals"]] == ["hidden"]
    [standing] = download(signed_in)["standings"]
    assert standing["quiz"] == "every-type-quiz"
    assert standing["percent"] == 100.0


def test_results_the_result_page_hides_stay_out_until_released(
    signed_in, candidate, tmp_path
):
    closes = NOW + timedelta(days=1)
    quiz = make_quiz(
        tmp_path, time_limit=None, show_results="after_close", closes=closes
    )
    attempt = take(candidate, quiz, NOW - timedelta(hours=1))

    with clock.frozen(NOW):
        result_page = signed_in.get(f"/attempts/{attempt.id}/result")
        before = signed_in.get(DOWNLOAD).get_data(as_text=True)
    after = download(signed_in, closes + timedelta(minutes=1))

    hidden = json.loads(before)
    assert "Results will be shown here after" in result_page.get_data(as_text=True)
    assert hidden["attempts"][0]["results_visible"] is False
    assert len(hidden["attempts"][0]["items"]) == 8  # the answers are theirs
    assert not RESULT_KEYS & keys_in(hidden["attempts"])
    assert not RESULT_KEYS & keys_in(hidden["standings"])
    # (The candidate's own right answers are theirs; the key's explanations and
    # feedback are not.)
    for secret in [*KEY_ONLY[:2], '"correct"', "accept", "Right."]:
        assert secret not in before
    # The same rule as the result page: once it shows the result, so does the file.
    assert after["attempts"][0]["results_visible"] is True
    assert after["attempts"][0]["score"] == 8.0
    assert after["standings"][0]["percent"] == 100.0


def test_results_never_shown_are_never_in_the_file(signed_in, candidate, tmp_path):
    quiz = make_quiz(tmp_path, show_results="never")
    attempt = take(candidate, quiz, NOW - timedelta(hours=1))

    page = signed_in.get(f"/attempts/{attempt.id}/result").get_data(as_text=True)
    document = download(signed_in, NOW + timedelta(days=20))

    assert 'id="score"' not in page
    assert document["attempts"][0]["results_visible"] is False
    assert not RESULT_KEYS & keys_in(document["attempts"])
    assert not RESULT_KEYS & keys_in(document["standings"])


# -- Programmes ---------------------------------------------------------------------


def test_programme_records_accommodations_interest_and_the_log(client, auth, tmp_path):
    camp = make_bootcamp(tmp_path, participants=1, m1_keys=("tf-sky",))
    person = camp.participants[0]
    organiser = make_user(email="org@example.org", roles=("organiser",))
    camp.complete(person)
    review = db.session.scalar(select(ProjectReview))
    review.comment = "Clear framing of the question."
    services.grant_accommodation(
        person,
        quiz=camp.m1,
        extra_minutes=15,
        reason="Dyslexia",
        actor=organiser,
        now=NOW,
    )
    certificate = certificates.issue(camp.programme, person, organiser)
    consent_and_interest(camp.programme, person)
    auth.sign_in(person.email)

    unpublished = download(client)
    camp.programme.projects_published_at = NOW
    db.session.commit()
    published = download(client)

    assert unpublished["accommodations"] == [
        {
            "quiz": "bc-m1",
            "programme": None,
            "extra_minutes": 15,
            "time_multiplier": 1.0,
            "extra_attempts": 0,
            "closes_at": None,
            "reason": "Dyslexia",
            "granted_at": NOW.isoformat(),
        }
    ]
    assert unpublished["programmes"][0] | {"title": None} == {
        "programme": "bc",
        "title": None,
        "shortlist": "shortlisted",
        "finals": None,
    }
    assert [c["programme"] for c in unpublished["consents"]] == ["bc"]
    modules = {m["module"]: m for m in unpublished["module_progress"]}
    assert modules["module-one"]["status"] == "completed"
    assert modules["module-one"]["assessments"][0]["best_percent"] == 80.0
    assert "project_score" not in modules["project"]
    assert unpublished["project_results"] == [{"programme": "bc", "published": False}]
    assert "Clear framing" not in json.dumps(unpublished)
    [results] = published["project_results"][0]["modules"]
    assert results["comments"] == [
        {"by": "Judge 1", "text": "Clear framing of the question."}
    ]
    assert results["score"] == pytest.approx(100 * 23 / 30)
    assert [c["code"] for c in unpublished["certificates"]] == [certificate.code]
    assert unpublished["certificates"][0]["recipient_name"] == "Participant 1"
    assert unpublished["partner_interest"] == [
        {
            "company": "Acme",
            "opening": "Data intern",
            "kind": "internship",
            "note": "Strong",
            "marked_at": unpublished["partner_interest"][0]["marked_at"],
        }
    ]
    log = {e["action"]: e for e in unpublished["audit_events"]}
    assert log["account.created"]["by"] == "the command line"
    assert log["accommodation.granted"]["by"] == "staff"  # never a staff name
    assert "org@example.org" not in json.dumps(unpublished)
