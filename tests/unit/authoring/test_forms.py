"""The editor forms: a stored question shown in its form and sent back unchanged
gives the same content and hash, for every question of the sample banks."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from quizapp.authoring import services
from quizapp.authoring.forms import FORMS, initial_data, parse_number, show_number
from quizapp.banks import sync
from quizapp.banks.export import question_yaml
from quizapp.banks.models import Question
from quizapp.extensions import db
from tests.factories import EVERY_TYPE_BANK

SAMPLE = Path(__file__).parents[3] / "question_banks"


def as_posted(form) -> MultiDict:
    """What a browser sends for ``form`` as rendered (checkboxes only when set)."""
    posted = MultiDict()
    for name, field in form.leaves():
        if field.type == "BooleanField":
            if field.data:
                posted.add(name, "y")
        elif field.type != "FileField":
            posted.add(name, field._value() if hasattr(field, "_value") else field.data)
    return posted


@pytest.mark.parametrize("content", [SAMPLE, EVERY_TYPE_BANK], ids=["sample", "every"])
def test_every_stored_question_survives_its_form_unchanged(app, content):
    _report, problems = sync.import_paths([content])
    assert problems == []
    db.session.commit()
    questions = list(db.session.scalars(select(Question)))
    assert len({q.current_version.type for q in questions}) == 8
    for question in questions:
        version, bank = question.current_version, question.bank
        form_class = FORMS[version.type]
        with app.test_request_context():
            shown = form_class(
                formdata=None, data=initial_data(question_yaml(version.content, bank))
            )
            shown.with_spare_rows()
            posted = form_class(formdata=as_posted(shown), meta={"csrf": False})
            data = posted.question_data(question.key)
        model, assets, problems = services.validate(bank, data, question)
        assert problems == [], (question.key, problems)
        content_, digest = services.canonical(bank, model, assets)
        assert content_ == version.content, question.key
        assert digest == version.content_hash, question.key


@pytest.mark.parametrize(
    ("text", "value"),
    [("2", 2), (" -3 ", -3), ("0.5", 0.5), ("1e3", 1000.0), ("", None), ("1%", "1%")],
)
def test_numbers_are_read_as_written(text, value):
    parsed = parse_number(text)

    assert parsed == value
    assert type(parsed) is type(value)


def test_numbers_are_shown_so_they_read_back_the_same():
    assert [show_number(v) for v in (2, 2.0, 0.1, None, "w * x")] == [
        "2",
        "2.0",
        "0.1",
        "",
        "w * x",
    ]
    assert parse_number(show_number(2.0)) == 2.0
    assert type(parse_number(show_number(2.0))) is float
