"""Importing banks, quizzes and programmes: versions, retiring, idempotency, export."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from quizapp import grading
from quizapp.banks import sync
from quizapp.banks.export import export_bank
from quizapp.banks.models import (
    AssetBlob,
    Bank,
    Programme,
    ProgrammeModule,
    Question,
    QuestionVersion,
    Quiz,
)
from quizapp.core.audit import AuditEvent
from quizapp.extensions import db
from tests.conftest import make_app

SAMPLE = Path(__file__).parents[3] / "question_banks"

BANK = """\
bank: tiny
title: A tiny bank
module: intro
tags: [basics]
questions:
  - id: relu-range
    type: single
    difficulty: easy
    prompt: What is the range of ReLU?
    choices:
      - text: "[0, ∞)"
        correct: true
      - text: "(-1, 1)"
  - id: neuron
    type: numeric
    params:
      w: {randint: [2, 9]}
      x: {choice: [0.5, 1.5]}
    prompt: "Weight {{w}}, input {{x}}, no bias, identity activation: the output?"
    answer: w * x
    tolerance: 0.01
  - id: figure
    type: true_false
    prompt: |
      ![two clusters](assets/clusters.svg)

      These points form two clusters.
    answer: true
"""
SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><circle r="4"/></svg>'
)
QUIZ = """\
quiz: tiny-check
title: Tiny check
time_limit: 10m
pass_mark: 50%
sections:
  - draw: 1
    from: {bank: tiny, difficulty: easy}
  - questions: [tiny/neuron]
