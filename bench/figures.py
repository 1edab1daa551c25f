"""What a benchmark module returns, and how it times things.

A module's ``run(context)`` returns a list of :class:`Figure`. A figure that could
not be measured (say PostgreSQL is not there) keeps its row with ``value`` None and a
``note`` saying why, so results.json always has the same names.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Figure:
    """One measured number, as written to results.json."""

    name: str
    value: float | None
    unit: str
    #: The value to stay under (most figures are costs), or None.
    target: float | None = None
    #: Name of the figure this one is compared with, or None.
    baseline: str | None = None
    #: value / the baseline's value, filled in by :func:`add_ratios`.
    ratio: float | None = None
    #: Why the value is missing; only written when there is one.
    note: str | None = None
    #: Every run's value, for the printout (not written to results.json).
    runs: list[float] = field(default_factory=list)
    #: The target is a floor (a throughput, a ratio), not a ceiling.
    at_least: bool = False

    @property
    def met(self) -> bool | None:
        """True or False against the target; None without a target or a value."""
        if self.target is None or self.value is None:
            return None
        return self.value >= self.target if self.at_least else self.value <= self.target

    def as_json(self) -> dict[str, Any]:
        row: dict[str, Any] = {
            "name": self.name,
            "value": _round(self.value),
            "unit": self.unit,
            "target": self.target,
            "baseline": self.baseline,
            "ratio": _round(self.ratio, 2),
        }
        if self.note:
            row["note"] = self.note
        return row

    def line(self) -> str:
        """``name  1.234 s  (target 3 s: met)  12.3x banks.yaml_load``."""
        if self.value is None:
            return f"{self.name:<34} skipped: {self.note}"
        text = f"{self.name:<34} {self.value:>9.3f} {self.unit}"
        if self.runs:
            shown = ", ".join(f"{run:.3f}" for run in self.runs)
            text += f"  (median of {len(self.runs)}: {shown})"
        if self.target is not None:
            verdict = "met" if self.met else "MISSED"
            bound = ">=" if self.at_least else "<="
            text += f"  target {bound} {self.target:g} {self.unit}: {verdict}"
        if self.ratio is not None:
            text += f"  = {self.ratio:.1f}x {self.baseline}"
        return text


@dataclass
class Context:
    """What every benchmark module gets from :mod:`bench.run`."""

    #: A scratch folder, removed after the run.
    scratch: Path
    #: Fewer repetitions and a smaller bank, for trying the harness out.
    quick: bool = False


def add_ratios(figures: list[Figure]) -> None:
    """Fill in each figure's ratio against its baseline, by name."""
    values = {figure.name: figure.value for figure in figures}
    for figure in figures:
        base = values.get(figure.baseline) if figure.baseline else None
        if figure.value is not None and base:
            figure.ratio = figure.value / base


def median_seconds(
    measure: Callable[[], float], runs: int
) -> tuple[float, list[float]]:
    """Call ``measure`` (which returns seconds) ``runs`` times: (median, all runs).

    Garbage is collected before each run, so one run does not pay for the last.
    """
    values = []
    for _ in range(runs):
        gc.collect()
        values.append(measure())
    return statistics.median(values), values


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    """(seconds, result) of ``action()`` on the monotonic performance clock."""
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)
