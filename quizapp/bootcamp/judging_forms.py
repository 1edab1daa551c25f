"""Forms of the judging pages: a judge's rubric scores, and the organiser's publish
button.

The score fields take text: :func:`quizapp.bootcamp.judging.validate_points` owns
every rule about a score (and its messages), so the form checks only the CSRF
token.
"""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired
from wtforms.widgets import NumberInput

from quizapp.banks.models import ProgrammeModule
from quizapp.bootcamp.judging import COMMENT_MAX, criterion_field
from quizapp.bootcamp.models import ProjectReview


class _ReviewForm(FlaskForm):
    rubric: list[dict[str, Any]] = []

    comment = TextAreaField(
        "Comment",
        description=f"Optional, up to {COMMENT_MAX:,} characters. The participant "
        "reads it (signed “Judge 1”, “Judge 2”…) when the scores are published.",
        render_kw={"rows": 5, "maxlength": COMMENT_MAX},
    )

    def points_given(self) -> dict[str, object]:
        """Criterion name to what was typed in its field."""
        return {
            item["criterion"]: self[criterion_field(i)].data
            for i, item in enumerate(self.rubric)
        }

    def criterion_fields(self):
        return [self[criterion_field(i)] for i in range(len(self.rubric))]


def _points(value: float) -> str:
    return f"{float(value):g}"


def review_form(module: ProgrammeModule, mine: ProjectReview | None) -> _ReviewForm:
    """A form with one numeric field per criterion of ``module``'s rubric, labelled
    with its name and points and described by its description; filled with the
    judge's own review when there is one."""
    fields: dict[str, Any] = {"rubric": list(module.rubric)}
    for i, item in enumerate(module.rubric):
        top = _points(item["points"])
        fields[criterion_field(i)] = StringField(
            f"{item['criterion']} (out of {top})",
            description=item.get("description") or None,
            widget=NumberInput(step="0.01", min=0, max=top),
        )
    form_class = type("ReviewForm", (_ReviewForm,), fields)
    data: dict[str, Any] = {}
    if mine is not None:
        given = {c["criterion"]: c["points"] for c in mine.criteria}
        for i, item in enumerate(module.rubric):
            if item["criterion"] in given:
                data[criterion_field(i)] = _points(given[item["criterion"]])
        data["comment"] = mine.comment or ""
    return form_class(data=data)


class PublishForm(FlaskForm):
    """A button: show the project scores to participants (``on``) or hide them."""

    publish = HiddenField(validators=[DataRequired(), AnyOf(("on", "off"))])