"""


@pytest.fixture
def content(tmp_path: Path) -> Path:
    folder = tmp_path / "content"
    (folder / "tiny" / "assets").mkdir(parents=True)
    (folder / "tiny" / "bank.yaml").write_text(BANK)
    (folder / "tiny" / "assets" / "clusters.svg").write_bytes(SVG)
    (folder / "quizzes").mkdir()
    (folder / "quizzes" / "tiny-check.yaml").write_text(QUIZ)
    return folder


def run_import(*paths: Path) -> sync.SyncReport:
    report, problems = sync.import_paths(paths)
    assert problems == []
    db.session.commit()
    return report


def edit(folder: Path, old: str, new: str) -> None:
    path = folder / "tiny" / "bank.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def question(key: str) -> Question:
    return db.session.scalar(select(Question).where(Question.key == key))


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_first_import_adds_everything(app, content):
    report = run_import(content)

    assert report.lines() == [
        "bank tiny: 3 added, 0 changed, 0 retired, 0 unchanged",
        "quiz tiny-check: added",
        "Imported.",
    ]
    relu = question("relu-range")
    version = relu.current_version
    assert version.number == 1
    assert version.tags == ["basics"]
    assert version.module == "intro"
    assert version.content["choices"][0] == {
        "text": "[0, ∞)",
        "correct": True,
        "feedback": None,
    }
    quiz = db.session.scalar(select(Quiz))
    assert (quiz.time_limit_seconds, quiz.pass_mark) == (600, 50.0)
    assert quiz.sections[1] == {"questions": ["tiny/neuron"]}


def test_importing_the_same_files_twice_changes_nothing(app, content):
    run_import(content)
    before = (count(QuestionVersion), count(AuditEvent), count(AssetBlob))
    updated = db.session.scalar(select(Bank.updated_at))

    report = run_import(content)

    assert report.changed is False
    assert report.lines()[-1] == "Nothing changed."
    assert (count(QuestionVersion), count(AuditEvent), count(AssetBlob)) == before
    assert db.session.scalar(select(Bank.updated_at)) == updated


def test_a_changed_question_gets_a_new_version_and_the_old_one_stays_gradable(
    app, content
):
    run_import(content)
    old = question("relu-range").current_version
    old_id, old_content = old.id, dict(old.content)

    edit(
        content,
        'text: "(-1, 1)"',
        'text: "(-1, 1)"\n        correct: false\n      - text: "(0, 1)"',
    )
    edit(content, "What is the range of ReLU?", "What values can ReLU output?")
    report = run_import(content)

    assert report.banks[0].changed == 1
    relu = question("relu-range")
    assert relu.current_version.number == 2
    assert "What values" in relu.current_version.content["prompt"]
    kept = db.session.get(QuestionVersion, old_id)
    assert kept.content == old_content
    # An attempt that was shown version 1 is graded against version 1.
    assert grading.grade(kept.content, 0).full
    assert grading.grade(kept.content, 1).score == 0


def test_a_question_removed_from_its_file_is_retired_and_comes_back_unchanged(
    app, content
):
    run_import(content)
    version_id = question("neuron").current_version_id
    text = (content / "tiny" / "bank.yaml").read_text()
    start, end = text.index("  - id: neuron"), text.index("  - id: figure")
    (content / "tiny" / "bank.yaml").write_text(text[:start] + text[end:])
    (content / "quizzes" / "tiny-check.yaml").write_text(
        QUIZ.replace("  - questions: [tiny/neuron]\n", "")
    )

    report = run_import(content)

    assert report.banks[0].retired == 1
    assert question("neuron").retired_at is not None
    assert count(QuestionVersion) == 3  # never deleted

    (content / "tiny" / "bank.yaml").write_text(text)
    report = run_import(content)

    assert report.banks[0].restored == 1
    assert question("neuron").retired_at is None
    assert question("neuron").current_version_id == version_id


def test_content_that_returns_to_an_earlier_version_reuses_it(app, content):
    run_import(content)
    edit(content, "What is the range of ReLU?", "Range of ReLU?")
    run_import(content)
    edit(content, "Range of ReLU?", "What is the range of ReLU?")

    run_import(content)

    relu = question("relu-range")
    assert [v.number for v in relu.versions] == [1, 2]
    assert relu.current_version.number == 1


def test_a_changed_image_makes_a_new_version(app, content):
    run_import(content)
    (content / "tiny" / "assets" / "clusters.svg").write_bytes(
        SVG.replace(b'r="4"', b'r="3"')
    )

    run_import(content)

    figure = question("figure")
    assert figure.current_version.number == 2
    first, second = (v.assets["assets/clusters.svg"] for v in figure.versions)
    assert first != second
    assert count(AssetBlob) == 2


def test_a_run_with_any_error_imports_nothing(app, content, runner):
    (content / "quizzes" / "broken.yaml").write_text(
        "quiz: broken\ntitle: Broken\nsections:\n  - draw: 9\n    from: {bank: tiny}\n"
    )

    result = runner.invoke(args=["banks", "import", str(content)])

    assert result.exit_code == 1
    assert (
        "quizzes/broken.yaml:4: sections[0].draw: draws 9 but only 3" in result.stderr
    )
    assert "Nothing was imported." in result.stderr
    assert count(Bank) == count(Question) == count(Quiz) == 0


def test_a_quiz_can_be_imported_on_its_own_once_its_bank_is_in(app, content, runner):
    run_import(content / "tiny")

    result = runner.invoke(
        args=["banks", "import", str(content / "quizzes" / "tiny-check.yaml")]
    )

    assert result.exit_code == 0, result.stderr
    assert "quiz tiny-check: added" in result.stdout


def test_retiring_a_question_an_imported_quiz_uses_waits_for_the_quiz(app, content):
    run_import(content)
    text = (content / "tiny" / "bank.yaml").read_text()
    start, end = text.index("  - id: neuron"), text.index("  - id: figure")
    (content / "tiny" / "bank.yaml").write_text(text[:start] + text[end:])

    report, problems = sync.import_paths([content / "tiny"])

    assert report is None
    assert [p.message for p in problems] == [
        "quiz 'tiny-check' (already imported) would break: unknown question "
        "'tiny/neuron': bank 'tiny' has no question 'neuron'; change the quiz in the "
        "same import"
    ]
    (content / "quizzes" / "tiny-check.yaml").write_text(
        QUIZ.replace("  - questions: [tiny/neuron]\n", "")
    )
    assert run_import(content).banks[0].retired == 1


def test_export_writes_what_check_accepts_and_reimports_with_no_change(
    app, content, runner, tmp_path
):
    run_import(content)
    out = tmp_path / "exported"

    path = export_bank("tiny", out)

    assert path == out / "tiny" / "bank.yaml"
    assert (out / "tiny" / "assets" / "clusters.svg").read_bytes() == SVG
    assert runner.invoke(args=["banks", "check", str(out)]).exit_code == 0
    report = run_import(out)
    assert report.changed is False


def test_export_of_an_unknown_bank_is_a_clear_error(app, runner, tmp_path):
    result = runner.invoke(args=["banks", "export", "nope", "-o", str(tmp_path)])

    assert result.exit_code == 1
    assert "bank: no bank 'nope' has been imported" in result.output


def test_the_sample_content_imports_and_round_trips(app, tmp_path):
    report = run_import(SAMPLE)

    assert sum(b.added for b in report.banks) >= 160
    types = set(db.session.scalars(select(QuestionVersion.type)))
    assert types == set(grading.GRADERS)
    for bank in db.session.scalars(select(Bank.slug)).all():
        shutil.rmtree(tmp_path / bank, ignore_errors=True)
        export_bank(bank, tmp_path)
    assert run_import(tmp_path).changed is False


def test_programme_modules_keep_their_rows_when_the_programme_changes(app, tmp_path):
    shutil.copytree(SAMPLE, tmp_path / "content")
    run_import(tmp_path / "content")
    ids = dict(
        db.session.execute(select(ProgrammeModule.slug, ProgrammeModule.id)).all()
    )
    programme = tmp_path / "content" / "programmes" / "dtt-demo.yaml"
    programme.write_text(
        programme.read_text().replace("shortlist_size: 100", "shortlist_size: 80")
    )

    report = run_import(tmp_path / "content")

    assert ("programme", "dtt-demo", "changed") in report.others
    assert (
        dict(db.session.execute(select(ProgrammeModule.slug, ProgrammeModule.id)).all())
        == ids
    )
    project = db.session.scalar(
        select(ProgrammeModule).where(ProgrammeModule.slug == "mini-project")
    )
    assert project.is_project
    assert [c["points"] for c in project.rubric] == [10, 20, 20, 10]
    assert [q.slug for q in project.quizzes] == ["m4-check"]


def test_import_without_the_schema_says_to_upgrade(tmp_path, content):
    app = make_app(f"sqlite:///{tmp_path / 'empty.db'}")
    result = app.test_cli_runner().invoke(args=["banks", "import", str(content)])

    assert result.exit_code == 1
    assert "run `flask db upgrade` first" in result.output


def test_a_bank_import_that_would_break_an_imported_quiz_is_refused(app, content):
    run_import(content)
    edit(content, "    difficulty: easy\n", "    difficulty: hard\n")

    report, problems = sync.import_paths([content / "tiny"])

    assert report is None
    assert [str(p) for p in problems] == [
        f"{content / 'quizzes' / 'tiny-check.yaml'}:1: sections[0].draw: quiz "
        "'tiny-check' (already imported) would break: draws 1 but only 0 questions "
        "match (bank tiny; difficulty easy); change the quiz in the same import"
    ]


def test_programme_finalists_default_to_the_shortlist_when_it_is_smaller(app, tmp_path):
    shutil.copytree(SAMPLE, tmp_path / "content")
    programme = tmp_path / "content" / "programmes" / "dtt-demo.yaml"
    text = programme.read_text().replace("shortlist_size: 100", "shortlist_size: 30")
    programme.write_text(text.replace("finalist_count: 50\n", ""))

    run_import(tmp_path / "content")

    row = db.session.scalar(select(Programme))
    assert (row.shortlist_size, row.finalist_count) == (30, 30)
