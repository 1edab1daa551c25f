"""What a candidate does with a timed quiz: start it from the dashboard, answer every
kind of question, reload, submit and read the score; let the time run out; take it
without JavaScript; take it with the keyboard alone; take it on a phone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from quizapp.accounts.models import User
from quizapp.delivery.models import SUBMITTED, TIMED_OUT, Attempt
from quizapp.extensions import db
from tests.browser.conftest import screenshot
from tests.factories import PASSWORD, make_quiz, make_user

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}
SAVED = re.compile(r"All answers saved \(")
BLUE = "rgb(13, 110, 253)"  # Bootstrap's primary: an answered question
TYPES = ("single", "multiple", "true_false", "numeric", "text", "blanks")
TYPES += ("ordering", "matching")


# --- what a person does ----------------------------------------------------------


def sign_up(page: Page) -> None:
    page.goto("/")
    page.get_by_role("link", name="Create a candidate account").first.click()
    page.get_by_label("Full name").fill("Katherine Johnson")
    page.get_by_label("E-mail").fill("katherine@example.org")
    page.get_by_label("Password", exact=True).fill("orbit slide rule scout")
    page.get_by_label("Repeat the password").fill("orbit slide rule scout")
    page.get_by_label("School or employer").fill("West Virginia University")
    page.get_by_label("Discipline").select_option("Mathematics / statistics")
    page.get_by_label("Graduation year").fill("2027")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Hello, Katherine Johnson")).to_be_visible()


def sign_in(page: Page, email: str) -> None:
    page.goto("/sign-in")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name=re.compile("^Hello, "))).to_be_visible()


def start(page: Page, title: str) -> None:
    """From the dashboard, open the quiz and press Start."""
    page.get_by_role("link", name=title).first.click()
    expect(page.get_by_role("heading", name=title)).to_be_visible()
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_role("heading", name="Question 1 of")).to_be_visible()


def on_question(page: Page, position: int, count: int, live: bool = True) -> None:
    """Question ``position`` is shown and, with ``live``, its script has taken over
    (the note about the time left at page load gives way to the running timer)."""
    heading = page.get_by_role("heading", name=f"Question {position} of {count}")
    expect(heading).to_be_visible()
    if live:
        expect(page.locator(".timer-static")).to_be_hidden()


def question_type(page: Page) -> str:
    return page.locator("#answer-form .question-body").get_attribute("data-type")


def product_in(prompt: Locator) -> str:
    """The prompt reads "What is a x b for a = 3 and b = 4?" (typeset or not)."""
    values = dict(re.findall(r"([ab])\s*=\s*(\d+)", prompt.text_content()))
    return str(int(values["a"]) * int(values["b"]))


def answer(form: Locator) -> None:
    """Give the right answer with the page's own controls, found by their labels
    (choices are shuffled, so never by position)."""
    kind = form.locator(".question-body").get_attribute("data-type")
    if kind == "single":
        form.get_by_label("Paris").check()
    elif kind == "multiple":
        form.get_by_label("2", exact=True).check()
        form.get_by_label("3", exact=True).check()
    elif kind == "true_false":
        form.get_by_label("True", exact=True).check()
    elif kind == "numeric":
        form.get_by_label("Your answer (a number)").fill(
            product_in(form.locator(".question-prompt"))
        )
    elif kind == "text":
        form.get_by_label("Your answer", exact=True).fill("ReLU")
    elif kind == "blanks":
        form.get_by_label("blank b0").fill("intercept")
        form.get_by_label("blank b1").fill("slope")
    elif kind == "ordering":
        for rank, step in enumerate(
            ("Collect data", "Train the model", "Evaluate the model"), start=1
        ):
            form.get_by_label(step).select_option(str(rank))
    elif kind == "matching":
        form.get_by_label("Predict a price").select_option(label="Regression")
        form.get_by_label("Detect spam").select_option(label="Classification")
    else:
        raise AssertionError(f"unknown question type {kind!r}")


def expect_answered(form: Locator) -> None:
    """The right answer is still in the page's controls."""
    kind = form.locator(".question-body").get_attribute("data-type")
    if kind == "single":
        expect(form.get_by_label("Paris")).to_be_checked()
    elif kind == "multiple":
        expect(form.get_by_label("2", exact=True)).to_be_checked()
        expect(form.get_by_label("3", exact=True)).to_be_checked()
        expect(form.get_by_label("4", exact=True)).not_to_be_checked()
    elif kind == "true_false":
        expect(form.get_by_label("True", exact=True)).to_be_checked()
    elif kind == "numeric":
        expect(form.get_by_label("Your answer (a number)")).to_have_value(
            product_in(form.locator(".question-prompt"))
        )
    elif kind == "text":
        expect(form.get_by_label("Your answer", exact=True)).to_have_value("ReLU")
    elif kind == "blanks":
        expect(form.get_by_label("blank b0")).to_have_value("intercept")
        expect(form.get_by_label("blank b1")).to_have_value("slope")
    elif kind == "ordering":
        expect(form.get_by_label("Collect data")).to_have_value("1")
        expect(form.get_by_label("Train the model")).to_have_value("2")
        expect(form.get_by_label("Evaluate the model")).to_have_value("3")
    elif kind == "matching":
        chosen = form.get_by_label("Predict a price").locator("option:checked")
        expect(chosen).to_have_text("Regression")
        chosen = form.get_by_label("Detect spam").locator("option:checked")
        expect(chosen).to_have_text("Classification")


