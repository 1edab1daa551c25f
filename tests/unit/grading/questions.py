"""Canonical question dicts for the grading tests, as the bank loader produces them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def make_question(type_: str, **fields: Any) -> dict[str, Any]:
    """A canonical question of ``type_``: the common keys with neutral values,
    overridden or completed by ``fields`` (the type's own keys)."""
    return {
        "id": "q",
        "type": type_,
        "prompt": "?",
        "points": 1.0,
        "difficulty": None,
        "tags": [],
        "module": None,
        "explanation": None,
        "params": {},
        **fields,
    }


def choices(*correct: bool) -> list[dict[str, Any]]:
    """Choices named A, B, C... with the given correct flags."""
    return [
        {"text": chr(ord("A") + i), "correct": flag, "feedback": None}
        for i, flag in enumerate(correct)
    ]


def text_spec(
    accept: Sequence[str], accept_regex: Sequence[str] = (), case_sensitive=False
) -> dict[str, Any]:
    return {
        "accept": list(accept),
        "accept_regex": list(accept_regex),
        "case_sensitive": case_sensitive,
    }


def numeric_spec(
    answer: float | str, tolerance: float | str | None = None
) -> dict[str, Any]:
    return {"answer": answer, "tolerance": tolerance}
