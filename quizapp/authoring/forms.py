"""One WTForms form per question type, and the two translations around it.

A form holds text as a person types it; :meth:`QuestionForm.question_data` turns it
into the question as the YAML contract writes it (``../shared/spec``), which
:mod:`quizapp.authoring.services` validates with the very models and checks that
``flask banks check`` uses. :func:`initial_data` goes the other way, from a stored
question to what the form shows. The form itself checks nothing but its CSRF token,
so every message an instructor reads comes from the bank checker, placed next to
the field it is about by :meth:`QuestionForm.show`.

Lists (choices, items, pairs, distractors, blanks, params) are rows; a row left
empty is ignored, so the page can always offer a spare one (and, with JavaScript,
an "Add" button that clones a row).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, ClassVar

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    Field,
    FieldList,
    Form,
    FormField,
    HiddenField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)

from quizapp.banks.yamlsource import Loc

INTEGER = re.compile(r"[+-]?\d+")
DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
#: Rows offered empty below the filled ones.
SPARE_ROWS = 1
PARAM_KINDS = [
    SelectChoice("randint", "randint: whole number from low to high"),
    SelectChoice("uniform", "uniform: number from low to high"),
    SelectChoice("choice", "choice: one of a list"),
    SelectChoice("expr", "expr: computed from params above"),
]
DIFFICULTIES = [SelectChoice("", "not set")] + [
    SelectChoice(level) for level in ("easy", "medium", "hard")
]


def _text(value: str | None) -> str:
    """Browsers send CRLF line ends; the files and the hashes use LF."""
    return (value or "").replace("\r\n", "\n").replace("\r", "\n")


def _optional(value: str | None) -> str | None:
    text = _text(value)
    return text if text.strip() else None


def parse_number(value: str | None) -> Any:
    """``"2"`` -> 2, ``"0.5"`` -> 0.5, ``""`` -> None; other text stays text (the
    checker then says what is wrong with it)."""
    text = (value or "").strip()
    if not text:
        return None
    if INTEGER.fullmatch(text):
        return int(text)
    if DECIMAL.fullmatch(text):
        return float(text)
    return text


def show_number(value: Any) -> str:
    """A number as the form shows it, exactly enough to parse back to the same JSON
    (``2`` and ``2.0`` differ in a params list)."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return json.dumps(value)


def _lines(value: str | None) -> list[str]:
    return [line.strip() for line in _text(value).split("\n") if line.strip()]


def _words(value: str | None) -> list[str]:
    return [word for word in re.split(r"[,\s]+", value or "") if word]


# --- rows ---------------------------------------------------------------------------


class ChoiceRow(Form):
    text = TextAreaField("Text", render_kw={"rows": 1})
    correct = BooleanField("Correct")
    feedback = TextAreaField("Feedback (optional)", render_kw={"rows": 1})


class PairRow(Form):
    left = TextAreaField("Left", render_kw={"rows": 1})
    right = TextAreaField("Right", render_kw={"rows": 1})


class TextRow(Form):
    text = TextAreaField("Text", render_kw={"rows": 1})


class BlankRow(Form):
    name = StringField("Name", description="as in [[name]]")
    accept = TextAreaField(
        "Accepted answers", render_kw={"rows": 2}, description="one per line"
    )
    accept_regex = TextAreaField(
        "Accepted patterns", render_kw={"rows": 2}, description="one per line"
    )
    case_sensitive = BooleanField("Case-sensitive")
    answer = StringField("Or a numeric answer", description="number or expression")
    tolerance = StringField("Tolerance", description="e.g. 0.1 or 1%")


class ParamRow(Form):
    name = StringField("Name")
    kind = SelectField("Kind", choices=PARAM_KINDS)
    value = StringField("Values", description="low, high / a, b, c / expression")
    round = StringField("Round to", description="digits (optional)")


def _row_is_empty(row: Form) -> bool:
    for field in row:
        if field.type == "BooleanField":
            if field.data:
                return False
        elif field.type != "SelectField" and (field.data or "").strip():
            return False
    return True


def _rows(name: str, row: type[Form], label: str) -> FieldList:
    return FieldList(FormField(row), label=label, min_entries=0)


# --- the forms ----------------------------------------------------------------------


