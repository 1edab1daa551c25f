"""Staff pages of delivery: attempts with integrity signals, one attempt in full,
and accommodations granted from the browser; and the images of an attempt."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from quizapp.accounts.models import Role
from quizapp.banks.models import Programme
from quizapp.core import clock
from quizapp.core.audit import AuditEvent
from quizapp.delivery import services
from quizapp.delivery.models import Accommodation, Attempt
from quizapp.extensions import db
from tests.factories import make_quiz, make_user


@pytest.fixture
def quiz(app, tmp_path):
    return make_quiz(tmp_path, time_limit="20m", programme=True)


@pytest.fixture
def running(quiz):
    """A candidate's running attempt with one save from a second address."""
    candidate = make_user(email="cand@example.org", name="Cara Candidate")
    attempt = services.start_attempt(candidate, quiz, clock.now(), "10.0.0.1", "UA-1")
    item = services.item_at(attempt, 1)
    origin = services.Origin("autosave", "tab-2", "10.0.0.2", "UA-1")
    services.save_response(attempt, item, None, clock.now(), origin, True)
    services.record_page_signal(attempt, "hidden", "tab switched", clock.now())
    db.session.commit()
    return attempt


def sign_in_as(auth, role: str) -> None:
    make_user(email=f"{role}@example.org", roles=(role,))
    auth.sign_in(f"{role}@example.org")


STAFF_PAGES = [
    "/staff/quizzes/every-type-quiz/attempts",
    "/staff/attempts/{id}",
]


@pytest.mark.parametrize("url", STAFF_PAGES)
def test_candidates_may_not_see_staff_pages(client, auth, running, url):
    auth.sign_in("cand@example.org")

    assert client.get(url.format(id=running.id)).status_code == 403


@pytest.mark.parametrize("role", [Role.instructor, Role.organiser, Role.admin])
def test_staff_see_attempts_with_their_signals(client, auth, running, role):
    sign_in_as(auth, role)

    listing = client.get(STAFF_PAGES[0]).get_data(as_text=True)
    detail = client.get(f"/staff/attempts/{running.id}").get_data(as_text=True)

    assert "Cara Candidate" in listing
    assert '<span class="badge text-bg-warning">2</span>' in listing  # ip + hidden
    assert "ip changed" in detail
    assert "10.0.0.1 -&gt; 10.0.0.2" in detail
    assert "hidden: tab switched" in detail
    assert "tab-2" in detail  # the save history names the browser session


def test_an_unknown_attempt_is_404_for_staff(client, auth, quiz):
    sign_in_as(auth, Role.organiser)

    assert client.get("/staff/attempts/999").status_code == 404


def test_instructors_may_not_grant_accommodations(client, auth, quiz):
    sign_in_as(auth, Role.instructor)

    assert (
        client.get("/staff/quizzes/every-type-quiz/accommodations").status_code == 403
    )


def test_an_organiser_grants_extra_time_that_moves_a_running_deadline(
    client, auth, forms, running
):
    sign_in_as(auth, Role.organiser)
    deadline = running.deadline_at

    response = forms.post(
        "/staff/quizzes/every-type-quiz/accommodations",
        {
            "email": "cand@example.org",
            "scope": "quiz",
            "time_multiplier": "1.5",
            "extra_minutes": "0",
            "extra_attempts": "0",
            "reason": "Dyslexia",
        },
    )

    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    assert "Cara Candidate" in page
    assert "Dyslexia" in page
    assert db.session.get(Attempt, running.id).deadline_at == deadline + timedelta(
        minutes=10
    )
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "accommodation.granted")
    )
    assert event.actor.email == "organiser@example.org"
    assert event.details["time_multiplier"] == 1.5


