"""The attempt pages and JSON endpoints as a browser uses them: plain form posts,
autosave, ownership, roles, CSRF, deadlines and what may appear before results."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from quizapp.accounts.models import Role
from quizapp.core import clock
from quizapp.delivery.models import FINALIZED, AnswerEvent, Attempt, IntegritySignal
from quizapp.extensions import db
from tests.conftest import CSRF_INPUT
from tests.factories import make_quiz, make_user, right_answers

#: Strings only the answer key holds (explanations, feedback, accepted answers).
KEY_ONLY = [
    "Paris has been the capital since 987",
    "Lyon is the third-largest city",
    "rectified linear unit",
    "intercept",
    '"correct"',
    "accept",
]


@pytest.fixture
def candidate(app):
    return make_user(email="cand@example.org")


@pytest.fixture
def signed_in(client, auth, candidate):
    auth.sign_in("cand@example.org")
    return client


def start(client, forms, slug: str = "every-type-quiz") -> Attempt:
    response = forms.post(f"/quizzes/{slug}/start", {}, page=f"/quizzes/{slug}")
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    attempt_id = int(re.search(r"/attempts/(\d+)/", response.location).group(1))
    return db.session.get(Attempt, attempt_id)


def token(client, url: str) -> str:
    return CSRF_INPUT.search(client.get(url).get_data(as_text=True)).group(1)


def api_save(client, attempt: Attempt, position: int, body: dict, csrf: str | None):
    headers = {"X-CSRFToken": csrf} if csrf else {}
    return client.post(
        f"/api/attempts/{attempt.id}/answers/{position}", json=body, headers=headers
    )


def fields_for(item, response) -> dict:
    """The plain-form fields for a canonical response (see delivery/responses.py)."""
    kind = item.version.type
    if kind == "multiple":
        return {"response": [str(i) for i in response]}
    if kind == "blanks":
        return {f"blank-{name}": value for name, value in response.items()}
    if kind == "ordering":
        return {f"rank-{index}": str(rank + 1) for rank, index in enumerate(response)}
    if kind == "matching":
        return {f"match-{left}": str(option) for left, option in response.items()}
    if kind == "true_false":
        return {"response": "true" if response else "false"}
    if kind == "numeric":
        return {"response": f"{response:g}"}
    return {"response": str(response)}


# --- the plain-form path ----------------------------------------------------------


def test_a_candidate_answers_every_type_with_plain_forms_and_sees_full_marks(
    app, tmp_path, signed_in, forms
):
    make_quiz(tmp_path)
    attempt = start(signed_in, forms)

    for item in attempt.items:
        answer = right_answers(attempt)[item.position]
        url = f"/attempts/{attempt.id}/q/{item.position}"
        response = forms.post(url, {**fields_for(item, answer), "action": "next"})
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
    review = signed_in.get(f"/attempts/{attempt.id}/review").get_data(as_text=True)
    assert "You have answered <strong>8 of 8</strong>" in review
    done = forms.post(
        f"/attempts/{attempt.id}/submit", {}, page=f"/attempts/{attempt.id}/review"
    )
    result = signed_in.get(done.location).get_data(as_text=True)

    assert 'id="score">8 / 8' in result
    assert "Passed" in result
    assert "Paris has been the capital since 987" in result  # explanations now due


def test_reloading_shows_the_saved_answers_and_the_time_really_left(
    app, tmp_path, signed_in, forms
):
    start_at = datetime.now(UTC).replace(microsecond=0)
    with clock.frozen(start_at) as move_to:
        make_quiz(tmp_path, time_limit="10m", shuffle=False)
        attempt = start(signed_in, forms)
        forms.post(f"/attempts/{attempt.id}/q/5", {"response": "ReLU"})
        move_to(start_at + timedelta(minutes=3, seconds=20))

        page = signed_in.get(f"/attempts/{attempt.id}/q/5").get_data(as_text=True)

    assert 'value="ReLU"' in page
    assert 'data-remaining="400"' in page


def test_an_answer_that_cannot_be_read_is_shown_again_with_the_reason(
    app, tmp_path, signed_in, forms
):
    make_quiz(tmp_path, shuffle=False)
    attempt = start(signed_in, forms)

    response = forms.post(
        f"/attempts/{attempt.id}/q/7", {"rank-0": "1", "rank-1": "1", "rank-2": "2"}
    )

    assert response.status_code == 422
    assert "Give each item a different position." in response.get_data(as_text=True)
    assert db.session.scalar(select(AnswerEvent.id)) is None


def test_the_all_on_one_page_form_saves_every_answer(app, tmp_path, signed_in, forms):
    make_quiz(tmp_path, shuffle=False)
    attempt = start(signed_in, forms)

    response = forms.post(
        f"/attempts/{attempt.id}/all",
        {"q3-response": "true", "q5-response": "relu", "q5-flagged": "1"},
    )

    assert response.status_code == 302
    items = {i.position: i for i in db.session.get(Attempt, attempt.id).items}
    assert items[3].response is True
    assert items[5].response == "relu"
    assert items[5].is_flagged
    assert items[1].response is None
    events = db.session.scalars(select(AnswerEvent.position)).all()
    assert sorted(events) == [3, 5]


def test_starting_twice_and_submitting_twice_are_harmless(
    app, tmp_path, signed_in, forms
):
    make_quiz(tmp_path)
    first = start(signed_in, forms)
    second = start(signed_in, forms)
    assert first.id == second.id

    forms.post(f"/attempts/{first.id}/submit", {}, page=f"/attempts/{first.id}/review")
    finished_at = db.session.scalar(select(Attempt.finished_at))
    again = forms.post(
        f"/attempts/{first.id}/submit", {}, page="/quizzes/every-type-quiz"
    )

    assert again.status_code == 302
    assert again.location.endswith("/result")
    assert db.session.scalar(select(Attempt.finished_at)) == finished_at
    assert len(db.session.scalars(select(Attempt)).all()) == 1


# --- autosave ---------------------------------------------------------------------


def test_autosave_stores_the_answer_and_says_how_long_is_left(
    app, tmp_path, signed_in, forms
):
    make_quiz(tmp_path, shuffle=False)
    attempt = start(signed_in, forms)
    csrf = token(signed_in, f"/attempts/{attempt.id}/q/1")

    response = api_save(signed_in, attempt, 2, {"response": [0, 1]}, csrf)

    assert response.status_code == 200
    body = response.get_json()
    assert body["saved"] is True
    assert body["answered"] is True
    assert 590 <= body["remaining_seconds"] <= 600
    event = db.session.scalar(select(AnswerEvent))
    assert (event.position, event.response, event.channel) == (2, [0, 1], "autosave")


def test_autosave_without_the_csrf_token_is_refused(app, tmp_path, signed_in, forms):
    make_quiz(tmp_path)
    attempt = start(signed_in, forms)

    response = api_save(signed_in, attempt, 1, {"response": 0}, None)

    assert response.status_code == 400
    assert response.is_json
    assert response.get_json()["error"]["status"] == 400
    assert db.session.scalar(select(AnswerEvent.id)) is None


@pytest.mark.parametrize(
    ("position", "body"),
    [
        (1, {"response": 7}),  # single: no such choice
        (2, {"response": "0"}),  # multiple: not a list
        (3, {"response": "yes"}),  # true/false: not a boolean
        (5, {"response": "x" * 1001}),  # text: too long
        (6, {"response": {"nope": "x"}}),  # blanks: unknown blank
        (7, {"response": [0, 0, 1]}),  # ordering: not a permutation
        (8, {"response": {"5": 0}}),  # matching: unknown left
        (1, {"response": 0, "flagged": "yes"}),
    ],
)
def test_autosave_refuses_answers_that_do_not_fit_with_422(
    app, tmp_path, signed_in, forms, position, body
):
    make_quiz(tmp_path, shuffle=False)
    attempt = start(signed_in, forms)
    csrf = token(signed_in, f"/attempts/{attempt.id}/q/1")

    response = api_save(signed_in, attempt, position, body, csrf)

    assert response.status_code == 422
    assert response.get_json()["error"]["message"]
    assert db.session.scalar(select(AnswerEvent.id)) is None


def test_a_body_that_is_not_json_is_a_400(app, tmp_path, signed_in, forms):
    make_quiz(tmp_path)
    attempt = start(signed_in, forms)
    csrf = token(signed_in, f"/attempts/{attempt.id}/q/1")

    response = signed_in.post(
        f"/api/attempts/{attempt.id}/answers/1",
        data="[1, 2",
        headers={"X-CSRFToken": csrf, "Content-Type": "application/json"},
    )

    assert response.status_code == 400
    assert response.is_json


def test_a_save_after_the_deadline_is_refused_and_the_attempt_submitted(
    app, tmp_path, signed_in, forms
):
    start_at = datetime.now(UTC)
    with clock.frozen(start_at) as move_to:
        make_quiz(tmp_path, time_limit="1m", shuffle=False)
        attempt = start(signed_in, forms)
        csrf = token(signed_in, f"/attempts/{attempt.id}/q/1")
        saved = api_save(signed_in, attempt, 3, {"response": True}, csrf)
        assert saved.status_code == 200
        move_to(start_at + timedelta(minutes=1, seconds=10))

        late = api_save(signed_in, attempt, 5, {"response": "ReLU"}, csrf)
        form_late = forms.post(
            f"/attempts/{attempt.id}/q/5", {"response": "ReLU"}, page="/"
        )

    assert late.status_code == 409
    assert "Time is up" in late.get_json()["error"]["message"]
    assert late.get_json()["status"] == FINALIZED
    assert form_late.status_code == 302
    assert form_late.location.endswith("/result")
    attempt = db.session.get(Attempt, attempt.id)
    assert attempt.status == FINALIZED
    assert attempt.finish_reason == "timed_out"
    assert attempt.score == 1  # the true/false answer saved in time
    assert [i.response for i in attempt.items if i.position == 5] == [None]


def test_an_expired_attempt_is_finalized_when_next_opened(
    app, tmp_path, signed_in, forms
):
    start_at = datetime.now(UTC)
    with clock.frozen(start_at) as move_to:
        make_quiz(tmp_path, time_limit="1m")
        attempt = start(signed_in, forms)
        move_to(start_at + timedelta(hours=2))

        response = signed_in.get(f"/attempts/{attempt.id}/q/1")

    assert response.status_code == 302
    assert response.location.endswith("/result")
    attempt = db.session.get(Attempt, attempt.id)
    assert attempt.status == FINALIZED
    assert attempt.finished_at == attempt.deadline_at


def test_page_signals_are_recorded(app, tmp_path, signed_in, forms):
    make_quiz(tmp_path)
    attempt = start(signed_in, forms)
    csrf = token(signed_in, f"/attempts/{attempt.id}/q/1")

    response = signed_in.post(
        f"/api/attempts/{attempt.id}/signals",
        json={"kind": "focus_lost", "detail": "window lost focus"},
        headers={"X-CSRFToken": csrf},
    )
    bad = signed_in.post(
        f"/api/attempts/{attempt.id}/signals",
        json={"kind": "<script>"},
        headers={"X-CSRFToken": csrf},
    )

    assert response.get_json() == {"recorded": True}
    assert bad.status_code == 400
    assert db.session.scalars(select(IntegritySignal.kind)).all() == ["focus_lost"]


# --- no keys before results -------------------------------------------------------


def pages_of(attempt: Attempt) -> list[str]:
    base = f"/attempts/{attempt.id}"
    questions = [f"{base}/q/{i}" for i in range(1, 9)]
    return [*questions, f"{base}/all", f"{base}/review", f"/api{base}/state"]


def test_no_key_reaches_the_candidate_before_results_are_due(
    app, tmp_path, signed_in, forms
):
    closes = datetime.now(UTC) + timedelta(days=1)
    make_quiz(tmp_path, show_results="after_close", closes=closes)
    attempt = start(signed_in, forms)
    csrf = token(signed_in, f"/attempts/{attempt.id}/q/1")
    saved = api_save(signed_in, attempt, 1, {"response": 1}, csrf)

    bodies = [signed_in.get(url).get_data(as_text=True) for url in pages_of(attempt)]
    bodies.append(json.dumps(saved.get_json()))
    forms.post(
        f"/attempts/{attempt.id}/submit", {}, page=f"/attempts/{attempt.id}/review"
    )
    result = signed_in.get(f"/attempts/{attempt.id}/result").get_data(as_text=True)
    bodies += [result, signed_in.get("/").get_data(as_text=True)]

    for body in bodies:
        for secret in KEY_ONLY:
            assert secret not in body
    assert "Results will be shown here after" in result
    assert 'id="score"' not in result


def test_results_never_shown_keep_keys_and_score_hidden(
    app, tmp_path, signed_in, forms
):
    make_quiz(tmp_path, show_results="never")
    attempt = start(signed_in, forms)
    forms.post(
        f"/attempts/{attempt.id}/submit", {}, page=f"/attempts/{attempt.id}/review"
    )

    result = signed_in.get(f"/attempts/{attempt.id}/result").get_data(as_text=True)

    assert "not shown to candidates" in result
    for secret in KEY_ONLY[:3]:
        assert secret not in result


# --- ownership and roles ----------------------------------------------------------


def candidate_urls(attempt_id: int) -> list[tuple[str, str]]:
    base = f"/attempts/{attempt_id}"
    return [
        ("get", base),
        ("get", f"{base}/q/1"),
        ("post", f"{base}/q/1"),
        ("get", f"{base}/all"),
        ("post", f"{base}/all"),
        ("get", f"{base}/review"),
        ("post", f"{base}/submit"),
        ("get", f"{base}/result"),
        ("get", f"/api{base}/state"),
        ("post", f"/api{base}/answers/1"),
        ("post", f"/api{base}/signals"),
    ]


def test_another_candidate_cannot_read_or_write_the_attempt(
    app, tmp_path, client, auth, forms
):
    make_quiz(tmp_path)
    make_user(email="owner@example.org")
    make_user(email="other@example.org")
    auth.sign_in("owner@example.org")
    attempt = start(client, forms)
    auth.sign_out()
    auth.sign_in("other@example.org")
    csrf = token(client, "/quizzes")

    for method, url in candidate_urls(attempt.id):
        kwargs = (
            {
                "json": {"response": 0, "kind": "hidden"},
                "headers": {"X-CSRFToken": csrf},
            }
            if url.startswith("/api")
            else {"data": {"csrf_token": csrf, "response": "0"}}
        )
        response = getattr(client, method)(url, **kwargs)
        assert response.status_code == 404, (method, url, response.status_code)
    assert db.session.scalar(select(AnswerEvent.id)) is None
    assert db.session.get(Attempt, attempt.id).status == "in_progress"


def test_anonymous_visitors_are_sent_to_sign_in_and_the_api_answers_401(
    app, tmp_path, client
):
    make_quiz(tmp_path)

    page = client.get("/quizzes/every-type-quiz")
    api = client.get("/api/attempts/1/state")

    assert page.status_code == 302
    assert "/sign-in" in page.location
    assert api.status_code == 401
    assert api.get_json()["error"]["status"] == 401


def test_staff_without_the_candidate_role_cannot_take_quizzes(
    app, tmp_path, client, auth
):
    make_quiz(tmp_path)
    make_user(email="org@example.org", roles=(Role.organiser,))
    auth.sign_in("org@example.org")

    assert client.get("/quizzes/every-type-quiz").status_code == 403


def test_unknown_quizzes_and_positions_are_404(app, tmp_path, signed_in, forms):
    make_quiz(tmp_path)
    attempt = start(signed_in, forms)

    assert signed_in.get("/quizzes/nope").status_code == 404
    assert signed_in.get(f"/attempts/{attempt.id}/q/99").status_code == 404
    assert signed_in.get(f"/attempts/{attempt.id}/q/0").status_code == 404


# --- dashboard and intro ----------------------------------------------------------


def test_the_dashboard_lists_open_and_upcoming_quizzes_but_not_closed_ones(
    app, tmp_path, signed_in
):
    now = datetime.now(UTC)
    make_quiz(tmp_path, "open-one", programme=True)
    make_quiz(tmp_path, "later-one", opens=now + timedelta(days=2))
    make_quiz(tmp_path, "closed-one", closes=now - timedelta(days=1))

    page = signed_in.get("/").get_data(as_text=True)

    assert "Quiz open-one" in page
    assert "screening" in page
    assert "Quiz later-one" in page
    assert "Upcoming" in page
    assert "Quiz closed-one" not in page


def test_the_intro_warns_when_the_window_cuts_the_time_short(app, tmp_path, signed_in):
    closes = datetime.now(UTC) + timedelta(minutes=4)
    make_quiz(tmp_path, time_limit="30m", closes=closes)

    page = signed_in.get("/quizzes/every-type-quiz").get_data(as_text=True)

    assert "if you start now you will have" in page
    assert 'Questions</dt><dd class="col-sm-8">8</dd>' in page
    assert "30 min" in page


def test_the_dashboard_releases_after_close_results_when_everyone_is_done(
    app, tmp_path, signed_in, forms, candidate
):
    from quizapp.delivery import services

    now = datetime.now(UTC).replace(microsecond=0)
    closes = now + timedelta(hours=1)
    with clock.frozen(now) as move_to:
        quiz = make_quiz(
            tmp_path, time_limit="30m", show_results="after_close", closes=closes
        )
        attempt = start(signed_in, forms)
        forms.post(f"/attempts/{attempt.id}/submit", {}, page="/quizzes")
        slower = make_user()
        services.grant_accommodation(slower, quiz=quiz, extra_minutes=20, now=now)
        db.session.commit()

        move_to(closes + timedelta(minutes=5))  # closed, but one candidate works on
        pending = signed_in.get("/").get_data(as_text=True)
        move_to(closes + timedelta(minutes=21))
        released = signed_in.get("/").get_data(as_text=True)

    assert "result not released yet" in pending
    assert "Attempt 1: <a" in released
    assert "0%, not passed" in released
