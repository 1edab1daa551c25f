"""What a page shows of a question version, built field by field.

:func:`present` is the only way question content reaches a candidate's page: it
copies the prompt, choice texts, items and options (rendered, with the variant's
values) and nothing else, so a ``correct`` flag, an ``accept`` list or a numeric
answer cannot leak into a template or JSON by accident. Staff pages add the key
separately with :func:`answer_key`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import url_for
from markupsafe import Markup

from quizapp import grading
from quizapp.banks.models import QuestionVersion
from quizapp.core.markdown import AssetUrl, render, render_inline
from quizapp.grading.variants import format_value

MARKER = re.compile(r"\[\[\s*([A-Za-z_][A-Za-z0-9_]*)\s*\]\]")
SENTINEL = re.compile(r"QZBLANK([A-Za-z0-9_]+?)ZQ")


@dataclass(frozen=True)
class Option:
    """A choice, item or matching option: its canonical index and its HTML."""

    index: int
    html: Markup


@dataclass(frozen=True)
class QuestionView:
    type: str
    points: float
    prompt: Markup
    #: single/multiple: choices; ordering: items; matching: right-hand options.
    options: list[Option] = field(default_factory=list)
    #: matching: the left-hand sides, in file order.
    lefts: list[Option] = field(default_factory=list)
    #: blanks: names in the order they appear in the prompt.
    blanks: list[str] = field(default_factory=list)


def _renderers(
    version: QuestionVersion, values: Mapping[str, Any]
) -> tuple[Callable[[str | None], Markup], Callable[[str | None], Markup]]:
    """Block and inline renderers for ``version``'s texts with ``values`` filled in."""
    resolve = asset_resolver(version)

    def block(source: str | None) -> Markup:
        return render(grading.substitute(source or "", values), resolve)

    def inline(source: str | None) -> Markup:
        return render_inline(grading.substitute(source or "", values), resolve)

    return block, inline


def asset_resolver(version: QuestionVersion) -> AssetUrl:
    """Image references of ``version`` as URLs of the access-checked asset route."""

    def resolve(reference: str) -> str | None:
        if reference not in version.assets:
            return None
        return url_for("banks.asset", version_id=version.id, path=reference)

    return resolve


def default_blank(name: str) -> Markup:
    return Markup('<span class="blank-box" aria-label="blank {0}">{0}</span>').format(
        name
    )


def present(
    version: QuestionVersion,
    values: Mapping[str, Any],
    seed: str | None = None,
    blank: Callable[[str], Markup] = default_blank,
) -> QuestionView:
    """The candidate's view of ``version`` with ``values`` filled in.

    ``seed`` shuffles choices, items and options (None keeps the file order).
    """
    content = version.content
    _, inline = _renderers(version, values)

    def order(count: int, salt: str) -> list[int]:
        return (
            grading.shuffled(count, f"{seed}:{salt}")
            if seed is not None
            else list(range(count))
        )

    prompt_source = grading.substitute(content["prompt"], values)
    names: list[str] = []
    if content["type"] == "blanks":
        names = MARKER.findall(prompt_source)
        prompt_source = MARKER.sub(lambda m: f"QZBLANK{m.group(1)}ZQ", prompt_source)
    prompt = render(prompt_source, asset_resolver(version))
    if names:
        prompt = Markup(SENTINEL.sub(lambda m: str(blank(m.group(1))), str(prompt)))  # noqa: S704
    kind = content["type"]
    texts: list[str] = []
    lefts: list[Option] = []
    if kind in ("single", "multiple"):
        texts = [choice["text"] for choice in content["choices"]]
    elif kind == "ordering":
        texts = content["items"]
    elif kind == "matching":
        texts = grading.matching_options(content)
        lefts = [
            Option(i, inline(pair["left"])) for i, pair in enumerate(content["pairs"])
        ]
    options = [Option(i, inline(texts[i])) for i in order(len(texts), kind)]
    return QuestionView(kind, version.points, prompt, options, lefts, names)


def answer_key(version: QuestionVersion, values: Mapping[str, Any]) -> dict[str, Any]:
    """The key of ``version``, rendered, for staff pages only."""
    content = version.content
    block, inline = _renderers(version, values)
    key: dict[str, Any] = {"explanation": block(content.get("explanation"))}
    kind = content["type"]
    if kind in ("single", "multiple"):
        key["choices"] = [
            {
                "html": inline(c["text"]),
                "correct": c["correct"],
                "feedback": inline(c.get("feedback")),
            }
            for c in content["choices"]
        ]
        key["scoring"] = content.get("scoring")
    elif kind == "true_false":
        key["answer"] = "True" if content["answer"] else "False"
    elif kind == "numeric":
        key["answer"] = _number(content["answer"], values)
        key["tolerance"] = content.get("tolerance")
    elif kind == "text":
        key["accept"] = content["accept"]
        key["accept_regex"] = content["accept_regex"]
        key["case_sensitive"] = content["case_sensitive"]
    elif kind == "blanks":
        key["blanks"] = {
            name: (
                {
                    "answer": _number(spec["answer"], values),
                    "tolerance": spec.get("tolerance"),
                }
                if "answer" in spec
                else spec
            )
            for name, spec in content["blanks"].items()
        }
    elif kind == "ordering":
        key["items"] = [inline(item) for item in content["items"]]
        key["scoring"] = content["scoring"]
    elif kind == "matching":
        key["pairs"] = [
            (inline(p["left"]), inline(p["right"])) for p in content["pairs"]
        ]
        key["distractors"] = [inline(d) for d in content["distractors"]]
    return key


def _number(value: Any, values: Mapping[str, Any]) -> str:
    try:
        number = grading.resolve_number(value, values)
    except grading.ExpressionError as exc:
        return f"cannot be computed: {exc}"
    shown = format_value(number)
    return f"{value} = {shown}" if isinstance(value, str) else shown
