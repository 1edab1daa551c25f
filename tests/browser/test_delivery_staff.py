"""What an organiser does while a quiz runs: give a candidate extra time and see
the candidate's own page pick it up; read the attempt with its integrity signals."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from quizapp.accounts.models import Role
from tests.browser.conftest import screenshot
from tests.browser.test_delivery_journey import (
    DESKTOP,
    attempt_of,
    on_question,
    seconds_on,
    sign_in,
    start,
)
from tests.factories import make_quiz, make_user

pytestmark = pytest.mark.browser


def test_extra_time_reaches_a_running_attempt_and_signals_show_for_staff(
    page: Page, browser: Browser, base_url: str, app, tmp_path
):
    make_user("mary@example.org", name="Mary Jackson")
    make_user("omar@example.org", name="Omar Organiser", roles=(Role.organiser,))
    make_quiz(tmp_path, "timed", time_limit="10m")
    page.set_viewport_size(DESKTOP)
    sign_in(page, "mary@example.org")
    start(page, "Quiz timed")
    on_question(page, 1, 8)
    timer = page.locator("#timer")
    assert seconds_on(timer) <= 600
    # The candidate looks at another window: the page reports it.
    page.evaluate("window.dispatchEvent(new Event('blur'))")

    organiser = browser.new_context(base_url=base_url, viewport=DESKTOP)
    staff = organiser.new_page()
    sign_in(staff, "omar@example.org")
    staff.goto("/staff/quizzes/timed/accommodations")
    staff.get_by_label("Candidate's e-mail").fill("mary@example.org")
    staff.get_by_label("Extra minutes").fill("20")
    staff.get_by_label("Reason").fill("Approved by the programme office")
    staff.get_by_role("button", name="Save accommodation").click()
    expect(
        staff.get_by_text("Accommodation saved for mary@example.org.")
    ).to_be_visible()
    row = staff.locator("tbody tr", has_text="Mary Jackson")
    expect(row).to_contain_text("30 min")
    screenshot(staff, "staff-accommodations")

    # The candidate's page resynchronises when it becomes visible again (and every
    # 30 s): the countdown now runs from about 30 minutes.
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    expect(timer).to_have_text(re.compile(r"^(29|30):\d\d$"))
    attempt = attempt_of("mary@example.org")
    assert (attempt.deadline_at - attempt.started_at).total_seconds() == 30 * 60

    staff.goto("/staff/quizzes/timed/attempts")
    listing = staff.locator("tbody tr", has_text="Mary Jackson")
    expect(listing).to_contain_text("in progress")
    listing.get_by_role("link", name="Mary Jackson").click()
    expect(staff.get_by_text("focus lost: window lost focus")).to_be_visible()
    granted = "accommodation: 1\N{MULTIPLICATION SIGN} + 20 min"
    expect(staff.get_by_text(granted)).to_be_visible()
    screenshot(staff, "staff-attempt")
    organiser.close()