def navigator_button(page: Page, position: int) -> Locator:
    return page.locator(f'.nav-q[data-position="{position}"]')


def accept_dialogs(page: Page) -> list[str]:
    """Accept every confirm dialog, as a candidate who means it; return their texts."""
    texts: list[str] = []

    def accept(dialog) -> None:
        texts.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    return texts


def seconds_on(timer: Locator) -> int:
    minutes, seconds = timer.inner_text().split(":")
    return int(minutes) * 60 + int(seconds)


def attempt_of(email: str) -> Attempt:
    """The candidate's attempt as the database holds it now."""
    db.session.rollback()  # end the test's transaction: read what the server wrote
    return db.session.scalar(select(Attempt).join(User).where(User.email == email))


# --- the journeys ----------------------------------------------------------------


def test_candidate_answers_every_type_reloads_submits_and_sees_full_marks(
    page: Page, app, tmp_path
):
    make_quiz(tmp_path, "screening", time_limit="10m", programme=True)
    page.set_viewport_size(DESKTOP)
    sign_up(page)

    quizzes = page.get_by_role("region", name="Your quizzes")
    row = quizzes.locator(".list-group-item", has_text="Quiz screening")
    expect(row).to_contain_text("Programme of screening · screening")
    expect(row).to_contain_text("8 questions · 10 min")
    start(page, "Quiz screening")

    form = page.locator("#answer-form")
    timer = page.locator("#timer")
    status = page.locator("#save-status")
    seen = []
    for position in range(1, 9):
        on_question(page, position, 8)
        seen.append(question_type(page))
        answer(form)
        expect(status).to_have_text(SAVED)
        expect(navigator_button(page, position)).to_have_accessible_name(
            f"Question {position}, answered"
        )
        if seen[-1] == "single":
            expect(navigator_button(page, position)).to_have_css(
                "background-color", BLUE
            )
            screenshot(page, "quiz-question-desktop")
        if seen[-1] == "blanks":
            # The page is reloaded (no form post): both typed blanks were autosaved,
            # and the clock carries on from where it was, not from the full limit.
            before = seconds_on(timer)
            page.reload()
            on_question(page, position, 8)
            expect_answered(form)
            after = int(timer.get_attribute("data-remaining"))
            assert before - 5 <= after <= before, f"{before} s left, then {after} s"
            shown = timer.inner_text()
            expect(timer).not_to_have_text(shown, timeout=3000)  # still counting
        if position < 8:
            page.get_by_role("button", name="Save and next").click()
    assert sorted(seen) == sorted(TYPES)

    # Back to an earlier question through the navigator: still answered.
    page.get_by_role("button", name="Question 2, answered").click()
    on_question(page, 2, 8)
    expect_answered(form)

    page.get_by_role("button", name="Review and submit").click()
    expect(page.get_by_role("heading", name="Review and submit")).to_be_visible()
    expect(page.get_by_text("You have answered 8 of 8 questions.")).to_be_visible()
    screenshot(page, "quiz-review")
    dialogs = accept_dialogs(page)
    page.get_by_role("button", name="Submit my answers").click()

    expect(page.locator("#score")).to_have_text("8 / 8")
    expect(page.locator("#percent")).to_have_text("100%")
    expect(page.locator("#pass-state")).to_have_text("Passed")
    expect(page.get_by_text("Your answers are submitted.")).to_be_visible()
    expect(page.locator(".result-item .badge", has_text="Right")).to_have_count(8)
    screenshot(page, "quiz-result")
    assert dialogs == []  # nothing was left unanswered, so nothing to confirm
    attempt = attempt_of("katherine@example.org")
    assert attempt.finish_reason == SUBMITTED
    assert attempt.score == attempt.max_score == 8

    page.get_by_role("link", name="Back to your quizzes").click()
    row = page.locator(".list-group-item", has_text="Quiz screening")
    expect(row).to_contain_text("Attempt 1: 100%, passed")
    expect(row).to_contain_text("Done")


