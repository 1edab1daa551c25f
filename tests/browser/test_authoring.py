"""An instructor writes a parameterised numeric question in the browser, watches the
live preview (math typeset, two samples), saves it, finds it in a quiz, and a
candidate then meets it with numbers of their own."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from quizapp.accounts.models import Role
from quizapp.banks import sync
from quizapp.extensions import db
from tests.browser.conftest import screenshot
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.browser

BANK = """\
bank: neurons
title: Neurons
module: neural-networks
questions:
  - id: relu-range
    type: single
    tags: [neurons]
    prompt: What is the range of $\\mathrm{ReLU}(x) = \\max(0, x)$?
    choices:
      - text: "$[0, \\\\infty)$"
        correct: true
      - text: "$(-1, 1)$"
"""
POOL_QUIZ = """\
quiz: neurons-check
title: Neurons check
sections:
  - draw: 1
    from: {bank: neurons, tags: [neurons]}
"""
LISTED_QUIZ = """\
quiz: neuron-output-quiz
title: Neuron output quiz
time_limit: 10m
sections:
  - questions: [neurons/neuron-output]
"""
PROMPT = (
    "A neuron has weight {{w}} and input {{x}}, no bias and the identity "
    "activation $f(z) = z$. What is its output $y = w \\cdot x$?"
)


@pytest.fixture
def content(app, tmp_path: Path) -> Path:
    (tmp_path / "neurons").mkdir()
    (tmp_path / "neurons" / "bank.yaml").write_text(BANK)
    (tmp_path / "quizzes").mkdir()
    (tmp_path / "quizzes" / "neurons-check.yaml").write_text(POOL_QUIZ)
    _report, problems = sync.import_paths([tmp_path])
    assert problems == [], [str(p) for p in problems]
    db.session.commit()
    return tmp_path


def sign_in(page: Page, email: str) -> None:
    page.goto("/sign-in")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name=re.compile("^Hello, "))).to_be_visible()


def sample_text(page: Page) -> str:
    sample = page.locator("#preview .preview-sample")
    expect(sample).to_be_visible()
    return sample.inner_text()


def test_instructor_writes_previews_and_saves_a_parameterised_question(
    page: Page, content: Path
):
    make_user("ines@example.org", roles=(Role.instructor,), name="Ines Instructor")
    page.set_viewport_size({"width": 1400, "height": 1000})
    sign_in(page, "ines@example.org")

    page.goto("/banks/neurons")
    page.get_by_role("link", name="New question").click()
    page.get_by_role("link", name="Numeric").click()
    expect(page.get_by_role("heading", name="New question Numeric")).to_be_visible()
    page.get_by_label("Id", exact=True).fill("neuron-output")
    page.get_by_label("Prompt", exact=True).fill(PROMPT)
    page.locator("#params-0-name").fill("w")
    page.locator("#params-0-kind").select_option("randint")
    page.locator("#params-0-value").fill("2, 9")
    page.locator('[data-add-row="params"]').click()
    page.locator("#params-1-name").fill("x")
    page.locator("#params-1-kind").select_option("choice")
    page.locator("#params-1-value").fill("0.5, 1.5, 2.5")
    page.get_by_label("Answer", exact=True).fill("w * x")
    page.get_by_label("Tolerance", exact=True).fill("0.01")
    page.get_by_label("Difficulty", exact=True).select_option("easy")
    page.get_by_label("Tags", exact=True).fill("neurons")

    # The live preview follows the typing: the candidate's view, math typeset.
    expect(page.locator("#preview .question-body[data-type=numeric]")).to_be_visible()
    expect(page.locator("#preview .question-prompt .katex").first).to_be_visible()
    first = sample_text(page)
    assert first.startswith("Sample 1: w = ")
    prompt = page.locator("#preview .question-prompt")
    expect(prompt).to_contain_text("A neuron has weight ")
    expect(prompt).not_to_contain_text("{{w}}")

    # A mistake is shown at once next to its field, with the checker's words.
    page.get_by_label("Answer", exact=True).fill("w * z")
    expect(page.locator("#answer-error")).to_have_text(
        "'z' is not one of the question's params"
    )
    page.get_by_label("Answer", exact=True).fill("w * x")
    expect(page.locator("#answer-error")).to_have_count(0)

    page.get_by_role("button", name="New sample").click()
    expect(page.locator("#preview .preview-sample")).to_contain_text("Sample 2:")
    second = sample_text(page)
    assert second != first
    page.get_by_label("Key", exact=True).check()
    expect(page.locator("#preview")).to_contain_text("Answer key (staff only)")
    expect(page.locator("#preview")).to_contain_text("w * x = ")
    screenshot(page, "authoring-editor")

    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved as version 1.")).to_be_visible()
    expect(
        page.get_by_role("heading", name=re.compile("neuron-output"))
    ).to_be_visible()
    expect(page.get_by_text("browser ·")).to_be_visible()

    page.get_by_role("link", name="Edit").click()
    expect(page.locator(".quiz-use")).to_have_text(
        "neurons-check (section 1, drawn from a pool)"
    )

    # Someone adds it to a quiz in git; a candidate meets it with their own numbers.
    (content / "quizzes" / "neuron-output-quiz.yaml").write_text(LISTED_QUIZ)
    _report, problems = sync.import_paths([content / "quizzes"])
    assert problems == [], [str(p) for p in problems]
    db.session.commit()
    make_user("cand@example.org", name="Cara Candidate")
    page.context.clear_cookies()
    sign_in(page, "cand@example.org")
    page.goto("/quizzes")
    page.get_by_role("link", name="Neuron output quiz").first.click()
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_role("heading", name="Question 1 of 1")).to_be_visible()
    shown = page.locator(".question-prompt")
    expect(shown).to_contain_text(re.compile(r"weight \d and input \d\.5"))
    expect(shown.locator(".katex").first).to_be_visible()


def test_the_editor_saves_without_javascript(browser, live_server, content):
    make_user("ines@example.org", roles=(Role.instructor,))
    context = browser.new_context(java_script_enabled=False, base_url=live_server)
    page = context.new_page()
    page.goto("/sign-in")
    page.get_by_label("E-mail").fill("ines@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.goto("/authoring/banks/neurons/new/true_false")
    page.get_by_label("Id", exact=True).fill("no-script")
    page.get_by_label("Prompt", exact=True).fill("Works without $\\LaTeX$ script.")
    page.get_by_label("The statement is").select_option("true")
    page.get_by_role("button", name="Preview").click()
    expect(
        page.locator("#preview .question-body[data-type=true_false]")
    ).to_be_visible()
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_text("Saved as version 1.")).to_be_visible()
    context.close()