class QuestionForm(FlaskForm):
    """Fields every type has; subclasses add theirs and their part of the data."""

    type_name: ClassVar[str]
    title: ClassVar[str]
    #: FieldList names of this form, in the order the page shows them.
    lists: ClassVar[tuple[str, ...]] = ("params",)
    #: Fields every type has (the page shows the others as the type's own).
    common: ClassVar[frozenset[str]] = frozenset(
        {"csrf_token", "key", "prompt", "points", "difficulty", "module", "tags"}
        | {"explanation", "params", "sample", "image"}
    )

    key = StringField(
        "Id",
        description="Unique in the bank: lower-case letters, digits and hyphens. "
        "It cannot change later.",
    )
    prompt = TextAreaField(
        "Prompt",
        render_kw={"rows": 7},
        description="Markdown with $math$, ```code``` and ![images](assets/...); "
        "{{name}} shows a param.",
    )
    points = StringField("Points", default="1")
    difficulty = SelectField("Difficulty", choices=DIFFICULTIES, default="")
    module = StringField("Module", description="empty: the bank's")
    tags = StringField("Tags", description="comma-separated, added to the bank's")
    explanation = TextAreaField(
        "Explanation (optional)",
        render_kw={"rows": 2},
        description="shown after grading",
    )
    params = _rows("params", ParamRow, "Params (variants)")
    sample = HiddenField(default="1")
    image = FileField("Image")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: ``{(list name, index or key in the data): row number on the page}``.
        self.rows: dict[tuple[str, Any], int] = {}
        #: Problems found while reading the rows (a name given twice).
        self.row_problems: list[tuple[Loc, str]] = []
        #: Errors of a whole list (``"choices"``) or of the form (``""``).
        self.list_errors: dict[str, list[str]] = {}

    # -- to data ------------------------------------------------------------------

    def question_data(self, key: str | None = None) -> dict[str, Any]:
        """The question as its YAML would hold it; ``key`` wins over the form's."""
        data: dict[str, Any] = {
            "id": key if key is not None else (self.key.data or "").strip(),
            "type": self.type_name,
            "prompt": _text(self.prompt.data),
        }
        points = parse_number(self.points.data)
        if points is not None:
            data["points"] = points
        if self.difficulty.data:
            data["difficulty"] = self.difficulty.data
        if module := (self.module.data or "").strip():
            data["module"] = module
        if tags := _words(self.tags.data):
            data["tags"] = tags
        if explanation := _optional(self.explanation.data):
            data["explanation"] = explanation
        if params := self._params():
            data["params"] = params
        data.update(self.type_data())
        return data

    def type_data(self) -> dict[str, Any]:
        """The fields of the question's own type; every type's form defines it
        (this base form is never used on its own)."""
        raise NotImplementedError(f"{type(self).__name__} must define type_data")

    def _filled(self, name: str) -> list[tuple[int, Form]]:
        """``(row number, row form)`` of the rows of list ``name`` with content."""
        rows = getattr(self, name).entries
        return [(i, e.form) for i, e in enumerate(rows) if not _row_is_empty(e.form)]

    def _keyed(self, name: str, key: str, row: int) -> bool:
        """Remember that ``key`` of list ``name`` is on ``row``; False if repeated."""
        if (name, key) in self.rows:
            self.row_problems.append(
                ((name, f"#{row}"), f"{key!r} is given twice; give each its own name")
            )
            return False
        self.rows[(name, key)] = row
        return True

    def _params(self) -> dict[str, Any]:
        params: dict[str, Any] = {}
        for row, entry in self._filled("params"):
            name = (entry.name.data or "").strip()
            if not self._keyed("params", name, row):
                continue
            kind = entry.kind.data
            if kind == "expr":
                value: Any = (entry.value.data or "").strip()
            else:
                value = [parse_number(part) for part in _words(entry.value.data)]
            spec: dict[str, Any] = {kind: value}
            rounding = parse_number(entry.round.data)
            if rounding is not None:
                spec["round"] = rounding
            params[name] = spec
        return params

    def _texts(self, name: str) -> list[str]:
        out = []
        for row, entry in self._filled(name):
            self.rows[(name, len(out))] = row
            out.append(_text(entry.text.data))
        return out

    def _choices(self) -> list[dict[str, Any]]:
        out = []
        for row, entry in self._filled("choices"):
            self.rows[("choices", len(out))] = row
            choice: dict[str, Any] = {"text": _text(entry.text.data)}
            if entry.correct.data:
                choice["correct"] = True
            if feedback := _optional(entry.feedback.data):
                choice["feedback"] = feedback
            out.append(choice)
        return out

    # -- errors -------------------------------------------------------------------

    def place(self, loc: Loc) -> tuple[str, str]:
        """``(field name, prefix)`` where a problem at ``loc`` is shown; the name is
        a list's (``"choices"``) or ``""`` (the whole form) when no field fits."""
        if not loc:
            return "", ""
        head, rest = loc[0], loc[1:]
        if head == "id":
            return "key", ""
        if head in self.lists:
            if not rest:
                return str(head), ""
            row = self.rows.get((str(head), rest[0]))
            if row is None and isinstance(rest[0], str) and rest[0].startswith("#"):
                row = int(rest[0][1:])
            if row is None:
                return str(head), ""
            sub = rest[1] if len(rest) > 1 else self._main_part(str(head))
            return f"{head}-{row}-{sub}", _line(rest[2:])
        if head in self._fields and head not in ("csrf_token", "sample", "image"):
            return str(head), _line(rest)
        return "", ""

    def _main_part(self, name: str) -> str:
        return {"params": "value", "blanks": "name", "pairs": "left"}.get(name, "text")

    def show(self, problems: list[tuple[Loc, str]]) -> dict[str, list[str]]:
        """Put each problem next to its field; return ``{field name: messages}``."""
        placed: dict[str, list[str]] = {}
        for loc, message in problems:
            name, prefix = self.place(loc)
            placed.setdefault(name, []).append(prefix + message)
        fields = dict(self.leaves())
        for name, messages in placed.items():
            if name in fields:
                fields[name].errors = [*fields[name].errors, *messages]
            else:
                self.list_errors[name] = messages
        return placed

    def leaves(self) -> Iterator[tuple[str, Field]]:
        """``(name, field)`` of every input, rows' fields included."""
        for field in self:
            if field.type == "FieldList":
                for entry in field.entries:
                    for sub in entry.form:
                        yield sub.name, sub
            else:
                yield field.name, field

    def with_spare_rows(self) -> QuestionForm:
        """Add empty rows under every list, for typing a new one without script."""
        for name in self.lists:
            rows = getattr(self, name)
            filled = len(self._filled(name))
            empty = len(rows.entries) - filled
            for _ in range(max(SPARE_ROWS, self._minimum(name) - filled) - empty):
                rows.append_entry()
        return self

    def _minimum(self, name: str) -> int:
        return {"choices": 3, "items": 3, "pairs": 3, "blanks": 1}.get(name, 0)


