"""A bank to author in, signed-in editors, and a filled editor form of every type."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from quizapp.accounts.models import Role
from quizapp.banks import sync
from quizapp.banks.models import Bank, Question
from quizapp.extensions import db
from tests.factories import make_user

BANK = """\
bank: auth
title: Authoring bank
module: intro
tags: [basics]
questions:
  - id: existing
    type: single
    difficulty: easy
    prompt: |
      Which function is $\\max(0, x)$?

      ![the curve](assets/relu.svg)
    choices:
      - text: ReLU
        correct: true
      - text: tanh
  - id: doubled
    type: numeric
    params:
      w: {randint: [2, 9]}
    prompt: "What is {{w}} doubled?"
    answer: 2 * w
"""
SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 4 4">'
    b'<path d="M0 4L2 2L4 0" stroke="black"/></svg>'
)

#: A filled editor form of every type, as a browser posts it.
FORMS: dict[str, dict[str, str]] = {
    "single": {
        "key": "new-single",
        "prompt": "Which is $\\max(0, x)$?\r\n\r\n![curve](assets/relu.svg)\r\n",
        "difficulty": "easy",
        "tags": "activation, relu",
        "choices-0-text": "ReLU",
        "choices-0-correct": "y",
        "choices-0-feedback": "Right.",
        "choices-1-text": "tanh",
        "choices-2-text": "",
    },
    "multiple": {
        "key": "new-multiple",
        "prompt": "Pick the primes.",
        "points": "2",
        "scoring": "right_minus_wrong",
        "choices-0-text": "2",
        "choices-0-correct": "y",
        "choices-1-text": "3",
        "choices-1-correct": "y",
        "choices-2-text": "4",
        "explanation": "4 = 2 * 2.",
    },
    "true_false": {
        "key": "new-tf",
        "prompt": "ReLU is bounded above.",
        "answer": "false",
        "module": "other-module",
    },
    "numeric": {
        "key": "new-numeric",
        "prompt": "A neuron has weight {{w}} and input {{x}}. Its output?",
        "params-0-name": "w",
        "params-0-kind": "randint",
        "params-0-value": "2, 9",
        "params-1-name": "x",
        "params-1-kind": "choice",
        "params-1-value": "0.5, 1.5, 2.5",
        "params-2-name": "b",
        "params-2-kind": "uniform",
        "params-2-value": "-1, 1",
        "params-2-round": "2",
        "params-3-name": "y",
        "params-3-kind": "expr",
        "params-3-value": "w * x + b",
        "answer": "y",
        "tolerance": "1%",
        "difficulty": "medium",
    },
    "text": {
        "key": "new-text",
        "prompt": "Name the function $\\max(0, x)$.",
        "accept": "ReLU\r\nrectified linear unit",
        "accept_regex": "re?lu",
        "case_sensitive": "y",
    },
    "blanks": {
        "key": "new-blanks",
        "prompt": "A line has an [[b0]] and a slope of [[b1]].",
        "blanks-0-name": "b0",
        "blanks-0-accept": "intercept\r\nbias",
        "blanks-1-name": "b1",
        "blanks-1-answer": "2.5",
        "blanks-1-tolerance": "0.1",
    },
    "ordering": {
        "key": "new-ordering",
        "prompt": "Order the steps.",
        "items-0-text": "Collect data",
        "items-1-text": "Train",
        "items-2-text": "Evaluate",
        "scoring": "partial",
    },
    "matching": {
        "key": "new-matching",
        "prompt": "Match each task with its kind.",
        "pairs-0-left": "Predict a price",
        "pairs-0-right": "Regression",
        "pairs-1-left": "Detect spam",
        "pairs-1-right": "Classification",
        "distractors-0-text": "Clustering",
    },
}


@pytest.fixture
def bank_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "content" / "auth"
    (folder / "assets").mkdir(parents=True)
    (folder / "bank.yaml").write_text(BANK)
    (folder / "assets" / "relu.svg").write_bytes(SVG)
    return folder


@pytest.fixture
def bank(app, bank_folder: Path) -> Bank:
    _report, problems = sync.import_paths([bank_folder])
    assert problems == []
    db.session.commit()
    return db.session.scalar(select(Bank).where(Bank.slug == "auth"))


@pytest.fixture
def instructor(app, auth):
    user = make_user("ines@example.org", roles=(Role.instructor,), name="Ines")
    auth.sign_in("ines@example.org")
    return user


def question(key: str) -> Question:
    db.session.expire_all()
    return db.session.scalar(select(Question).where(Question.key == key))


def create(forms, kind: str, data: dict[str, str] | None = None, action="save"):
    url = f"/authoring/banks/auth/new/{kind}"
    return forms.post(url, {**(data or FORMS[kind]), "action": action})