def test_the_page_submits_the_saved_answers_when_the_time_runs_out(
    page: Page, app, tmp_path
):
    make_user("dorothy@example.org", name="Dorothy Vaughan")
    make_quiz(
        tmp_path,
        "sprint",
        time_limit="15s",
        shuffle=False,
        keys=("single-capital", "tf-sky"),
    )
    page.set_viewport_size(DESKTOP)
    sign_in(page, "dorothy@example.org")
    start(page, "Quiz sprint")
    on_question(page, 1, 2)

    page.get_by_label("Paris").check()
    expect(page.locator("#save-status")).to_have_text(SAVED)
    expect(page.locator("#timer-warning")).to_contain_text("1 minute left")

    # Nobody touches the page. At zero it says so and takes no more answers...
    expect(page.locator("#timer-warning")).to_have_text(
        "Time is up. Submitting your saved answers…", timeout=20_000
    )
    expect(page.get_by_label("Lyon")).to_be_disabled()
    # ...then submits what was saved, by itself, and shows the result.
    expect(page).to_have_url(re.compile(r"/attempts/\d+/result$"), timeout=25_000)
    expect(
        page.get_by_text("submitted automatically when the time ran out")
    ).to_be_visible()
    expect(page.get_by_text("1 of 2 questions answered")).to_be_visible()
    expect(page.locator("#score")).to_have_text("1 / 2")
    expect(page.locator(".result-item").first).to_contain_text("Right")
    expect(page.get_by_role("alert")).to_have_text(
        "Time is up. Your saved answers were submitted."
    )
    attempt = attempt_of("dorothy@example.org")
    assert attempt.finish_reason == TIMED_OUT
    assert attempt.finished_at == attempt.deadline_at


def test_the_quiz_works_without_javascript(new_context, app, tmp_path):
    make_user("mary@example.org", name="Mary Jackson")
    make_quiz(tmp_path, "plain", time_limit="10m")
    page = new_context(java_script_enabled=False).new_page()
    page.set_viewport_size(DESKTOP)
    sign_in(page, "mary@example.org")
    start(page, "Quiz plain")

    # Without the script the time left is shown as of the page load, with the end time.
    expect(page.get_by_text("Time left when this page loaded")).to_be_visible()
    expect(page.locator("#timer")).to_have_text(re.compile(r"^(10:00|9:5\d)$"))
    form = page.locator("#answer-form")
    for position in range(1, 9):
        on_question(page, position, 8, live=False)
        answer(form)
        if position == 3:
            # A plain post through the navigator saves question 3 and opens 1.
            page.get_by_role("button", name="Question 1, answered").click()
            on_question(page, 1, 8, live=False)
            expect_answered(form)
            page.get_by_role("button", name="Question 3, answered").click()
            on_question(page, 3, 8, live=False)
            expect_answered(form)
        if position < 8:
            page.get_by_role("button", name="Save and next").click()
        else:
            page.get_by_role("button", name="Review and submit").click()

    expect(page.get_by_text("You have answered 8 of 8 questions.")).to_be_visible()
    page.get_by_role("button", name="Submit my answers").click()
    expect(page.get_by_text("Your answers are submitted.")).to_be_visible()
    expect(page.locator("#score")).to_have_text("8 / 8")
    expect(page.locator("#pass-state")).to_have_text("Passed")
    assert attempt_of("mary@example.org").finish_reason == SUBMITTED


