"""The staff bank pages and the asset route: who may see what, and what they see."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from quizapp.accounts.models import Role
from quizapp.banks import sync
from quizapp.banks.models import Question, QuestionVersion
from quizapp.extensions import db
from tests.factories import make_user

BANK = """\
bank: web
title: Web bank
questions:
  - id: shown
    type: single
    difficulty: easy
    tags: [relu]
    prompt: |
      ReLU is $\\max(0, x)$. <script>alert("prompt")</script>

      ![the curve](assets/relu.svg)

      ```python
      def relu(x):
          return max(0, x)
      ```
    explanation: It never goes below zero.
    choices:
      - text: '$[0, \\infty)$'
        correct: true
      - text: "<img src=x onerror=alert(1)>"
  - id: variant
    type: numeric
    difficulty: medium
    params:
      w: {randint: [2, 9]}
    prompt: "What is {{w}} doubled?"
    answer: 2 * w
"""
SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 4 4">'
    b'<path d="M0 4L2 2L4 0" stroke="black"/></svg>'
)
PAGES = ["/banks", "/banks/web", "/banks/web/questions/shown"]


@pytest.fixture
def bank(app, tmp_path: Path):
    folder = tmp_path / "web"
    (folder / "assets").mkdir(parents=True)
    (folder / "bank.yaml").write_text(BANK)
    (folder / "assets" / "relu.svg").write_bytes(SVG)
    report, problems = sync.import_paths([folder])
    assert problems == []
    db.session.commit()
    return report


def version_of(key: str) -> QuestionVersion:
    question = db.session.scalar(select(Question).where(Question.key == key))
    return question.current_version


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(client, bank, path):
    response = client.get(path)

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in")


@pytest.mark.parametrize("path", PAGES)
def test_candidates_may_not_see_bank_pages(client, auth, bank, path):
    make_user("cand@example.org")
    auth.sign_in("cand@example.org")

    assert client.get(path).status_code == 403


@pytest.mark.parametrize("role", [Role.instructor, Role.organiser, Role.admin])
def test_staff_see_the_banks(client, auth, bank, role):
    make_user("staff@example.org", roles=(role,))
    auth.sign_in("staff@example.org")

    page = client.get("/banks").get_data(as_text=True)

    assert "Web bank" in page
    assert '<td class="text-end">2</td>' in page  # live questions


def test_the_preview_is_rendered_sanitised_with_the_key(client, auth, bank):
    make_user("ines@example.org", roles=(Role.instructor,))
    auth.sign_in("ines@example.org")
    version = version_of("shown")

    page = client.get("/banks/web/questions/shown").get_data(as_text=True)

    assert '<span class="math inline">\\max(0, x)</span>' in page
    assert '&lt;script&gt;alert("prompt")&lt;/script&gt;' in page
    assert "<script>alert" not in page
    assert "onerror=alert" not in page.replace("&lt;img src=x onerror=alert(1)&gt;", "")
    assert f'src="/questions/v{version.id}/assets/assets/relu.svg"' in page
    assert '<span class="k">def</span>' in page
    assert "It never goes below zero." in page  # the key is for staff
    assert "katex.min.js" in page


def test_a_new_sample_draws_other_values(client, auth, bank):
    make_user("ines@example.org", roles=(Role.instructor,))
    auth.sign_in("ines@example.org")

    pages = {
        client.get(f"/banks/web/questions/variant?sample={n}").get_data(as_text=True)
        for n in range(1, 8)
    }

    prompts = {p.split("What is ")[1].split(" doubled")[0] for p in pages}
    assert len(prompts) > 1
    assert prompts <= {str(w) for w in range(2, 10)}


def test_filters_narrow_the_question_list(client, auth, bank):
    make_user("ines@example.org", roles=(Role.instructor,))
    auth.sign_in("ines@example.org")

    page = client.get("/banks/web?type=numeric").get_data(as_text=True)

    assert "/banks/web/questions/variant" in page
    assert "/banks/web/questions/shown" not in page
    assert "1 question<" in page


def test_unknown_banks_questions_and_versions_are_404(client, auth, bank):
    make_user("ines@example.org", roles=(Role.instructor,))
    auth.sign_in("ines@example.org")

    assert client.get("/banks/nope").status_code == 404
    assert client.get("/banks/web/questions/nope").status_code == 404
    assert client.get("/banks/web/questions/shown?v=9").status_code == 404


def test_staff_get_an_asset_with_safe_headers(client, auth, bank):
    make_user("ines@example.org", roles=(Role.instructor,))
    auth.sign_in("ines@example.org")
    version = version_of("shown")

    response = client.get(f"/questions/v{version.id}/assets/assets/relu.svg")

    assert response.status_code == 200
    assert response.data == SVG
    assert response.mimetype == "image/svg+xml"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "immutable" in response.headers["Cache-Control"]


def test_candidates_cannot_fetch_assets_of_questions_they_were_not_shown(
    client, auth, bank
):
    make_user("cand@example.org")
    auth.sign_in("cand@example.org")
    version = version_of("shown")

    response = client.get(f"/questions/v{version.id}/assets/assets/relu.svg")

    assert response.status_code == 404


def test_an_asset_not_referenced_by_the_version_is_404(client, auth, bank):
    make_user("ines@example.org", roles=(Role.instructor,))
    auth.sign_in("ines@example.org")
    version = version_of("shown")
    other = version_of("variant")

    assert (
        client.get(f"/questions/v{version.id}/assets/assets/x.svg").status_code == 404
    )
    assert (
        client.get(f"/questions/v{other.id}/assets/assets/relu.svg").status_code == 404
    )
    assert client.get("/questions/v999999/assets/assets/relu.svg").status_code == 404


def test_anonymous_visitors_cannot_fetch_assets(client, bank):
    version = version_of("shown")

    response = client.get(f"/questions/v{version.id}/assets/assets/relu.svg")

    assert response.status_code == 302
