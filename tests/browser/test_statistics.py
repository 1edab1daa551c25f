"""An instructor reads a quiz's item statistics: the scatter chart draws, the flagged
questions stand out, and the first/last/all switch recounts."""

from __future__ import annotations

import math
import random

import pytest
from playwright.sync_api import Page, expect

from quizapp.accounts.models import Role
from quizapp.core import clock
from quizapp.delivery import services
from quizapp.extensions import db
from tests.browser.conftest import screenshot
from tests.browser.test_delivery_journey import DESKTOP, sign_in
from tests.factories import make_quiz, make_user, right_answers

pytestmark = pytest.mark.browser

SLUG = "ml-basics-check"
CANDIDATES = 40
RETAKES = 10

#: Per question of the every-type bank: how hard it is (0 easy, 1 hard), and a
#: right, a partly right and a wrong response. None: use the variant's own answer.
QUESTIONS = {
    "single-capital": (0.05, 1, 1, 0),
    "multiple-primes": (0.5, [0, 1], [0], [2, 3]),
    "tf-sky": (None, True, True, False),  # answered right more by weaker candidates
    "numeric-product": (0.45, None, None, "1"),
    "text-activation": (0.6, "ReLU", "ReLU", "sigmoid"),
    "blanks-regression": (0.55, {"b0": "intercept", "b1": "slope"},
                          {"b0": "intercept", "b1": "bias"}, {"b0": "x", "b1": "y"}),
    "ordering-pipeline": (0.35, [0, 1, 2], [0, 1, 2], [1, 0, 2]),
    "matching-tasks": (0.7, None, None, {"0": 1, "1": 0}),
}  # fmt: skip


def responses_for(attempt, ability: float, rng: random.Random) -> list:
    """What a candidate of ``ability`` (0 to 1) answers, question by question."""
    rights = right_answers(attempt)
    out = []
    for item in services.items_of(attempt):
        hardness, right, partial, wrong = QUESTIONS[item.version.question.key]
        right = rights[item.position] if right is None else right
        partial = right if partial is None else partial
        if hardness is None:
            chance = 0.9 - 0.5 * ability
        else:
            chance = 1 / (1 + math.exp(-8 * (ability - hardness)))
        roll = rng.random()
        out.append(
            right if roll < chance else partial if roll < chance + 0.1 else wrong
        )
    return out


def cohort(tmp_path) -> None:
    """40 candidates of spread abilities, 10 of whom took the quiz twice."""
    quiz = make_quiz(
        tmp_path, SLUG, attempts=2, time_limit=None, shuffle=False, pass_mark="50%"
    )
    rng = random.Random(2026)
    origin = services.Origin(channel="form")
    for n in range(CANDIDATES):
        user = make_user(f"cand{n:02}@example.org", name=f"Candidate {n:02}")
        ability = n / (CANDIDATES - 1)
        for retake in range(2 if n < RETAKES else 1):
            now = clock.now()
            attempt = services.start_attempt(user, quiz, now)
            answers = responses_for(attempt, min(1.0, ability + 0.3 * retake), rng)
            for item, response in zip(services.items_of(attempt), answers, strict=True):
                services.save_response(attempt, item, response, now, origin)
            services.submit_attempt(attempt, now)
            db.session.commit()


def test_instructor_reads_the_item_statistics(page: Page, app, tmp_path):
    cohort(tmp_path)
    make_user("ines@example.org", name="Ines Instructor", roles=(Role.instructor,))
    page.set_viewport_size(DESKTOP)
    sign_in(page, "ines@example.org")

    page.goto(f"/staff/quizzes/{SLUG}/statistics")
    expect(page.locator("#scatter-chart[data-rendered=true]")).to_be_visible()
    expect(page.locator("#scatter-fallback")).to_have_class(
        "small text-body-secondary visually-hidden"
    )
    expect(page.locator('[data-stat="attempts"]')).to_have_text(str(CANDIDATES))
    flagged = page.locator('tr[data-question="every-type/tf-sky"]')
    expect(flagged.locator('[data-flag="negative"]')).to_be_visible()
    expect(page.locator("#flagged-summary")).to_contain_text("every-type/tf-sky")
    expect(page.locator("#options-1")).to_contain_text("Paris")
    screenshot(page, "statistics")

    page.get_by_role("link", name="All attempts").click()
    expect(page.locator('[data-stat="attempts"]')).to_have_text(
        str(CANDIDATES + RETAKES)
    )
    expect(page.locator("#scatter-chart[data-rendered=true]")).to_be_visible()