def tab_to(page: Page, target: Locator, limit: int = 40) -> None:
    """Press Tab until ``target`` has the focus (and shows it)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("el => el === document.activeElement"):
            assert target.evaluate("el => el.matches(':focus-visible')")
            return
    raise AssertionError(f"{target} cannot be reached with Tab")


def test_a_keyboard_alone_answers_moves_on_and_submits(page: Page, app, tmp_path):
    make_user("annie@example.org", name="Annie Easley")
    make_quiz(
        tmp_path,
        "keys",
        shuffle=False,
        keys=("multiple-primes", "tf-sky", "single-capital"),
    )
    page.set_viewport_size(DESKTOP)
    sign_in(page, "annie@example.org")
    start(page, "Quiz keys")
    on_question(page, 1, 3)
    status = page.locator("#save-status")

    for prime in ("2", "3"):
        choice = page.get_by_label(prime, exact=True)
        tab_to(page, choice)
        page.keyboard.press("Space")
        expect(choice).to_be_checked()
    expect(status).to_have_text(SAVED)
    tab_to(page, page.get_by_role("button", name="Save and next"))
    page.keyboard.press("Enter")

    on_question(page, 2, 3)
    true = page.get_by_label("True", exact=True)
    tab_to(page, true)
    page.keyboard.press("Space")
    expect(true).to_be_checked()
    expect(status).to_have_text(SAVED)
    tab_to(page, page.get_by_role("button", name="Review and submit"))
    page.keyboard.press("Enter")

    expect(page.get_by_text("You have answered 2 of 3 questions.")).to_be_visible()
    expect(page.locator("#unanswered-list")).to_have_text("Question 3")
    dialogs = accept_dialogs(page)
    tab_to(page, page.get_by_role("button", name="Submit my answers"))
    page.keyboard.press("Enter")

    expect(page.locator("#score")).to_have_text("2 / 3")
    assert dialogs == ["1 question not answered. Submit anyway?"]
    attempt = attempt_of("annie@example.org")
    assert [item.response for item in attempt.items] == [[0, 1], True, None]


def test_every_question_page_fits_a_phone_with_the_timer_in_sight(
    page: Page, app, tmp_path
):
    make_user("mae@example.org", name="Mae Jemison")
    make_quiz(tmp_path, "phone", time_limit="10m")
    page.set_viewport_size(PHONE)
    sign_in(page, "mae@example.org")
    start(page, "Quiz phone")

    timer = page.locator("#timer")
    form = page.locator("#answer-form")
    for position in range(1, 9):
        on_question(page, position, 8)
        answer(form)  # Playwright only uses a control that is visible and enabled
        assert_fits_phone(page)
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        expect(timer).to_be_in_viewport()  # the timer stays at the top
        if question_type(page) == "single":
            expect(page.locator("#save-status")).to_have_text(SAVED)
            page.evaluate("window.scrollTo(0, 0)")
            screenshot(page, "quiz-question-phone")
        page.get_by_role(
            "button", name="Save and next" if position < 8 else "Review and submit"
        ).click()

    expect(page.get_by_text("You have answered 8 of 8 questions.")).to_be_visible()
    assert_fits_phone(page)
    page.get_by_role("link", name="Back to the questions").click()
    page.get_by_role("link", name="Show all questions on one page").click()
    expect(page.get_by_role("heading", name="All 8 questions")).to_be_visible()
    for section in page.locator(".attempt-question").all():
        expect_answered(section)
    assert_fits_phone(page)
    page.get_by_role("button", name="Review and submit").click()
    page.get_by_role("button", name="Submit my answers").click()
    expect(page.locator("#score")).to_have_text("8 / 8")
    assert_fits_phone(page)


def assert_fits_phone(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width}px wide on a 360px screen"
