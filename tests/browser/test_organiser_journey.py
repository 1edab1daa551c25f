"""What an organiser does after the screening closes: read the dashboard's charts,
shortlist the top N, take one person off with a reason, and export the CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from quizapp.accounts.models import Role
from tests.browser.conftest import screenshot
from tests.browser.test_delivery_journey import DESKTOP, sign_in
from tests.factories import make_finished_attempt, make_quiz, make_user

pytestmark = pytest.mark.browser

CLOSED = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
SCHOOLS = ("Temasek Polytechnic", "NUS", "NTU", "Republic Polytechnic")
DISCIPLINES = ("Engineering", "Computer science / IT", "Business / economics")


def programme_with_applicants(tmp_path) -> list:
    """A closed screening of 40 applicants and a module check some have passed."""
    module = make_quiz(tmp_path, "m1-check")
    screening = make_quiz(
        tmp_path,
        "screen",
        programme=True,
        modules=("m1-check",),
        opens=CLOSED - timedelta(days=7),
        closes=CLOSED,
    )
    users = []
    for n in range(40):
        user = make_user(
            f"applicant{n:02}@example.org",
            name=f"Applicant {n:02}",
            school=SCHOOLS[n % 4],
            discipline=DISCIPLINES[n % 3],
        )
        percent = 96 - 2.2 * n
        make_finished_attempt(
            user, screening, percent, seconds=900 + 13 * n, finished_at=CLOSED
        )
        if n < 10:
            make_finished_attempt(
                user, module, 90 - 9 * n, finished_at=CLOSED + timedelta(days=3)
            )
        users.append(user)
    return users


def test_organiser_reads_charts_shortlists_removes_one_and_exports(
    page: Page, app, tmp_path
):
    programme_with_applicants(tmp_path)
    make_user("omar@example.org", name="Omar Organiser", roles=(Role.organiser,))
    page.set_viewport_size(DESKTOP)
    sign_in(page, "omar@example.org")

    page.get_by_role("link", name="Programmes", exact=True).click()
    page.get_by_role("link", name="Programme of screen").first.click()
    expect(page.locator("#scores-chart[data-rendered=true]")).to_be_visible()
    expect(page.locator('[data-count="submitted"]')).to_have_text("40")
    expect(page.get_by_text("No cohort yet")).to_be_visible()

    page.get_by_role("link", name="Shortlist", exact=True).click()
    page.get_by_label("How many").fill("10")
    page.get_by_role("button", name="Shortlist", exact=True).click()
    expect(page.get_by_text("10 selected, 5 on the waitlist.")).to_be_visible()
    row = page.locator("#members tr", has_text="Applicant 02")
    row.get_by_placeholder("Reason").fill("Withdrew: accepted a job offer")
    row.get_by_role("button", name="Remove").click()
    expect(page.get_by_text("Applicant 02 taken off.")).to_be_visible()
    history = page.locator("#history")
    expect(history).to_contain_text("took off Applicant 02 (was selected)")
    expect(history).to_contain_text("Withdrew: accepted a job offer")
    expect(history).to_contain_text("Omar Organiser")
    expect(page.locator("#members tr", has_text="Applicant 02")).to_have_count(0)
    screenshot(page, "organiser-shortlist")

    page.get_by_role("link", name="Screening leaderboard").click()
    expect(page.get_by_text("1\u201340 of 40")).to_be_visible()
    screenshot(page, "organiser-leaderboard")
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text())))
    assert len(rows) == 40
    assert [r["name"] for r in rows[:3]] == [
        "Applicant 00",
        "Applicant 01",
        "Applicant 02",
    ]
    assert rows[2]["shortlist"] == ""
    assert sum(r["shortlist"] == "selected" for r in rows) == 9

    page.get_by_role("link", name="Dashboard").click()
    expect(page.locator("#scores-chart[data-rendered=true]")).to_be_visible()
    expect(page.locator("#modules-chart[data-rendered=true]")).to_be_visible()
    expect(page.locator('[data-count="shortlisted"]')).to_have_text("9")
    screenshot(page, "organiser-dashboard")
