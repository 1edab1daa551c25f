"""Writing questions in the browser: every type round-trips through the files,
problems are shown with the checker's words, and saving never changes a version."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from quizapp.banks import sync
from quizapp.banks.checker import check
from quizapp.banks.export import export_bank
from quizapp.banks.loader import load_paths
from quizapp.core import clock
from quizapp.delivery import services as delivery
from quizapp.delivery.models import AttemptItem
from quizapp.extensions import db
from tests.factories import make_quiz, make_user
from tests.web.authoring.conftest import FORMS, create, question


@pytest.mark.parametrize("kind", list(FORMS))
def test_every_type_round_trips_through_the_files(
    kind, forms, bank, instructor, tmp_path, runner
):
    response = create(forms, kind)

    assert response.status_code == 302, response.get_data(as_text=True)
    key = FORMS[kind]["key"]
    assert response.headers["Location"] == f"/banks/auth/questions/{key}"
    saved = question(key).current_version
    assert (saved.number, saved.source, saved.type) == (1, "browser", kind)
    out = tmp_path / "exported"
    path = export_bank("auth", out)
    assert check(load_paths([path.parent])) == []
    result = runner.invoke(args=["banks", "check", str(path.parent)])
    assert result.exit_code == 0, result.output
    report, problems = sync.import_paths([path.parent])
    db.session.commit()
    assert problems == []
    assert report.changed is False
    assert question(key).current_version.id == saved.id


def test_the_saved_content_is_what_the_form_said(forms, bank, instructor):
    create(forms, "numeric")

    content = question("new-numeric").current_version.content

    assert content["params"] == {
        "w": {"randint": [2, 9]},
        "x": {"choice": [0.5, 1.5, 2.5]},
        "b": {"uniform": [-1, 1], "round": 2},
        "y": {"expr": "w * x + b"},
    }
    assert (content["answer"], content["tolerance"]) == ("y", "1%")
    assert content["tags"] == ["basics"]
    assert content["module"] == "intro"


def test_text_keeps_line_ends_and_images_resolve_to_the_banks_file(
    forms, bank, instructor
):
    create(forms, "single")

    version = question("new-single").current_version

    assert version.content["prompt"].endswith("![curve](assets/relu.svg)\n")
    assert "\r" not in version.content["prompt"]
    assert version.assets == question("existing").current_version.assets
    assert version.content["tags"] == ["activation", "basics", "relu"]


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"key": "Bad Id"}, "key", "is not a slug"),
        ({"key": "existing"}, "key", "the id 'existing' is already used in this bank"),
        ({"prompt": " "}, "prompt", "must not be empty"),
        ({"points": "-1"}, "points", "must be more than 0"),
        ({"points": "many"}, "points", "expected a number, not the text 'many'"),
        ({"choices-0-correct": ""}, "choices", "no choice is marked `correct: true`"),
        (
            {"choices-1-correct": "y"},
            "choices-1-correct",
            "a second correct choice: a single-choice question has exactly one",
        ),
        ({"choices-1-text": "ReLU"}, "choices-1-text", "the same text as choice 0"),
        (
            {"prompt": "{{w}} times"},
            "prompt",
            "{{w}} is not one of the question's params",
        ),
        (
            {"prompt": "![x](assets/missing.png)"},
            "prompt",
            "image 'assets/missing.png' is not in the bank's folder",
        ),
    ],
)
def test_problems_are_shown_next_to_the_field_with_the_checkers_words(
    forms, bank, instructor, change, field, message
):
    response = create(forms, "single", {**FORMS["single"], **change})

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message.replace("'", "&#39;").replace("`", "`") in page.replace("&#34;", '"')
    assert f'id="{field}-error"' in page or f'id="{field}-list-error"' in page
    assert question("new-single") is None


def test_a_rows_problem_is_shown_on_its_row_even_after_an_empty_row(
    forms, bank, instructor
):
    data = {
        **FORMS["ordering"],
        "items-1-text": "",
        "items-3-text": "Collect data",
    }

    response = create(forms, "ordering", data)

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="items-3-text-error"' in page
    assert "the same text as item 0: items must differ" in page


def test_params_and_numeric_answers_are_checked_like_the_files(forms, bank, instructor):
    data = {
        **FORMS["numeric"],
        "params-0-value": "9, 2",
        "answer": "w * z",
    }

    response = create(forms, "numeric", data)

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "randint: low 9 is greater than high 2" in page
    assert 'id="params-0-value-error"' in page


def test_editing_a_version_in_use_adds_a_version_and_keeps_the_old_one(
    forms, bank, instructor, tmp_path
):
    quiz = make_quiz(tmp_path, keys=("numeric-product",))
    attempt = delivery.start_attempt(make_user(), quiz, clock.now())
    db.session.commit()
    used = question("numeric-product").current_version
    before = (used.id, used.number, used.content_hash, dict(used.content))
    page = forms.client.get(
        "/authoring/banks/every-type/questions/numeric-product/edit"
    )
    assert page.status_code == 200
    assert 'value="a * b"' in page.get_data(as_text=True)

    response = forms.post(
        "/authoring/banks/every-type/questions/numeric-product/edit",
        {
            "key": "numeric-product",
            "prompt": "What is $a \\times b$ for $a = {{a}}$ and $b = {{b}}$? (Exact.)",
            "params-0-name": "a",
            "params-0-kind": "randint",
            "params-0-value": "2, 9",
            "params-1-name": "b",
            "params-1-kind": "randint",
            "params-1-value": "2, 9",
            "answer": "a * b",
            "action": "save",
        },
    )

    assert response.status_code == 302, response.get_data(as_text=True)
    now = question("numeric-product")
    assert now.current_version.number == 2
    assert now.current_version.source == "browser"
    old = next(v for v in now.versions if v.id == before[0])
    assert (old.id, old.number, old.content_hash, old.content) == before
    item = db.session.get(AttemptItem, attempt.items[0].id)
    assert item.version_id == before[0]


def test_saving_the_same_content_again_adds_no_version(forms, bank, instructor):
    create(forms, "text")
    url = "/authoring/banks/auth/questions/new-text/edit"
    data = {**FORMS["text"], "action": "save"}

    response = forms.post(url, data)

    assert response.status_code == 302
    assert len(question("new-text").versions) == 1
    assert "Nothing changed" in forms.client.get(response.headers["Location"]).get_data(
        as_text=True
    )


def test_the_edit_form_shows_what_is_stored_and_saves_it_unchanged(
    forms, bank, instructor
):
    page = forms.client.get("/authoring/banks/auth/questions/existing/edit")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert re.search(
        r"<input[^>]*id=\"key\"[^>]*readonly[^>]*value=\"existing\"|<input[^>]*value=\"existing\"[^>]*readonly",
        html,
    ), html[html.find('id="key"') - 200 : html.find('id="key"') + 200]

    response = forms.post(
        "/authoring/banks/auth/questions/existing/edit",
        {
            "key": "existing",
            "prompt": (
                "Which function is $\\max(0, x)$?\n\n![the curve](assets/relu.svg)\n"
            ),
            "difficulty": "easy",
            "choices-0-text": "ReLU",
            "choices-0-correct": "y",
            "choices-1-text": "tanh",
            "action": "save",
        },
    )

    assert response.status_code == 302
    assert len(question("existing").versions) == 1


def test_a_preview_without_script_renders_the_candidates_view(forms, bank, instructor):
    response = create(forms, "numeric", action="sample")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'class="question-body" data-type="numeric"' in page
    assert "Sample 2:" in page
    assert 'name="sample" type="hidden" value="2"' in page
    assert question("new-numeric") is None


def test_the_live_preview_answers_json_without_the_key(forms, bank, instructor):
    token = forms.token("/authoring/banks/auth/new/single")
    data = {**FORMS["single"], "csrf_token": token}

    response = forms.client.post("/authoring/banks/auth/preview/single", data=data)

    body = response.get_json()
    assert response.status_code == 200
    assert body["errors"] == {}
    assert '<span class="math inline">\\max(0, x)</span>' in body["html"]
    assert 'src="/authoring/banks/auth/assets/assets/relu.svg"' in body["html"]
    assert "Right." not in body["html"]  # feedback is the key's
    keyed = forms.client.post(
        "/authoring/banks/auth/preview/single", data={**data, "show_key": "1"}
    ).get_json()
    assert "Right." in keyed["html"]


def test_the_live_preview_returns_the_checkers_errors_by_field(forms, bank, instructor):
    token = forms.token("/authoring/banks/auth/new/blanks")
    data = {**FORMS["blanks"], "blanks-1-name": "b2", "csrf_token": token}

    response = forms.client.post("/authoring/banks/auth/preview/blanks", data=data)

    body = response.get_json()
    assert response.status_code == 200  # the preview worked; the draft has problems
    assert body["errors"]["prompt"] == ["[[b1]] has no entry under `blanks`"]
    assert body["errors"]["blanks-1-name"] == [
        "the prompt has no [[b2]] marker for this blank"
    ]


def test_new_samples_draw_other_values(forms, bank, instructor):
    token = forms.token("/authoring/banks/auth/new/numeric")
    seen = set()
    for sample in range(1, 6):
        data = {**FORMS["numeric"], "csrf_token": token, "sample": str(sample)}
        body = forms.client.post(
            "/authoring/banks/auth/preview/numeric", data=data
        ).get_json()
        seen.add(body["html"].split("weight ")[1].split(" and")[0])
    assert len(seen) > 1


def test_the_preview_needs_a_csrf_token(client, bank, instructor):
    response = client.post("/authoring/banks/auth/preview/single", data=FORMS["single"])

    assert response.status_code == 400


def test_unknown_banks_types_and_questions_are_404(client, bank, instructor):
    assert client.get("/authoring/banks/nope/new/single").status_code == 404
    assert client.get("/authoring/banks/auth/new/essay").status_code == 404
    assert client.get("/authoring/banks/auth/questions/nope/edit").status_code == 404


def test_the_finder_filters_by_type_tag_difficulty_module_and_text(
    forms, bank, instructor
):
    create(forms, "true_false")
    client = forms.client

    def keys(query: str) -> set[str]:
        page = client.get(f"/authoring?{query}").get_data(as_text=True)
        return {k for k in ("existing", "doubled", "new-tf") if f">{k}</a>" in page}

    assert keys("") == {"existing", "doubled", "new-tf"}
    assert keys("type=numeric") == {"doubled"}
    assert keys("difficulty=easy") == {"existing"}
    assert keys("module=other-module") == {"new-tf"}
    assert keys("tag=basics") == {"existing", "doubled", "new-tf"}
    assert keys("q=doubled") == {"doubled"}
    assert keys("q=bounded") == {"new-tf"}
    assert keys("show=retired") == set()


def test_bank_and_question_pages_link_to_the_editors(client, bank, instructor):
    bank_page = client.get("/banks/auth").get_data(as_text=True)
    question_page = client.get("/banks/auth/questions/existing").get_data(as_text=True)

    assert 'href="/authoring/banks/auth/new"' in bank_page
    assert 'href="/authoring/banks/auth/questions/existing/edit"' in question_page


def test_the_editor_lists_the_quizzes_that_can_draw_the_question(
    forms, bank, instructor, bank_folder: Path
):
    quizzes = bank_folder.parent / "quizzes"
    quizzes.mkdir()
    (quizzes / "q.yaml").write_text(
        "quiz: auth-quiz\ntitle: Q\nsections:\n"
        "  - draw: 1\n    from: {bank: auth, difficulty: easy}\n"
        "  - questions: [auth/doubled]\n"
    )
    _report, problems = sync.import_paths([bank_folder.parent])
    assert problems == []
    db.session.commit()

    easy = forms.client.get("/authoring/banks/auth/questions/existing/edit")
    listed = forms.client.get("/authoring/banks/auth/questions/doubled/edit")

    assert "(section 1, drawn from a pool)" in easy.get_data(as_text=True)
    assert "(section 2, listed)" in listed.get_data(as_text=True)


def test_a_param_named_twice_is_refused_not_dropped(forms, bank, instructor):
    data = {**FORMS["numeric"], "params-1-name": "w", "answer": "w"}

    response = create(forms, "numeric", data)

    assert response.status_code == 422
    assert "&#39;w&#39; is given twice; give each its own name" in response.get_data(
        as_text=True
    )
    assert question("new-numeric") is None
