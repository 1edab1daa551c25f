"""An instructor browses the sample banks and previews a question with math, code and
an image, exactly as a candidate will see it."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from quizapp.accounts.models import Role
from quizapp.banks import sync
from quizapp.extensions import db
from tests.browser.conftest import screenshot
from tests.factories import make_user

pytestmark = pytest.mark.browser
SAMPLE = Path(__file__).parents[2] / "question_banks"


@pytest.fixture
def content(app):
    report, problems = sync.import_paths([SAMPLE])
    assert problems == []
    db.session.commit()
    return report


def sign_in(page: Page, email: str) -> None:
    page.goto("/sign-in")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()


def test_instructor_previews_questions_with_math_code_and_images(page: Page, content):
    make_user("ines@example.org", roles=(Role.instructor,), name="Ines Instructor")
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, "ines@example.org")

    page.get_by_role("link", name="Question banks").click()
    expect(page.get_by_role("heading", name="Question banks")).to_be_visible()
    expect(page.get_by_role("link", name="Artificial Neural Networks")).to_be_visible()
    programme = page.locator(".card", has_text="DeepTech Talents Training (demo)")
    expect(programme).to_contain_text("Screening: DeepTech Talents screening quiz")
    expect(programme.locator("li")).to_have_count(4)
    expect(programme).to_contain_text("project, 4 criteria")
    screenshot(page, "banks-index")

    page.get_by_role("link", name="Artificial Neural Networks").click()
    page.get_by_label("Type").select_option("numeric")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("tbody tr").first).to_contain_text("numeric")
    screenshot(page, "bank-questions")

    page.goto("/banks/neural-networks/questions/forward-pass-diagram")
    figure = page.locator(".question-prompt img")
    expect(figure).to_be_visible()
    assert figure.evaluate("img => img.complete && img.naturalWidth > 0")
    expect(page.locator(".question-prompt .katex").first).to_be_visible()
    expect(page.get_by_role("heading", name="Answer key (staff only)")).to_be_visible()
    screenshot(page, "question-preview")

    page.goto("/banks/dl-mini-project/questions/pytorch-linear-in-features")
    expect(page.locator(".question-prompt pre.highlight .k").first).to_be_visible()

    page.goto("/banks/neural-networks/questions/dense-layer-parameters")
    expect(page.get_by_text("Sample 1:")).to_be_visible()
    page.get_by_role("link", name="New sample").click()
    expect(page.get_by_text("Sample 2:")).to_be_visible()


def test_a_candidate_is_refused_the_bank_pages(page: Page, content):
    make_user("cand@example.org")
    sign_in(page, "cand@example.org")

    expect(page.get_by_role("link", name="Question banks")).to_have_count(0)
    page.goto("/banks")
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
