"""Rules that take more than one field or more than one file.

:func:`check` runs after :func:`~quizapp.banks.loader.load_paths` and returns every
problem it finds, each at the line of the field at fault. References (a quiz naming a
question, a programme naming a quiz) resolve against the files being checked first
and then, when given, against what the database already holds (``existing``), so a
quiz can be imported on its own once its banks are in.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from quizapp import grading
from quizapp.banks import schema
from quizapp.banks.loader import BankDoc, Documents, ProgrammeDoc, QuizDoc
from quizapp.banks.yamlsource import Loc, Located, Problem

IMAGE = re.compile(r"!\[[^\]]*\]\(\s*(?:<([^>]*)>|([^)\s]+))")
MARKER = re.compile(r"\[\[\s*([^\]]*?)\s*\]\]")
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
ASSET_NAME = re.compile(r"[A-Za-z0-9._/-]+")
ASSET_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".svg": "image/svg+xml",
}
MAX_ASSET_BYTES = 2 * 1024 * 1024
#: Parameterised answers are computed for this many seeds (to catch division by zero).
SAMPLE_SEEDS = 8
#: Above this many sections the exact pool check (over every subset) is skipped.
MAX_SECTIONS_FOR_OVERLAP = 12


@dataclass(frozen=True)
class QuestionInfo:
    """What a quiz pool filters on."""

    tags: frozenset[str]
    difficulty: str | None
    module: str | None


@dataclass
class Catalogue:
    """Banks, questions and quizzes a reference may point at."""

    banks: dict[str, dict[str, QuestionInfo]] = field(default_factory=dict)
    broken: dict[str, set[str]] = field(default_factory=dict)
    quizzes: set[str] = field(default_factory=set)
    #: Imported quizzes as ``{slug: (source path, sections)}``: an import that changes
    #: a bank must not leave one of them drawing from a pool that is now too small.
    stored_quizzes: dict[str, tuple[str, list[dict[str, Any]]]] = field(
        default_factory=dict
    )


def effective_tags(header: schema.BankHeader, question: Any) -> list[str]:
    """The bank's tags and the question's own, sorted."""
    return sorted({*header.tags, *question.tags})


def effective_module(header: schema.BankHeader, question: Any) -> str | None:
    return question.module or header.module


def question_texts(question: Any) -> Iterator[tuple[Loc, str]]:
    """Every Markdown text of a question, with its location inside the question."""
    yield ("prompt",), question.prompt
    if question.explanation:
        yield ("explanation",), question.explanation
    for i, choice in enumerate(getattr(question, "choices", ())):
        yield ("choices", i, "text"), choice.text
        if choice.feedback:
            yield ("choices", i, "feedback"), choice.feedback
    for i, item in enumerate(getattr(question, "items", ())):
        yield ("items", i), item
    for i, pair in enumerate(getattr(question, "pairs", ())):
        yield ("pairs", i, "left"), pair.left
        yield ("pairs", i, "right"), pair.right
    for i, text in enumerate(getattr(question, "distractors", ())):
        yield ("distractors", i), text


def image_paths(text: str) -> list[str]:
    return [bracketed or bare for bracketed, bare in IMAGE.findall(text)]


def asset_problem(folder: Path, reference: str) -> str | None:
    """Why ``reference`` (from a bank in ``folder``) is not a usable asset, or None."""
    pure = PurePosixPath(reference)
    if (
        pure.is_absolute()
        or ".." in pure.parts
        or not pure.parts
        or pure.parts[0] != "assets"
    ):
        return (
            f"image {reference!r}: images must be files under the bank's assets/ folder"
        )
    if not ASSET_NAME.fullmatch(reference):
        return (
            f"image {reference!r}: name image files with letters, digits, '.', '_' "
            "and '-' only (no spaces)"
        )
    if pure.suffix.lower() not in ASSET_TYPES:
        allowed = ", ".join(sorted(ASSET_TYPES))
        return f"image {reference!r}: use one of these file types: {allowed}"
    path = folder.joinpath(*pure.parts)
    try:
        size = path.stat().st_size if path.is_file() else None
    except OSError as exc:  # a name too long for the file system...
        return f"image {reference!r} cannot be read: {exc.strerror}"
    if size is None:
        return f"image {reference!r} is not in the bank's folder"
    if size > MAX_ASSET_BYTES:
        return (
            f"image {reference!r} is larger than {MAX_ASSET_BYTES // 1024 // 1024} MB"
        )
    return None


def check(docs: Documents, existing: Catalogue | None = None) -> list[Problem]:
    """Every problem of ``docs``: the loader's, then cross-field and cross-file ones."""
    problems = list(docs.problems)
    catalogue = Catalogue(
        banks=dict(existing.banks) if existing else {},
        broken=dict(existing.broken) if existing else {},
        quizzes=set(existing.quizzes) if existing else set(),
    )
    for bank in _unique(docs.banks, "bank", lambda b: b.header.bank, problems):
        problems.extend(_check_bank(bank))
        catalogue.banks[bank.header.bank] = {
            q.id: QuestionInfo(
                frozenset(effective_tags(bank.header, q)),
                q.difficulty,
                effective_module(bank.header, q),
            )
            for _, q in bank.questions
        }
        catalogue.broken[bank.header.bank] = bank.broken
    for quiz in _unique(docs.quizzes, "quiz", lambda q: q.model.quiz, problems):
        catalogue.quizzes.add(quiz.model.quiz)
        problems.extend(_check_quiz(quiz, catalogue))
    if docs.banks and existing:
        in_files = {quiz.model.quiz for quiz in docs.quizzes}
        for slug, (path, sections) in existing.stored_quizzes.items():
            if slug not in in_files:
                problems.extend(_recheck_stored_quiz(slug, path, sections, catalogue))
    programmes = _unique(
        docs.programmes, "programme", lambda p: p.model.programme, problems
    )
    for programme in programmes:
        problems.extend(_check_programme(programme, catalogue))
    return sorted(set(problems), key=lambda p: (p.path, p.line, p.field, p.message))


