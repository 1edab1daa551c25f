"""An instructor in git and one in the browser: imports keep browser edits, accept
them back from the files, and refuse a question changed on both sides."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from quizapp.accounts.models import Role
from quizapp.authoring import services
from quizapp.banks import sync
from quizapp.banks.export import export_bank
from quizapp.banks.models import Bank, Question, QuestionVersion
from quizapp.extensions import db
from tests.factories import make_user

BANK = """\
bank: tiny
title: A tiny bank
questions:
  - id: relu
    type: true_false
    prompt: ReLU is never negative.
    answer: true
  - id: neuron
    type: numeric
    params:
      w: {randint: [2, 9]}
    prompt: "Weight {{w}}, input 1: the output?"
    answer: w
"""


@pytest.fixture
def files(app, tmp_path: Path) -> Path:
    folder = tmp_path / "git" / "tiny"
    folder.mkdir(parents=True)
    (folder / "bank.yaml").write_text(BANK)
    run_import(folder)
    return folder


@pytest.fixture
def ines(app):
    return make_user("ines@example.org", roles=(Role.instructor,), name="Ines Ito")


def run_import(folder: Path):
    report, problems = sync.import_paths([folder])
    assert problems == [], [str(p) for p in problems]
    db.session.commit()
    return report


def q(key: str) -> Question:
    db.session.expire_all()
    return db.session.scalar(select(Question).where(Question.key == key))


def bank() -> Bank:
    return db.session.scalar(select(Bank).where(Bank.slug == "tiny"))


def edit_in_browser(user, key: str = "relu", prompt: str = "ReLU is >= 0.") -> None:
    data = {"id": key, "type": "true_false", "prompt": prompt, "answer": True}
    services.save_question(bank(), data, user, q(key) if q(key) else None)
    db.session.commit()


def edit_in_git(folder: Path, old: str, new: str) -> None:
    path = folder / "bank.yaml"
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new))


def versions() -> int:
    return db.session.scalar(select(func.count()).select_from(QuestionVersion))


def test_an_import_of_unchanged_files_keeps_the_browser_version(files, ines):
    edit_in_browser(ines)

    report = run_import(files)

    assert report.changed is False
    current = q("relu").current_version
    assert (current.number, current.source) == (2, "browser")
    assert current.content["prompt"] == "ReLU is >= 0."


def test_exported_browser_edits_come_back_without_a_new_version(files, ines, tmp_path):
    edit_in_browser(ines)
    exported = export_bank("tiny", files.parent).parent  # committed to git
    assert exported == files

    first = run_import(files)
    edit_in_git(files, "Weight {{w}}", "A weight of {{w}}")  # ordinary git work
    edit_in_git(files, "ReLU is >= 0.", "ReLU is at least 0.")
    second = run_import(files)

    assert first.changed is False
    assert (
        str(second.banks[0]) == "bank tiny: 0 added, 2 changed, 0 retired, 0 unchanged"
    )
    current = q("relu").current_version
    assert (current.number, current.source) == (3, "yaml")
    assert current.content["prompt"] == "ReLU is at least 0."


def test_a_question_changed_in_both_places_is_refused_by_name(files, ines, runner):
    edit_in_browser(ines)
    edit_in_git(files, "ReLU is never negative.", "ReLU is never below zero.")
    edit_in_git(files, "Weight {{w}}", "A weight of {{w}}")
    before = (versions(), q("relu").current_version_id, q("neuron").current_version_id)

    report, problems = sync.import_paths([files])

    assert report is None
    assert len(problems) == 1
    text = str(problems[0])
    assert text.startswith(f"{files / 'bank.yaml'}:4: questions[relu]: relu: ")
    assert (
        "changed both in the files and in the browser (version 2 by Ines Ito on "
        in text
    )
    assert "flask banks export tiny -o <folder>" in text
    result = runner.invoke(args=["banks", "import", str(files)])
    assert result.exit_code == 1
    assert "questions[relu]: relu: changed both in the files and in the browser" in (
        result.output
    )
    assert "Nothing was imported." in result.output
    db.session.rollback()
    after = (versions(), q("relu").current_version_id, q("neuron").current_version_id)
    assert after == before


def test_reverting_the_file_keeps_the_browser_version(files, ines):
    edit_in_browser(ines)
    edit_in_git(files, "ReLU is never negative.", "ReLU is never below zero.")
    assert sync.import_paths([files])[1]
    db.session.rollback()

    edit_in_git(files, "ReLU is never below zero.", "ReLU is never negative.")
    report = run_import(files)

    assert report.changed is False
    assert q("relu").current_version.source == "browser"


def test_a_second_browser_edit_still_remembers_what_the_files_held(files, ines):
    edit_in_browser(ines, prompt="First browser text.")
    edit_in_browser(ines, prompt="Second browser text.")

    report = run_import(files)

    assert report.changed is False
    assert q("relu").current_version.number == 3


def test_a_question_made_in_the_browser_is_kept_by_an_import_without_it(files, ines):
    edit_in_browser(ines, key="brand-new", prompt="Made in the browser.")

    report = run_import(files)

    assert report.changed is False
    assert q("brand-new").retired_at is None


def test_a_browser_question_can_be_retired_once_it_was_in_the_files(files, ines):
    edit_in_browser(ines, key="brand-new", prompt="Made in the browser.")
    export_bank("tiny", files.parent)
    run_import(files)
    edit_in_git(files, "- id: brand-new", "- id: brand-new-renamed")

    report = run_import(files)

    assert "1 added" in str(report.banks[0])
    assert "1 retired" in str(report.banks[0])
    assert q("brand-new").retired_at is not None


def test_removing_a_question_edited_in_the_browser_is_refused(files, ines):
    edit_in_browser(ines)
    text = (files / "bank.yaml").read_text()
    start = text.index("  - id: relu")
    end = text.index("  - id: neuron")
    (files / "bank.yaml").write_text(text[:start] + text[end:])

    _report, problems = sync.import_paths([files])

    assert [p.field for p in problems] == ["questions"]
    assert problems[0].message.startswith(
        "relu: removed from the files but changed in the browser (version 2 by Ines Ito"
    )
    db.session.rollback()
    assert q("relu").retired_at is None


def test_the_same_id_made_in_both_places_is_a_conflict(files, ines):
    edit_in_browser(ines, key="twin", prompt="Browser twin.")
    (files / "bank.yaml").write_text(
        BANK + "  - id: twin\n    type: true_false\n    prompt: Git twin.\n"
        "    answer: false\n"
    )

    _report, problems = sync.import_paths([files])

    assert len(problems) == 1
    assert problems[0].field == "questions[twin]"
    assert "twin: changed both in the files and in the browser" in problems[0].message


def test_a_file_problem_next_to_a_browser_edit_is_reported_not_raised(files, ines):
    edit_in_browser(ines)
    edit_in_git(files, "ReLU is never negative.", "'![plot](assets/missing.png)'")

    _report, problems = sync.import_paths([files])

    assert [p.message for p in problems] == [
        "image 'assets/missing.png' is not in the bank's folder"
    ]
