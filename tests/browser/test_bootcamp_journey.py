"""The bootcamp as people live it: a participant passes a module check and sees
their progress move; a judge scores the mini-project on the rubric; an organiser
issues the certificate; anyone confirms it on the verification page. Saves the
screenshots of the participant view, the cohort grid, the judge's form, the
certificates page, the verification page and the certificate PDF (as PNG)."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from playwright.sync_api import Page, expect

from quizapp.accounts.models import Role
from tests.bootcamp_fixtures import WHEN, make_bootcamp
from tests.browser.conftest import SCREENSHOTS, screenshot
from tests.browser.test_delivery_journey import DESKTOP, sign_in
from tests.factories import make_finished_attempt, make_user

pytestmark = pytest.mark.browser


def sign_out(page: Page) -> None:
    page.locator(".navbar .dropdown-toggle").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()


def test_progress_judging_certificate_and_verification(page: Page, app, tmp_path):
    bootcamp = make_bootcamp(tmp_path, participants=4, m1_keys=("tf-sky",))
    ada, bea, cy, _dee = bootcamp.participants
    # The rest of the cohort, so the grid has every state to show.
    bootcamp.pass_modules(bea)
    make_finished_attempt(cy, bootcamp.m1, 30, finished_at=WHEN)
    make_finished_attempt(ada, bootcamp.m2, 85, finished_at=WHEN)
    make_user("ines@example.org", name="Ines Instructor", roles=(Role.instructor,))
    make_user("omar@example.org", name="Omar Organiser", roles=(Role.organiser,))
    page.set_viewport_size(DESKTOP)

    # The participant: module one not passed yet; take its check and pass it.
    sign_in(page, ada.email)
    card = page.locator(".bootcamp-card")
    expect(card).to_contain_text("1 of 3 modules completed")
    card.get_by_role("link", name="Your progress").click()
    module_one = page.locator('[data-module="module-one"]')
    expect(module_one).to_have_attribute("data-status", "not_started")
    page.locator("[data-next=bc-m1]").click()
    page.get_by_role("button", name="Start").click()
    page.locator("#answer-form").get_by_label("True", exact=True).check()
    expect(page.locator("#save-status")).to_have_text(re.compile("saved"))
    page.get_by_role("button", name="Review and submit").click()
    page.get_by_role("button", name="Submit my answers").click()
    expect(page.locator("#pass-state")).to_have_text("Passed")

    page.goto("/programmes/bc/progress")
    expect(module_one).to_have_attribute("data-status", "completed")
    expect(page.locator("[data-completed]")).to_have_text("2 of 3")
    expect(page.locator('[data-module="project"]')).to_contain_text(
        "Present the project to the judges"
    )
    screenshot(page, "bootcamp-participant-progress")
    sign_out(page)

    # The judge scores the mini-project on the rubric.
    sign_in(page, "ines@example.org")
    page.goto("/judging")
    page.get_by_role("link", name=re.compile("Project")).first.click()
    page.get_by_role("link", name=ada.name).click()
    page.get_by_label(re.compile("^Framing")).fill("8")
    page.get_by_label(re.compile("^Method")).fill("15.5")
    page.get_by_label(re.compile("^Comment")).fill(
        "Clear framing; validate on held-out data."
    )
    screenshot(page, "bootcamp-judging-form")
    page.get_by_role("button", name=re.compile("Submit")).click()
    expect(page.get_by_text("23.5")).to_be_visible()
    sign_out(page)

    # The organiser sees the grid, issues the certificate.
    sign_in(page, "omar@example.org")
    page.goto("/organise/programmes/bc/progress")
    row = page.locator(f'tr[data-user="{ada.id}"]')
    expect(row.locator('[data-module="project"]')).to_have_attribute(
        "data-status", "completed"
    )
    expect(row.locator('[data-module="project"]')).to_contain_text("78%")
    screenshot(page, "bootcamp-cohort-grid")
    page.goto("/organise/programmes/bc/certificates")
    page.locator("tr", has_text=ada.name).get_by_role("button", name="Issue").click()
    expect(page.get_by_text(re.compile(f"issued to {ada.name}", re.I))).to_be_visible()
    screenshot(page, "bootcamp-certificates")
    code = page.locator("tr", has_text=ada.name).locator("code").first.inner_text()
    sign_out(page)

    # The participant downloads the PDF; an employer verifies the code.
    sign_in(page, ada.email)
    page.goto("/programmes/bc/progress")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the PDF").click()
    pdf = tmp_path / "certificate.pdf"
    download.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    sign_out(page)

    page.goto(f"/verify/{code}")
    expect(page.get_by_text("Valid", exact=True).first).to_be_visible()
    expect(page.get_by_text(ada.name).first).to_be_visible()
    screenshot(page, "bootcamp-verify")

    pdftoppm = shutil.which("pdftoppm")
    assert pdftoppm, "pdftoppm is missing: scripts/ensure-chromium installs it"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            pdftoppm,
            "-png",
            "-r",
            "100",
            "-singlefile",
            str(pdf),
            str(SCREENSHOTS / "bootcamp-certificate"),
        ],
        check=True,
        timeout=60,
    )
    assert (SCREENSHOTS / "bootcamp-certificate.png").stat().st_size > 10_000