def _unique(
    docs: list[Any], kind: str, slug_of: Callable[[Any], str], problems: list[Problem]
) -> Iterator[Any]:
    """``docs`` without the second and later files defining the same slug (reported)."""
    seen: dict[str, str] = {}
    for doc in docs:
        slug = slug_of(doc)
        if slug in seen:
            message = f"{kind} {slug!r} is also defined in {seen[slug]}"
            problems.append(doc.source.problem((kind,), message))
            continue
        seen[slug] = doc.source.path
        yield doc


# --- banks -------------------------------------------------------------------------


def _check_bank(bank: BankDoc) -> list[Problem]:
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for position, question in bank.questions:
        base = ("questions", position)
        if question.id in seen:
            problems.append(
                bank.source.problem(
                    (*base, "id"),
                    f"the id {question.id!r} is already used by the question on "
                    f"line {seen[question.id]}",
                )
            )
        else:
            seen[question.id] = bank.source.line(base)
        for loc, message in check_question(question, bank.folder):
            problems.append(bank.source.problem((*base, *loc), message))
    return problems


def check_question(question: Any, folder: Path | None) -> list[tuple[Loc, str]]:
    """Problems of one validated question, as (location inside it, message).

    ``folder`` is the bank folder that images resolve against; None skips the asset
    check (the browser editor checks uploads itself).
    """
    out: list[tuple[Loc, str]] = []
    params = question.params
    for name, message in grading.check_params(params):
        out.append((("params", name), message))
    declared = set(params)
    for loc, text in question_texts(question):
        for name in grading.PLACEHOLDER.findall(text):
            if name not in declared:
                out.append((loc, f"{{{{{name}}}}} is not one of the question's params"))
        if folder is not None:
            for reference in image_paths(text):
                problem = asset_problem(folder, reference)
                if problem:
                    out.append((loc, problem))
    out.extend(TYPE_CHECKS[question.type](question))
    if not out:
        out.extend(_sample_answers(question))
    return out


def _check_choices(question: Any) -> Iterator[tuple[Loc, str]]:
    texts: dict[str, int] = {}
    for i, choice in enumerate(question.choices):
        key = choice.text.strip()
        if key in texts:
            yield ("choices", i, "text"), f"the same text as choice {texts[key]}"
        texts.setdefault(key, i)
    correct = [i for i, choice in enumerate(question.choices) if choice.correct]
    if not correct:
        yield ("choices",), "no choice is marked `correct: true`"
    if question.type == "single":
        for i in correct[1:]:
            yield (
                ("choices", i, "correct"),
                "a second correct choice: a single-choice question has exactly one "
                "(use type: multiple for several)",
            )


