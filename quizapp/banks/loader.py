"""Read bank, quiz and programme files into validated documents.

:func:`load_paths` never raises for bad content: it returns the documents it could
read and a :class:`~quizapp.banks.yamlsource.Problem` for everything else, each
naming the file, the line and the field. A question that fails validation is left
out of its bank (and remembered as broken, so that references to it are not
reported a second time); the rest of the bank is still checked.
"""

from __future__ import annotations

import difflib
import gc
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from quizapp.banks import schema
from quizapp.banks.yamlsource import Loc, Located, Problem, load

QUESTION = TypeAdapter(schema.Question)
YAML_SUFFIXES = (".yaml", ".yml")
KINDS = ("bank", "quiz", "programme")


@dataclass
class BankDoc:
    source: Located
    header: schema.BankHeader
    #: (position in the file, question) for every question that validated.
    questions: list[tuple[int, Any]] = field(default_factory=list)
    #: ids of questions that did not validate: references to them are not re-reported.
    broken: set[str] = field(default_factory=set)

    @property
    def folder(self) -> Path:
        return Path(self.source.path).parent


@dataclass
class QuizDoc:
    source: Located
    model: schema.QuizFile


@dataclass
class ProgrammeDoc:
    source: Located
    model: schema.ProgrammeFile


@dataclass
class Documents:
    banks: list[BankDoc] = field(default_factory=list)
    quizzes: list[QuizDoc] = field(default_factory=list)
    programmes: list[ProgrammeDoc] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    files: int = 0


def discover(paths: Iterable[str | Path]) -> tuple[list[Path], list[Problem]]:
    """The YAML files named by ``paths``; folders are walked recursively."""
    files: list[Path] = []
    problems: list[Problem] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*") if p.suffix in YAML_SUFFIXES and p.is_file()
            )
            files.extend(p for p in found if "assets" not in p.relative_to(path).parts)
        elif path.is_file():
            files.append(path)
        else:
            problems.append(Problem(str(path), 0, "(path)", "no such file or folder"))
    unique = list(dict.fromkeys(files))
    return unique, problems


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Parsing makes hundreds of thousands of small objects that all live on, so the
    cyclic garbage collector's passes find nothing and cost 40-50% of the run
    (``bench/profile_banks.py``). Reference counting still frees everything."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load_paths(paths: Iterable[str | Path]) -> Documents:
    files, problems = discover(paths)
    docs = Documents(problems=problems, files=len(files))
    with _collector_paused():
        for path in files:
            load_file(path, docs)
    return docs


def load_file(path: Path, docs: Documents) -> None:
    name = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        docs.problems.append(Problem(name, 0, "(file)", f"cannot read: {exc.strerror}"))
        return
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        docs.problems.append(Problem(name, line, "(file)", "not UTF-8 text"))
        return
    located, problems = load(name, text)
    docs.problems.extend(problems)
    if located is None:
        return
    data = located.data
    kinds = [kind for kind in KINDS if isinstance(data, dict) and kind in data]
    if len(kinds) != 1:
        what = "both " + " and ".join(kinds) if kinds else "none of them"
        docs.problems.append(
            located.problem(
                (),
                "a file holds one bank, quiz or programme: it starts with `bank:`, "
                f"`quiz:` or `programme:` ({what} found)",
                field="(file)",
            )
        )
        return
    if kinds[0] == "bank":
        _load_bank(located, docs)
    elif kinds[0] == "quiz":
        model = _validate(located, schema.QuizFile, docs.problems)
        if model is not None:
            docs.quizzes.append(QuizDoc(located, model))
    else:
        model = _validate(located, schema.ProgrammeFile, docs.problems)
        if model is not None:
            docs.programmes.append(ProgrammeDoc(located, model))