def _line(rest: Loc) -> str:
    index = next((part for part in rest if isinstance(part, int)), None)
    return f"line {index + 1}: " if index is not None else ""


class SingleForm(QuestionForm):
    type_name = "single"
    title = "Single choice"
    lists = ("choices", "params")
    choices = _rows("choices", ChoiceRow, "Choices")

    def type_data(self) -> dict[str, Any]:
        return {"choices": self._choices()}


class MultipleForm(QuestionForm):
    type_name = "multiple"
    title = "Multiple choice"
    lists = ("choices", "params")
    choices = _rows("choices", ChoiceRow, "Choices")
    scoring = SelectField(
        "Scoring",
        choices=[
            SelectChoice("partial", "partial: every decision counts"),
            SelectChoice("all_or_nothing", "all or nothing"),
            SelectChoice("right_minus_wrong", "right minus wrong"),
        ],
        default="partial",
    )

    def type_data(self) -> dict[str, Any]:
        return {"choices": self._choices(), "scoring": self.scoring.data}


class TrueFalseForm(QuestionForm):
    type_name = "true_false"
    title = "True or false"
    answer = SelectField(
        "The statement is",
        choices=[
            SelectChoice("", "choose"),
            SelectChoice("true", "true"),
            SelectChoice("false", "false"),
        ],
        default="",
    )

    def type_data(self) -> dict[str, Any]:
        if self.answer.data in ("true", "false"):
            return {"answer": self.answer.data == "true"}
        return {}


class NumericForm(QuestionForm):
    type_name = "numeric"
    title = "Numeric"
    answer = StringField(
        "Answer", description="a number, or an expression of the params: w * x + b"
    )
    tolerance = StringField(
        "Tolerance", description="absolute (0.01) or relative (1%); empty: exact"
    )

    def type_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        answer = parse_number(self.answer.data)
        if answer is not None:
            data["answer"] = answer
        tolerance = parse_number(self.tolerance.data)
        if tolerance is not None:
            data["tolerance"] = tolerance
        return data


class TextForm(QuestionForm):
    type_name = "text"
    title = "Short text"
    accept = TextAreaField(
        "Accepted answers", render_kw={"rows": 3}, description="one per line"
    )
    accept_regex = TextAreaField(
        "Accepted patterns",
        render_kw={"rows": 2},
        description="regular expressions, one per line, matching the whole answer",
    )
    case_sensitive = BooleanField("Case-sensitive")

    def type_data(self) -> dict[str, Any]:
        return {
            "accept": _lines(self.accept.data),
            "accept_regex": _lines(self.accept_regex.data),
            "case_sensitive": bool(self.case_sensitive.data),
        }


