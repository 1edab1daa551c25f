"""Question variants: parameters drawn from a seed, placeholders, display order.

A parameter spec is exactly one of ``{"randint": [a, b]}`` (inclusive integers),
``{"choice": [numbers]}``, ``{"uniform": [a, b], "round": n}`` and
``{"expr": "source", "round": n}`` (``round`` optional, ``None`` or absent: no
rounding). Draws are deterministic: the same seed gives the same values in every
process and Python version, because they use only :meth:`random.Random.random` of a
generator seeded with an integer, the one sequence Python guarantees to keep.
"""

from __future__ import annotations

import hashlib
import keyword
import math
import random
import re
from collections.abc import Mapping

from .expressions import FUNCTIONS, ExpressionError, parse_expression, round_to

KINDS = ("randint", "choice", "uniform", "expr")
#: Digits accepted by a parameter's ``round``.
ROUND_DIGITS = range(13)
#: Widest range a draw covers: randint draws its index from one float of 53 bits.
MAX_WIDTH = {"randint": 2**53, "uniform": math.inf}

#: ``{{ name }}``, spaces allowed inside the braces; group 1 is the name.
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def check_params(params: Mapping[str, Mapping]) -> list[tuple[str, str]]:
    """Every problem of a ``params`` mapping, as ``(param name, message)`` pairs.

    Refused: a name that is not an identifier (ASCII letters, digits, ``_``; not a
    Python keyword) or is a function name; a spec that is not exactly one known kind
    (plus ``round`` for uniform and expr); bounds that are not two finite numbers
    ``a <= b`` (integers for randint); an empty choice list or one with a
    non-number; ``round`` not a whole number from 0 to 12; an expr that does not
    parse or uses a name not declared above it. Expressions are not evaluated, so
    a failure that depends on the drawn values (say ``1 / (w - 2)``) is not caught.
    """
    problems: list[tuple[str, str]] = []
    declared: set[str] = set()
    for name, spec in params.items():
        problems.extend(
            (str(name), message) for message in _problems(name, spec, declared)
        )
        declared.add(name)
    return problems


def _problems(name: object, spec: object, declared: set[str]) -> list[str]:
    problems = []
    if (
        not isinstance(name, str)
        or not _NAME.fullmatch(name)
        or keyword.iskeyword(name)
    ):
        problems.append(
            "a parameter name is made of ASCII letters, digits and _, starts with a "
            "letter or _, and is not a Python keyword"
        )
    elif name in FUNCTIONS:
        problems.append(f"{name} is a function name; choose another parameter name")
    if not isinstance(spec, Mapping):
        return [*problems, f"must be a mapping with one of: {', '.join(KINDS)}"]
    kinds = [kind for kind in KINDS if kind in spec]
    if not kinds:
        unknown = ", ".join(map(repr, spec)) or "nothing"
        return [*problems, f"unknown kind {unknown}; use one of {', '.join(KINDS)}"]
    if len(kinds) > 1:
        return [*problems, f"has {' and '.join(kinds)}; use exactly one of them"]
    kind = kinds[0]
    allowed = {kind, "round"} if kind in ("uniform", "expr") else {kind}
    problems.extend(
        f"unknown key {key!r} for {kind}" for key in spec if key not in allowed
    )
    rounding = spec.get("round")
    if rounding is not None and not (_is_int(rounding) and rounding in ROUND_DIGITS):
        problems.append(
            f"round must be a whole number from 0 to {ROUND_DIGITS.stop - 1}, "
            f"not {rounding!r}"
        )
    problems.extend(_kind_problems(kind, spec[kind], declared))
    return problems


def _kind_problems(kind: str, value: object, declared: set[str]) -> list[str]:
    if kind == "expr":
        try:
            expression = parse_expression(value)
        except ExpressionError as error:
            return [f"expr: {error}"]
        return [
            f"expr uses {used!r}, which is not a parameter declared above it"
            for used in sorted(expression.names - declared)
        ]
    if kind == "choice":
        if not (isinstance(value, list) and value and all(map(_is_number, value))):
            return ["choice needs a non-empty list of numbers"]
        return []
    is_bound = _is_int if kind == "randint" else _is_number
    if not (isinstance(value, list) and len(value) == 2 and all(map(is_bound, value))):
        numbers = "integers" if kind == "randint" else "numbers"
        return [f"{kind} needs a list of two {numbers} [low, high]"]
    low, high = value
    if low > high:
        return [f"{kind}: low {low} is greater than high {high}"]
    width = high - low if kind == "randint" else float(high) - float(low)
    if not width < MAX_WIDTH[kind]:
        return [f"{kind}: the range from {low} to {high} is too wide"]
    return []


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    """An int or float that converts to a finite float."""
    if _is_int(value):
        try:
            value = float(value)
        except OverflowError:
            return False
    return isinstance(value, float) and math.isfinite(value)


def _generator(seed: str) -> random.Random:
    digest = hashlib.sha256(seed.encode("utf-8")).digest()
    # Reproducible on purpose (a regrade must draw the same values); variants only
    # vary the numbers of a question, they protect no secret.
    return random.Random(int.from_bytes(digest, "big"))  # noqa: S311


def _index(generator: random.Random, count: int) -> int:
    """A uniform index into range(count) from one call of random()."""
    # min(): random() * count may round up to count when count is above 2**53.
    return min(int(generator.random() * count), count - 1)


def draw_params(params: Mapping[str, Mapping], seed: str) -> dict[str, int | float]:
    """Draw every parameter, in declared order, from ``seed``; params must be checked.

    randint gives an int, choice one of its numbers as written, uniform a float in
    ``[a, b]``, expr the float value of its expression over the parameters above
    it; ``round`` is then applied half away from zero (see
    :func:`~quizapp.grading.expressions.round_to`). Each randint, choice and uniform
    consumes one ``random()`` of a generator seeded with the SHA-256 of the seed.

    :raise ExpressionError: an expr fails for the values drawn (division by zero...).
    """
    generator = _generator(seed)
    values: dict[str, int | float] = {}
    for name, spec in params.items():
        value: int | float
        if "randint" in spec:
            low, high = spec["randint"]
            value = low + _index(generator, high - low + 1)
        elif "choice" in spec:
            value = spec["choice"][_index(generator, len(spec["choice"]))]
        elif "uniform" in spec:
            low, high = spec["uniform"]
            value = low + (high - low) * generator.random()
        else:
            value = parse_expression(spec["expr"]).evaluate(values)
        if spec.get("round") is not None:
            value = round_to(value, spec["round"])
        values[name] = value
    return values


def format_value(value: int | float) -> str:
    """How a parameter value is shown: ints and integral floats as whole numbers
    (``7``, ``2``), other floats with up to 10 significant digits (``.10g``)."""
    if isinstance(value, float) and not value.is_integer():
        return format(value, ".10g")
    return str(int(value))


def substitute(text: str, values: Mapping[str, int | float]) -> str:
    """Replace each ``{{ name }}`` whose name has a value (see :func:`format_value`);
    placeholders with unknown names are left as they are."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        return format_value(values[name]) if name in values else match.group(0)

    return PLACEHOLDER.sub(replace, text)


def shuffled(count: int, seed: str) -> list[int]:
    """A permutation of ``range(count)`` fixed by ``seed`` (Fisher-Yates on a
    generator seeded like :func:`draw_params`'s). Give each use its own seed, for
    instance the attempt's seed plus the question and what is shuffled."""
    generator = _generator(seed)
    order = list(range(count))
    for i in range(count - 1, 0, -1):
        j = _index(generator, i + 1)
        order[i], order[j] = order[j], order[i]
    return order