def _load_bank(located: Located, docs: Documents) -> None:
    header = _validate(located, schema.BankHeader, docs.problems)
    if header is not None:
        raws = header.questions
    else:
        # The header is wrong, but its questions' errors are reported all the same
        # (every error, not just the first); the bank itself is not kept.
        listed = (
            located.data.get("questions") if isinstance(located.data, dict) else None
        )
        raws = listed if isinstance(listed, list) else []
    bank = BankDoc(located, header) if header is not None else None
    for i, raw in enumerate(raws):
        loc = ("questions", i)
        try:
            question = QUESTION.validate_python(raw)
        except ValidationError as exc:
            tag = raw.get("type") if isinstance(raw, dict) else None
            docs.problems.extend(translate(exc, located, loc, union_tag=tag))
            ident = raw.get("id") if isinstance(raw, dict) else None
            if bank is not None and isinstance(ident, str):
                bank.broken.add(ident)
        else:
            if bank is not None:
                bank.questions.append((i, question))
    if bank is not None:
        docs.banks.append(bank)


def _validate(
    located: Located, model: type[schema.Model], problems: list[Problem]
) -> Any:
    try:
        return model.model_validate(located.data)
    except ValidationError as exc:
        problems.extend(translate(exc, located, ()))
        return None


def translate(
    exc: ValidationError, located: Located, base: Loc, union_tag: Any = None
) -> list[Problem]:
    """pydantic's errors as problems at the line of the offending field.

    ``union_tag`` is the discriminator value of a tagged union validated at
    ``base``: pydantic names the member first in each error's location, which is
    not a key of the file (or, for ``type: blanks``, is one: the ``blanks`` field).
    """
    out: dict[Loc, Problem] = {}
    for error in exc.errors(include_url=False):
        parts = error["loc"]
        if union_tag is not None and parts and parts[0] == union_tag:
            parts = parts[1:]
        loc = _real_loc(located.data, (*base, *parts))
        if error["type"] == "union_tag_invalid":
            loc = (*loc, "type")
        if loc in out or any(loc[: len(bad)] == bad for bad in located.refused):
            continue  # one message per field; refused YAML was reported already
        out[loc] = located.problem(loc, _message(error))
    return list(out.values())


def _real_loc(data: Any, loc: Loc) -> Loc:
    """The location in the file, without the union members pydantic names in it
    (``questions.0.single.id``, ``answer.function-after[...]``)."""
    real: list[str | int] = []
    node = data
    for i, part in enumerate(loc):
        if _has(node, part):
            node = node[part]
            real.append(part)
        elif isinstance(node, dict) and isinstance(part, str) and i == len(loc) - 1:
            real.append(part)  # a required field that is missing
    return tuple(real)


def _has(node: Any, part: str | int) -> bool:
    if isinstance(node, dict):
        return part in node
    return isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)


def _message(error: Any) -> str:
    kind = error["type"]
    value = error.get("input")
    if kind == "missing":
        return "required"
    if kind == "extra_forbidden":
        name = str(error["loc"][-1])
        if name in schema.FIELD_NAMES:  # "did you mean" itself would be no help
            return "unknown field here: it belongs to another question type or file"
        close = difflib.get_close_matches(name, schema.FIELD_NAMES, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return f"unknown field{hint}"
    if kind == "union_tag_invalid":
        return f"unknown question type {value.get('type')!r}; use one of: " + ", ".join(
            schema.QUESTION_TYPES
        )
    if kind == "union_tag_not_found":
        return (
            "required: the question's type (" + ", ".join(schema.QUESTION_TYPES) + ")"
        )
    if kind == "value_error":
        return str(error["ctx"]["error"])
    if kind == "literal_error":
        return f"{value!r} is not allowed: use {error['ctx']['expected']}"
    if kind == "string_type" and isinstance(value, bool):
        return (
            "expected text; YAML reads yes/no/on/off/true/false as true or false, "
            "so quote it"
        )
    if kind in {"float_type", "int_type"} and isinstance(value, str):
        return f"expected a number, not the text {value!r}"
    if kind == "greater_than_equal":
        return f"must be at least {error['ctx']['ge']:g}"
    if kind == "greater_than":
        return f"must be more than {error['ctx']['gt']:g}"
    if kind == "less_than_equal":
        limit = error["ctx"]["le"]
        return f"must be at most {int(limit) if limit == int(limit) else limit}"
    if kind == "finite_number":
        return "must be a finite number, not .inf or .nan"
    if kind == "bool_type":
        return f"expected true or false, not {value!r}"
    message = str(error["msg"])
    return message[:1].lower() + message[1:]