def _check_number(loc: Loc, answer: Any, tolerance: Any, declared: set[str]):
    if isinstance(answer, str):
        try:
            expression = grading.parse_expression(answer)
        except grading.ExpressionError as exc:
            yield (*loc, "answer"), str(exc)
        else:
            for name in sorted(expression.names - declared):
                yield (*loc, "answer"), f"{name!r} is not one of the question's params"
    if isinstance(tolerance, int | float) and not isinstance(tolerance, bool):
        if tolerance < 0:
            yield (*loc, "tolerance"), "must not be negative"
    elif isinstance(tolerance, str):
        match = re.fullmatch(r"\s*(-?\d+(?:\.\d+)?)\s*%\s*", tolerance)
        if not match:
            yield (
                (*loc, "tolerance"),
                f"{tolerance!r}: write an absolute number or a percentage like 1%",
            )
        elif float(match.group(1)) < 0:
            yield (*loc, "tolerance"), "must not be negative"


def _check_numeric(question: Any):
    yield from _check_number(
        (), question.answer, question.tolerance, set(question.params)
    )


def _check_patterns(loc: Loc, accept: list[str], patterns: list[str]):
    if not accept and not patterns:
        yield (
            loc or ("accept",),
            "give `accept` answers, `accept_regex` patterns, or both",
        )
    for i, pattern in enumerate(patterns):
        try:
            re.compile(pattern)
        except re.error as exc:
            yield (
                (*loc, "accept_regex", i),
                f"not a valid regular expression: {exc.msg}",
            )
        except (OverflowError, RecursionError) as exc:  # a{99999999999}, (((...)))
            yield (
                (*loc, "accept_regex", i),
                f"not a valid regular expression: {exc}",
            )


def _check_text(question: Any):
    yield from _check_patterns((), question.accept, question.accept_regex)


def _check_blanks(question: Any):
    markers = MARKER.findall(question.prompt)
    seen: set[str] = set()
    for name in markers:
        if not IDENTIFIER.fullmatch(name):
            yield (
                ("prompt",),
                f"[[{name}]] is not a blank name: use letters, digits and _",
            )
        elif name in seen:
            yield ("prompt",), f"[[{name}]] appears twice; give each blank its own name"
        elif name not in question.blanks:
            yield ("prompt",), f"[[{name}]] has no entry under `blanks`"
        seen.add(name)
    for name, blank in question.blanks.items():
        loc = ("blanks", name)
        if name not in seen:
            yield loc, f"the prompt has no [[{name}]] marker for this blank"
        if isinstance(blank, schema.NumericBlank):
            yield from _check_number(
                loc, blank.answer, blank.tolerance, set(question.params)
            )
        else:
            yield from _check_patterns(loc, blank.accept, blank.accept_regex)


def _check_ordering(question: Any):
    seen: dict[str, int] = {}
    for i, item in enumerate(question.items):
        if item.strip() in seen:
            yield (
                ("items", i),
                f"the same text as item {seen[item.strip()]}: items must differ",
            )
        seen.setdefault(item.strip(), i)


def _check_matching(question: Any):
    lefts: dict[str, int] = {}
    for i, pair in enumerate(question.pairs):
        if pair.left.strip() in lefts:
            yield (
                ("pairs", i, "left"),
                f"the same left side as pair {lefts[pair.left.strip()]}",
            )
        lefts.setdefault(pair.left.strip(), i)
    rights = {pair.right.strip() for pair in question.pairs}
    seen: set[str] = set()
    for i, text in enumerate(question.distractors):
        if text.strip() in rights:
            yield (
                ("distractors", i),
                "a distractor must not be one of the right-hand answers",
            )
        elif text.strip() in seen:
            yield ("distractors", i), "this distractor is listed twice"
        seen.add(text.strip())


def _nothing(question: Any):
    return iter(())


TYPE_CHECKS = {
    "single": _check_choices,
    "multiple": _check_choices,
    "true_false": _nothing,
    "numeric": _check_numeric,
    "text": _check_text,
    "blanks": _check_blanks,
    "ordering": _check_ordering,
    "matching": _check_matching,
}