class BlanksForm(QuestionForm):
    type_name = "blanks"
    title = "Fill in the blanks"
    lists = ("blanks", "params")
    blanks = _rows("blanks", BlankRow, "Blanks")

    def type_data(self) -> dict[str, Any]:
        blanks: dict[str, Any] = {}
        for row, entry in self._filled("blanks"):
            name = (entry.name.data or "").strip()
            if not self._keyed("blanks", name, row):
                continue
            answer = parse_number(entry.answer.data)
            if answer is not None:
                blank: dict[str, Any] = {"answer": answer}
                tolerance = parse_number(entry.tolerance.data)
                if tolerance is not None:
                    blank["tolerance"] = tolerance
            else:
                blank = {
                    "accept": _lines(entry.accept.data),
                    "accept_regex": _lines(entry.accept_regex.data),
                    "case_sensitive": bool(entry.case_sensitive.data),
                }
            blanks[name] = blank
        return {"blanks": blanks}


class OrderingForm(QuestionForm):
    type_name = "ordering"
    title = "Ordering"
    lists = ("items", "params")
    items = _rows("items", TextRow, "Items, in the correct order (shown shuffled)")
    scoring = SelectField(
        "Scoring",
        choices=[
            SelectChoice("all_or_nothing", "all or nothing"),
            SelectChoice("partial", "partial: longest run in the right order"),
        ],
        default="all_or_nothing",
    )

    def type_data(self) -> dict[str, Any]:
        return {"items": self._texts("items"), "scoring": self.scoring.data}


class MatchingForm(QuestionForm):
    type_name = "matching"
    title = "Matching"
    lists = ("pairs", "distractors", "params")
    pairs = _rows("pairs", PairRow, "Pairs")
    distractors = _rows(
        "distractors", TextRow, "Distractors (extra right-hand options)"
    )

    def type_data(self) -> dict[str, Any]:
        pairs = []
        for row, entry in self._filled("pairs"):
            self.rows[("pairs", len(pairs))] = row
            pairs.append(
                {"left": _text(entry.left.data), "right": _text(entry.right.data)}
            )
        return {"pairs": pairs, "distractors": self._texts("distractors")}


FORMS: dict[str, type[QuestionForm]] = {
    form.type_name: form
    for form in (
        SingleForm,
        MultipleForm,
        TrueFalseForm,
        NumericForm,
        TextForm,
        BlanksForm,
        OrderingForm,
        MatchingForm,
    )
}


# --- from a stored question -----------------------------------------------------------


def initial_data(question: dict[str, Any]) -> dict[str, Any]:
    """What the form shows for ``question`` in its file form (``question_yaml``)."""
    data: dict[str, Any] = {
        "key": question["id"],
        "prompt": question["prompt"],
        "points": show_number(question.get("points", 1)),
        "difficulty": question.get("difficulty") or "",
        "module": question.get("module") or "",
        "tags": ", ".join(question.get("tags", [])),
        "explanation": question.get("explanation") or "",
        "params": [
            _param_row(name, spec) for name, spec in question.get("params", {}).items()
        ],
    }
    kind = question["type"]
    if kind in ("single", "multiple"):
        data["choices"] = [
            {
                "text": c["text"],
                "correct": c.get("correct", False),
                "feedback": c.get("feedback") or "",
            }
            for c in question["choices"]
        ]
    if "scoring" in question or kind in ("multiple", "ordering"):
        data["scoring"] = question.get(
            "scoring", "partial" if kind == "multiple" else "all_or_nothing"
        )
    if kind == "true_false":
        data["answer"] = "true" if question["answer"] else "false"
    elif kind == "numeric":
        data["answer"] = show_number(question["answer"])
        data["tolerance"] = show_number(question.get("tolerance"))
    elif kind == "text":
        data["accept"] = "\n".join(question.get("accept", []))
        data["accept_regex"] = "\n".join(question.get("accept_regex", []))
        data["case_sensitive"] = question.get("case_sensitive", False)
    elif kind == "blanks":
        data["blanks"] = [
            {
                "name": name,
                "accept": "\n".join(spec.get("accept", [])),
                "accept_regex": "\n".join(spec.get("accept_regex", [])),
                "case_sensitive": spec.get("case_sensitive", False),
                "answer": show_number(spec.get("answer")),
                "tolerance": show_number(spec.get("tolerance")),
            }
            for name, spec in question["blanks"].items()
        ]
    elif kind == "ordering":
        data["items"] = [{"text": item} for item in question["items"]]
    elif kind == "matching":
        data["pairs"] = [
            {"left": p["left"], "right": p["right"]} for p in question["pairs"]
        ]
        data["distractors"] = [{"text": d} for d in question.get("distractors", [])]
    return data


def _param_row(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    kind = next(
        (k for k in ("randint", "uniform", "choice", "expr") if k in spec), "expr"
    )
    value = spec.get(kind)
    shown = (
        ", ".join(show_number(v) for v in value)
        if isinstance(value, list)
        else str(value)
    )
    return {
        "name": name,
        "kind": kind,
        "value": shown,
        "round": show_number(spec.get("round")),
    }
