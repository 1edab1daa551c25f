"""PostgreSQL stops while a candidate is answering in Chromium, then comes back.

gunicorn (deploy/gunicorn.conf.py) serves the app from a private cluster that the
test stops (``pg_ctl stop -m fast``: every session ends, as in a crash of the
database host or a restart) and starts again. The page's autosave queue
(quizapp/static/js/attempt.js) keeps what the server could not store, says so, and
sends it once the server answers again; the server answers each save of the outage
with a JSON 503, never an HTML error page. A form post is held back meanwhile (it
would fail too, and its error page would take the answers' page away).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from quizapp.accounts.models import User
from quizapp.delivery.models import AnswerEvent, Attempt
from quizapp.extensions import db
from tests.browser.conftest import screenshot
from tests.factories import PASSWORD, make_quiz, make_user, right_answers
from tests.processes import gunicorn

pytestmark = [pytest.mark.faults, pytest.mark.browser]

SAVED = re.compile(r"^All answers saved \(")
CONNECTION_PROBLEM = (
    "Connection problem: your answers are kept in this browser and will be sent."
)
STAY = "Stay on this page until then."


def watch(page: Page) -> list[str]:
    """What went wrong in the page: script errors, and failed requests other than
    the autosave's 503s (the outage's own)."""
    problems: list[str] = []

    def on_response(response) -> None:
        outage_save = response.status == 503 and "/answers/" in response.url
        if response.status >= 400 and not outage_save:
            problems.append(f"{response.status} {response.url}")

    def on_console(message) -> None:
        if message.type == "error" and "Failed to load resource" not in message.text:
            problems.append(message.text)

    page.on("response", on_response)
    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


def pending_in_browser(page: Page, attempt_id: int) -> list[str]:
    """The positions whose answers wait in localStorage to be sent."""
    return sorted(
        page.evaluate(
            "id => Object.keys(JSON.parse("
            "localStorage.getItem('quizapp-pending-' + id) || '{}'))",
            attempt_id,
        )
    )


def test_answers_given_during_an_outage_are_kept_and_sent_when_it_ends(
    outage, browser, tmp_path
):
    make_user(email="hedy@example.org", name="Hedy Lamarr")
    make_quiz(
        tmp_path,
        "outage",
        time_limit="10m",
        shuffle=False,
        keys=("single-capital", "tf-sky", "multiple-primes", "text-activation"),
    )
    db.session.remove()
    with gunicorn(outage.url, tmp_path, workers=2) as server:
        context = browser.new_context(
            base_url=server.url, viewport={"width": 1280, "height": 900}
        )
        try:
            page = context.new_page()
            problems = watch(page)
            page.goto("/sign-in")
            page.get_by_label("E-mail").fill("hedy@example.org")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.get_by_role("link", name="Quiz outage").first.click()
            page.get_by_role("button", name="Start").click()
            page.get_by_role("link", name="Show all questions on one page").click()
            expect(page.get_by_role("heading", name="All 4 questions")).to_be_visible()
            expect(page.locator(".timer-static")).to_be_hidden()  # the script runs
            attempt_id = int(re.search(r"/attempts/(\d+)/", page.url)[1])
            status = page.locator("#save-status")

            page.locator("#question-1").get_by_label("Paris").check()
            page.locator("#question-2").get_by_label("True", exact=True).check()
            expect(status).to_have_text(SAVED)

            outage.cluster.stop()
            with page.expect_response(
                lambda response: response.status == 503
            ) as refused:
                page.locator("#question-3").get_by_label("2", exact=True).check()
            page.locator("#question-3").get_by_label("3", exact=True).check()
            page.locator("#question-4").get_by_label("Your answer").fill("ReLU")
            expect(status).to_have_text(CONNECTION_PROBLEM)
            expect(status).to_have_class(re.compile(r"\bsave-failed\b"))
            # Typed text is saved once the typing pauses (0.7 s): wait for it to
            # join the kept answers (it failed the test when read too early).
            page.wait_for_function(
                "id => Object.keys(JSON.parse(localStorage.getItem("
                "'quizapp-pending-' + id) || '{}')).length == 2",
                arg=attempt_id,
            )
            during = pending_in_browser(page, attempt_id)
            page.evaluate("window.scrollTo(0, 0)")  # the sticky bar in its place
            screenshot(page, "delivery-connection-problem")
            refusal = refused.value
            refusal_type = refusal.headers["content-type"]
            refusal_body = refusal.json()
            # A form post would fail too, and its error page would replace this
            # one: the page holds it back and keeps the answers.
            page.get_by_role("button", name="Save answers").click()
            expect(status).to_have_text(f"{CONNECTION_PROBLEM} {STAY}")
            held_at = page.url
            held = pending_in_browser(page, attempt_id)

            outage.cluster.start()
            # The next retry (the delay doubles after each failure, up to 15 s).
            expect(status).to_have_text(SAVED, timeout=30_000)
            after = pending_in_browser(page, attempt_id)
        finally:
            context.close()

    assert refusal.url.endswith(f"/api/attempts/{attempt_id}/answers/3")
    assert refusal_type == "application/json"
    assert refusal_body["error"]["title"] == "Service unavailable"
    assert during == ["3", "4"]
    assert held_at.endswith(f"/attempts/{attempt_id}/all")
    assert held == ["3", "4"]
    assert after == []
    assert problems == []
    attempt = db.session.scalar(
        select(Attempt).join(User).where(User.email == "hedy@example.org")
    )
    answers = right_answers(attempt)
    assert {item.position: item.response for item in attempt.items} == answers
    history = db.session.execute(
        select(AnswerEvent.position, AnswerEvent.response)
        .where(AnswerEvent.attempt_id == attempt.id)
        .order_by(AnswerEvent.id)
    ).all()
    # Stored once each: what failed was not half-written, and what was sent again
    # was the latest answer of its question.
    assert sorted(history) == sorted(answers.items())