def test_a_programme_wide_accommodation_from_the_page(client, auth, forms, quiz):
    make_user(email="cand@example.org")
    sign_in_as(auth, Role.organiser)
    programme = db.session.scalar(select(Programme))

    forms.post(
        "/staff/quizzes/every-type-quiz/accommodations",
        {
            "email": "cand@example.org",
            "scope": f"programme-{programme.id}",
            "extra_minutes": "15",
            "time_multiplier": "1",
            "extra_attempts": "1",
        },
    )

    row = db.session.scalar(select(Accommodation))
    assert row.programme_id == programme.id
    assert row.quiz_id is None
    assert (row.extra_minutes, row.extra_attempts) == (15, 1)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": "nobody@example.org"}, "No candidate has this e-mail address."),
        ({"email": "cand@example.org", "time_multiplier": "0.5"}, "between 1 and 10"),
        ({"email": "cand@example.org", "extra_minutes": "-5"}, "between 0 and 1440"),
        ({"email": "not-an-address"}, "Invalid email address."),
    ],
)
def test_a_wrong_accommodation_is_shown_next_to_its_field(
    client, auth, forms, quiz, data, message
):
    make_user(email="cand@example.org")
    sign_in_as(auth, Role.organiser)
    fields = {"scope": "quiz", "time_multiplier": "1", "extra_minutes": "0"}

    response = forms.post(
        "/staff/quizzes/every-type-quiz/accommodations", {**fields, **data}
    )

    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(Accommodation.id)) is None


def test_removing_an_accommodation_restores_the_standard_time(
    client, auth, forms, running
):
    granted = services.grant_accommodation(
        running.user, quiz=running.quiz, extra_minutes=30, now=clock.now()
    )
    db.session.commit()
    sign_in_as(auth, Role.organiser)

    response = forms.post(
        f"/staff/quizzes/every-type-quiz/accommodations/{granted.id}/revoke",
        {},
        page="/staff/quizzes/every-type-quiz/accommodations",
    )

    assert response.status_code == 302
    assert db.session.scalar(select(Accommodation.id)) is None
    attempt = db.session.get(Attempt, running.id)
    assert attempt.deadline_at == attempt.started_at + timedelta(minutes=20)


def test_an_accommodation_is_not_found_under_another_quizs_address(
    client, auth, forms, running, tmp_path
):
    granted = services.grant_accommodation(
        running.user, quiz=running.quiz, extra_minutes=30, now=clock.now()
    )
    make_quiz(tmp_path, "other-quiz")
    sign_in_as(auth, Role.organiser)

    response = forms.post(
        f"/staff/quizzes/other-quiz/accommodations/{granted.id}/revoke",
        {},
        page="/staff/quizzes/other-quiz/accommodations",
    )

    assert response.status_code == 404
    assert db.session.scalar(select(Accommodation.id)) == granted.id


def test_a_candidate_sees_the_images_of_their_own_attempt_only(
    client, auth, forms, running
):
    auth.sign_in("cand@example.org")
    item = next(i for i in running.items if i.version.assets)
    page = client.get(f"/attempts/{running.id}/q/{item.position}")
    image = re.search(
        r'src="(/questions/v\d+/assets/[^"]+)"', page.get_data(as_text=True)
    )

    assert client.get(image.group(1)).status_code == 200
    auth.sign_out()
    make_user(email="other@example.org")
    auth.sign_in("other@example.org")
    assert client.get(image.group(1)).status_code == 404


def test_the_page_warns_when_the_window_cuts_a_running_extension_short(
    client, auth, forms, quiz, running
):
    # The organiser sets an own closing time 5 minutes away: the running attempt,
    # now due in 5 minutes, gets less than its 30 extended minutes.
    closes = clock.now() + timedelta(minutes=5)
    services.grant_accommodation(
        running.user, quiz=quiz, time_multiplier=1.5, closes_at=closes, now=clock.now()
    )
    db.session.commit()
    sign_in_as(auth, Role.organiser)

    page = client.get("/staff/quizzes/every-type-quiz/accommodations")

    assert "the window leaves their running attempt only" in page.get_data(as_text=True)
