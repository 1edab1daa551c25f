"""The shape of bank, quiz and programme files (``../shared/spec/question-banks.md``).

pydantic checks structure and types here: required fields, unknown fields, enums,
numbers. Rules that need more than one field or more than one file (exactly one
correct choice, blanks that match their markers, references, pools) live in
:mod:`quizapp.banks.checker`, which reports them at the exact field.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
)

SLUG = re.compile(r"[a-z0-9][a-z0-9-]*")
DURATION = re.compile(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*%")
#: The largest count, or duration in seconds, a file may give: what the database's
#: integer columns hold.
MAX_INT = 2**31 - 1
#: The most points a question or rubric criterion may be worth, so that totals stay
#: ordinary numbers.
MAX_POINTS = 1_000_000
QUESTION_TYPES = (
    "single",
    "multiple",
    "true_false",
    "numeric",
    "text",
    "blanks",
    "ordering",
    "matching",
)


def _slug(value: str) -> str:
    if len(value) > 64 or not SLUG.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a slug: use lower-case letters, digits and hyphens, "
            "starting with a letter or digit, at most 64 characters"
        )
    return value


def _text(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


def duration_seconds(value: str) -> int:
    """``"1h30m"`` -> 5400. Raises ValueError for anything else."""
    match = DURATION.fullmatch(value.strip()) if isinstance(value, str) else None
    if not match or not any(match.groups()):
        raise ValueError(
            f"{value!r} is not a duration: write it like 90s, 30m or 1h30m"
        )
    hours, minutes, seconds = (int(part or 0) for part in match.groups())
    total = hours * 3600 + minutes * 60 + seconds
    if total <= 0:
        raise ValueError("must be longer than zero")
    if total > MAX_INT:
        raise ValueError(f"must be at most {MAX_INT} seconds")
    return total


def _duration(value: Any) -> str:
    duration_seconds(value)
    return value


def percent(value: str) -> float:
    """``"60%"`` -> 60.0. Raises ValueError for anything else."""
    match = PERCENT.fullmatch(value.strip()) if isinstance(value, str) else None
    if not match:
        raise ValueError(f"{value!r} is not a percentage: write it like 60%")
    number = float(match.group(1))
    if number > 100:
        raise ValueError("must be at most 100%")
    return number


def _percent(value: Any) -> str:
    percent(value)
    return value


def _instant(value: Any) -> Any:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(
                f"{value!r} is not a date and time: "
                "write it like 2026-04-01T09:00:00+08:00"
            ) from None
    if isinstance(value, date) and not isinstance(value, datetime):
        raise ValueError(
            "give a time and an offset too, e.g. 2026-04-01T09:00:00+08:00"
        )
    if isinstance(value, datetime) and value.utcoffset() is None:
        raise ValueError(
            "give the offset from UTC, e.g. 2026-04-01T09:00:00+08:00 or ...Z"
        )
    return value


Slug = Annotated[str, AfterValidator(_slug)]
Text = Annotated[str, AfterValidator(_text)]
Duration = Annotated[str, BeforeValidator(_duration)]
Percent = Annotated[str, BeforeValidator(_percent)]
Instant = Annotated[datetime, BeforeValidator(_instant)]
Difficulty = Literal["easy", "medium", "hard"]
PositiveNumber = Annotated[float, Field(gt=0, le=MAX_POINTS)]
Count = Annotated[int, Field(ge=1, le=MAX_INT)]


class Model(BaseModel):
    #: Infinite or NaN numbers (YAML's .inf, .nan) are refused: no score or
    #: tolerance can be computed with them.
    model_config = ConfigDict(
        extra="forbid", strict=True, populate_by_name=True, allow_inf_nan=False
    )


# --- questions ---------------------------------------------------------------------


class Choice(Model):
    text: Text
    correct: bool = False
    feedback: str | None = None


class Pair(Model):
    left: Text
    right: Text


class TextBlank(Model):
    accept: list[Text] = []
    accept_regex: list[Text] = []
    case_sensitive: bool = False


class NumericBlank(Model):
    answer: float | Text
    tolerance: float | str | None = None


def _blank_kind(value: Any) -> str:
    """A blank with an ``answer`` is numeric (in files, and in models when dumping)."""
    if isinstance(value, NumericBlank) or (
        isinstance(value, dict) and "answer" in value
    ):
        return "numeric"
    return "text"


Blank = Annotated[
    Annotated[TextBlank, Tag("text")] | Annotated[NumericBlank, Tag("numeric")],
    Discriminator(_blank_kind),
]


class QuestionBase(Model):
    id: Slug
    prompt: Text
    points: PositiveNumber = 1.0
    difficulty: Difficulty | None = None
    tags: list[Slug] = []
    module: Slug | None = None
    explanation: str | None = None
    params: dict[str, dict[str, Any]] = {}


class Single(QuestionBase):
    type: Literal["single"]
    choices: Annotated[list[Choice], Field(min_length=2)]


class Multiple(QuestionBase):
    type: Literal["multiple"]
    choices: Annotated[list[Choice], Field(min_length=2)]
    scoring: Literal["partial", "all_or_nothing", "right_minus_wrong"] = "partial"


class TrueFalse(QuestionBase):
    type: Literal["true_false"]
    answer: bool


class Numeric(QuestionBase):
    type: Literal["numeric"]
    answer: float | Text
    tolerance: float | str | None = None


class TextQuestion(QuestionBase):
    type: Literal["text"]
    accept: list[Text] = []
    accept_regex: list[Text] = []
    case_sensitive: bool = False


class Blanks(QuestionBase):
    type: Literal["blanks"]
    blanks: Annotated[dict[str, Blank], Field(min_length=1)]


class Ordering(QuestionBase):
    type: Literal["ordering"]
    items: Annotated[list[Text], Field(min_length=2)]
    scoring: Literal["all_or_nothing", "partial"] = "all_or_nothing"


class Matching(QuestionBase):
    type: Literal["matching"]
    pairs: Annotated[list[Pair], Field(min_length=2)]
    distractors: list[Text] = []


Question = Annotated[
    Single
    | Multiple
    | TrueFalse
    | Numeric
    | TextQuestion
    | Blanks
    | Ordering
    | Matching,
    Field(discriminator="type"),
]


class BankHeader(Model):
    """A bank file without its questions, which are validated one by one."""

    bank: Slug
    title: Text
    description: str | None = None
    module: Slug | None = None
    tags: list[Slug] = []
    questions: list[Any]


# --- quizzes -----------------------------------------------------------------------


def _listed(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


class Pool(Model):
    bank: Slug | None = None
    tags: list[Slug] = []
    #: One difficulty or a list of them; stored as a list.
    difficulty: Annotated[list[Difficulty], BeforeValidator(_listed)] = []
    module: Slug | None = None

    @property
    def difficulties(self) -> list[str]:
        return list(self.difficulty)


class Section(Model):
    title: str | None = None
    questions: list[Text] | None = None
    draw: Count | None = None
    pool: Pool | None = Field(default=None, alias="from")


class QuizFile(Model):
    quiz: Slug
    title: Text
    description: str | None = None
    time_limit: Duration | None = None
    opens: Instant | None = None
    closes: Instant | None = None
    attempts: Annotated[int, Field(ge=0, le=MAX_INT)] = 1
    grading: Literal["highest", "latest", "first"] = "highest"
    pass_mark: Percent | None = None
    shuffle_questions: bool = True
    shuffle_choices: bool = True
    show_results: Literal["immediately", "after_close", "never"] = "immediately"
    sections: Annotated[list[Section], Field(min_length=1)]


# --- programmes --------------------------------------------------------------------


class Criterion(Model):
    criterion: Text
    points: PositiveNumber
    description: str | None = None


class Module(Model):
    slug: Slug
    title: Text
    description: str | None = None
    assessments: list[Slug] = []
    project: bool = False
    rubric: list[Criterion] = []


class ProgrammeFile(Model):
    programme: Slug
    title: Text
    description: str | None = None
    screening_quiz: Slug | None = None
    shortlist_size: Count = 100
    #: Default: 50, or the shortlist size when that is smaller.
    finalist_count: Count | None = None
    modules: Annotated[list[Module], Field(min_length=1)]

    @property
    def finalists(self) -> int:
        if self.finalist_count is not None:
            return self.finalist_count
        return min(50, self.shortlist_size)


#: Every field name any file may hold, for "did you mean" hints on typos.
FIELD_NAMES = sorted(
    {
        (info.alias or name)
        for model in (
            Choice,
            Pair,
            TextBlank,
            NumericBlank,
            Single,
            Multiple,
            TrueFalse,
            Numeric,
            TextQuestion,
            Blanks,
            Ordering,
            Matching,
            BankHeader,
            Pool,
            Section,
            QuizFile,
            Criterion,
            Module,
            ProgrammeFile,
        )
        for name, info in model.model_fields.items()
    }
    | {"type"}
)