def _sample_answers(question: Any) -> list[tuple[Loc, str]]:
    """Compute parameterised answers for a few seeds: an error would hit a candidate."""
    numbers: list[tuple[Loc, Any]] = []
    if question.type == "numeric":
        numbers.append((("answer",), question.answer))
    elif question.type == "blanks":
        numbers.extend(
            (("blanks", name, "answer"), blank.answer)
            for name, blank in question.blanks.items()
            if isinstance(blank, schema.NumericBlank)
        )
    if not any(isinstance(number, str) for _, number in numbers):
        return []
    for seed in range(SAMPLE_SEEDS if question.params else 1):
        try:
            values = grading.draw_params(question.params, f"check:{seed}")
        except grading.ExpressionError as exc:
            return [(("params",), f"cannot draw values: {exc}")]
        for loc, number in numbers:
            try:
                grading.resolve_number(number, values)
            except grading.ExpressionError as exc:
                shown = ", ".join(f"{k}={v}" for k, v in values.items())
                where = f" for {shown}" if shown else ""
                return [(loc, f"cannot be computed{where}: {exc}")]
    return []


# --- quizzes -----------------------------------------------------------------------


def pool_members(pool: schema.Pool, catalogue: Catalogue) -> set[str]:
    """``bank/id`` of every question the pool may draw."""
    banks = [pool.bank] if pool.bank else list(catalogue.banks)
    wanted_tags = set(pool.tags)
    difficulties = set(pool.difficulties)
    return {
        f"{bank}/{ident}"
        for bank in banks
        for ident, info in catalogue.banks.get(bank, {}).items()
        if wanted_tags <= info.tags
        and (not difficulties or info.difficulty in difficulties)
        and (pool.module is None or info.module == pool.module)
    }


def _check_quiz(quiz: QuizDoc, catalogue: Catalogue) -> list[Problem]:
    model, source = quiz.model, quiz.source
    problems: list[Problem] = []
    if model.opens and model.closes and model.closes <= model.opens:
        problems.append(source.problem(("closes",), "must be after `opens`"))
    if model.show_results == "after_close" and not model.closes:
        problems.append(
            source.problem(
                ("show_results",), "after_close needs a `closes` date and time"
            )
        )
    _check_sections(source, model.sections, catalogue, problems)
    return problems


def _check_sections(
    source: Located,
    sections: list[schema.Section],
    catalogue: Catalogue,
    problems: list[Problem],
) -> None:
    drawn: list[tuple[int, int, set[str]]] = []
    fixed_seen: dict[str, int] = {}
    for i, section in enumerate(sections):
        loc = ("sections", i)
        members = _check_section(source, loc, section, catalogue, fixed_seen, problems)
        if members is not None:
            draw = section.draw if section.draw is not None else len(members)
            drawn.append((i, draw, members))
    problems.extend(_check_overlap(source, drawn))


def _recheck_stored_quiz(
    slug: str, path: str, sections: list[dict[str, Any]], catalogue: Catalogue
) -> list[Problem]:
    """An imported quiz against the banks as this import would leave them."""
    source = Located(path, {"sections": sections})
    problems: list[Problem] = []
    models = [schema.Section.model_validate(section) for section in sections]
    _check_sections(source, models, catalogue, problems)
    return [
        Problem(
            p.path,
            p.line,
            p.field,
            f"quiz {slug!r} (already imported) would break: {p.message}; "
            "change the quiz in the same import",
        )
        for p in problems
    ]


def _check_section(
    source: Located,
    loc: Loc,
    section: schema.Section,
    catalogue: Catalogue,
    fixed_seen: dict[str, int],
    problems: list[Problem],
) -> set[str] | None:
    """The section's candidate questions, or None when it is in error."""
    if section.questions is not None:
        if section.draw is not None or section.pool is not None:
            problems.append(
                source.problem(
                    loc, "a section lists `questions` or draws `from` a pool, not both"
                )
            )
            return None
        if not section.questions:
            problems.append(
                source.problem((*loc, "questions"), "must list at least one question")
            )
            return None
        members = set()
        for j, ref in enumerate(section.questions):
            here = (*loc, "questions", j)
            message = _reference_problem(ref, catalogue)
            if message:
                problems.append(source.problem(here, message))
            elif ref in fixed_seen:
                problems.append(
                    source.problem(
                        here, f"{ref} is already in section {fixed_seen[ref]}"
                    )
                )
            fixed_seen.setdefault(ref, loc[1])
            members.add(ref)
        return members if len(members) == len(section.questions) else None
    if section.pool is None or section.draw is None:
        problems.append(
            source.problem(
                loc,
                "a section needs `questions: [bank/id, ...]`, "
                "or `draw: N` with `from:` a pool",
            )
        )
        return None
    pool = section.pool
    if pool.bank and pool.bank not in catalogue.banks:
        problems.append(
            source.problem((*loc, "from", "bank"), _unknown_bank(pool.bank))
        )
        return None
    members = pool_members(pool, catalogue)
    if section.draw > len(members):
        problems.append(
            source.problem(
                (*loc, "draw"),
                f"draws {section.draw} but only {len(members)} "
                f"{'question matches' if len(members) == 1 else 'questions match'} "
                f"{_describe(pool)}",
            )
        )
        return None
    return members


def _unknown_bank(slug: str) -> str:
    return f"unknown bank {slug!r}: check or import its folder along with this file"


def _reference_problem(ref: str, catalogue: Catalogue) -> str | None:
    bank, _, ident = ref.partition("/")
    if not ident:
        return f"{ref!r}: refer to a question as bank/id"
    if bank not in catalogue.banks:
        return _unknown_bank(bank)
    if ident in catalogue.broken.get(bank, set()):
        return None
    if ident not in catalogue.banks[bank]:
        return f"unknown question {ref!r}: bank {bank!r} has no question {ident!r}"
    return None


def _describe(pool: schema.Pool) -> str:
    parts = [f"bank {pool.bank}" if pool.bank else "all banks"]
    if pool.tags:
        parts.append("tags " + ", ".join(pool.tags))
    if pool.difficulties:
        parts.append("difficulty " + ", ".join(pool.difficulties))
    if pool.module:
        parts.append(f"module {pool.module}")
    return "(" + "; ".join(parts) + ")"


def _check_overlap(
    source: Located, sections: list[tuple[int, int, set[str]]]
) -> list[Problem]:
    """Sections drawing from shared pools must still find enough distinct questions.

    Hall's condition: for every group of sections, what they draw together must not
    exceed the questions they can draw from together.
    """
    if len(sections) > MAX_SECTIONS_FOR_OVERLAP:
        return []
    for size in range(2, len(sections) + 1):
        for group in itertools.combinations(sections, size):
            wanted = sum(draw for _, draw, _ in group)
            available = set().union(*(members for _, _, members in group))
            if wanted > len(available):
                numbers = [str(i) for i, _, _ in group]
                names = ", ".join(numbers[:-1]) + " and " + numbers[-1]
                return [
                    source.problem(
                        ("sections",),
                        f"sections {names} need {wanted} different questions together "
                        f"but their pools share only {len(available)}",
                    )
                ]
    return []


# --- programmes --------------------------------------------------------------------


def _check_programme(programme: ProgrammeDoc, catalogue: Catalogue) -> list[Problem]:
    model, source = programme.model, programme.source
    problems: list[Problem] = []
    if model.screening_quiz and model.screening_quiz not in catalogue.quizzes:
        problems.append(
            source.problem(("screening_quiz",), _unknown_quiz(model.screening_quiz))
        )
    if model.finalist_count and model.finalist_count > model.shortlist_size:
        problems.append(
            source.problem(
                ("finalist_count",), "cannot be larger than `shortlist_size`"
            )
        )
    slugs: set[str] = set()
    for i, module in enumerate(model.modules):
        loc = ("modules", i)
        if module.slug in slugs:
            problems.append(
                source.problem(
                    (*loc, "slug"), f"module {module.slug!r} is listed twice"
                )
            )
        slugs.add(module.slug)
        for j, quiz in enumerate(module.assessments):
            if quiz not in catalogue.quizzes:
                problems.append(
                    source.problem((*loc, "assessments", j), _unknown_quiz(quiz))
                )
        if module.project and not module.rubric:
            problems.append(
                source.problem(
                    (*loc, "rubric"), "a project module needs a rubric to be judged on"
                )
            )
        if module.rubric and not module.project:
            problems.append(
                source.problem(
                    (*loc, "rubric"), "only a module with `project: true` has a rubric"
                )
            )
        if not module.project and not module.assessments:
            problems.append(
                source.problem(
                    loc, "a module needs `assessments` (quiz slugs) or `project: true`"
                )
            )
        criteria: set[str] = set()
        for j, criterion in enumerate(module.rubric):
            if criterion.criterion in criteria:
                problems.append(
                    source.problem(
                        (*loc, "rubric", j, "criterion"),
                        "this criterion is listed twice",
                    )
                )
            criteria.add(criterion.criterion)
    return problems


def _unknown_quiz(slug: str) -> str:
    return f"unknown quiz {slug!r}: check or import its file along with this one"
