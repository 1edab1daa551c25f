"""Classical test theory from grouped item scores: pure numpy, no Flask, no database.

The input is :class:`Cells`: the scores of every question in every counted attempt,
summed per version of the question and group of attempts that share a result (the
same total score and maximum). An attempt's result is all the upper and lower
groups and the item-rest correlation need to know about it besides the question's
own score, so these sums are exact, and a quiz of 10,000 attempts becomes a few
thousand rows instead of 400,000 cells. :meth:`Cells.from_matrix` builds them from
a plain attempts-by-questions matrix (one attempt per group), which is how the
tests state their data.

Every function returns plain floats or None, never NaN: None where a statistic is
undefined (fewer than two attempts, no variance), for the page to show as "—".

Conventions, as Moodle's quiz statistics use them (docs/statistics.md has the
formulas, the worked example and the references):

- **Facility** of a question: points earned over points available, over the
  attempts that drew it (mean score / points when the points are the same).
- **Discrimination index**: the Pearson correlation of the question's score with
  the *rest* of the attempt's score (its total without that question), over the
  attempts that drew it: the corrected item-rest correlation, which is the
  point-biserial correlation when the question scores 0 or full marks.
- **Upper/lower index**: facility in the best 27% of attempts minus facility in
  the weakest 27%, ranked by their percentage among the attempts that drew the
  question (see :func:`group_cuts` for the size and for ties).
- **Standard deviations and variances are sample ones** (divided by n - 1).
- **Cronbach's alpha** over the attempts that drew every question (the caller
  passes their cells); it is KR-20 when every score is 0 or full marks.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

#: Kelley's share for the upper and lower groups.
GROUP_SHARE = 0.27
#: Correlations this close to 0 are 0 (float noise must not flag a question).
ZERO = 1e-12


def _value(x: float) -> float | None:
    """A finite float, or None."""
    x = float(x)
    return x if np.isfinite(x) else None


@dataclass(frozen=True)
class Cells:
    """Item scores in groups of attempts with the same result; every field an array
    with a value per row. Several rows may hold the same question and result (one
    per version of the question, say): every statistic sums over rows."""

    #: The question's column, 0 to k - 1.
    question: np.ndarray
    #: Attempts in the group.
    count: np.ndarray
    #: The group's attempts' total score (their stored score), and that score
    #: in % of their maximum (which ranks them for the upper and lower groups).
    total: np.ndarray
    percent: np.ndarray
    #: Sum, sum of squares, lowest and highest of the question's scores in the
    #: group, and the points it was worth, summed.
    score: np.ndarray
    score_squares: np.ndarray
    low: np.ndarray
    high: np.ndarray
    points: np.ndarray
    #: Scores neither 0 nor full marks.
    partial: np.ndarray

    @classmethod
    def from_matrix(
        cls, scores: np.ndarray, points: np.ndarray, percent: np.ndarray
    ) -> Cells:
        """One group per attempt: ``scores`` and ``points`` are attempts by
        questions (NaN where the attempt did not draw the question), ``percent``
        each attempt's result in %."""
        drawn = ~np.isnan(scores)
        rows, columns = np.nonzero(drawn)
        x, p = scores[rows, columns], points[rows, columns]
        return cls(
            question=columns,
            count=np.ones(len(rows)),
            total=np.nansum(scores, axis=1)[rows],
            percent=np.asarray(percent, dtype=float)[rows],
            score=x,
            score_squares=x * x,
            low=x,
            high=x,
            points=p,
            partial=((x != 0) & (x != p)).astype(float),
        )

    @classmethod
    def complete_rows(
        cls, scores: np.ndarray, points: np.ndarray, percent: np.ndarray
    ) -> Cells:
        """:meth:`from_matrix` of the attempts that drew every question, what
        :func:`cronbach_alpha` takes."""
        complete = ~np.isnan(scores).any(axis=1)
        return cls.from_matrix(
            scores[complete], points[complete], np.asarray(percent)[complete]
        )

    def where(self, rows: np.ndarray) -> Cells:
        """The rows where ``rows`` (a boolean array) is true."""
        return Cells(**{f.name: getattr(self, f.name)[rows] for f in fields(self)})

    def of(self, question: int) -> Cells:
        """The rows of one question."""
        return self.where(self.question == question)


# --- upper and lower groups --------------------------------------------------------


def group_size(n: int) -> int:
    """Attempts in each group: 27% of ``n`` rounded to the nearest whole attempt
    (halves up), at least 1; 0 below 2 attempts, where there are no two groups.
    Never more than half of ``n``, so the groups never overlap."""
    if n < 2:
        return 0
    return max(1, (27 * n + 50) // 100)


@dataclass(frozen=True)
class Cut:
    """Who is in a group: every attempt strictly beyond ``edge`` (above it for the
    upper group, below for the lower), and ``share_at_edge`` of each attempt exactly
    at it.

    Attempts tied at the edge share the places left: with 3 places, 2 attempts
    beyond the edge and 3 tied at it, each tied attempt counts as 1/3 of an
    attempt. So a group always weighs exactly :func:`group_size` attempts, and no
    tie is broken by something arbitrary such as the order attempts were made in.
    """

    edge: float
    share_at_edge: float
    is_upper: bool

    def weights(self, percent: np.ndarray) -> np.ndarray:
        """Each attempt's weight in the group (0, the share at the edge, or 1)."""
        beyond = percent > self.edge if self.is_upper else percent < self.edge
        return np.where(
            beyond, 1.0, np.where(percent == self.edge, self.share_at_edge, 0.0)
        )


def group_cuts(
    percent: np.ndarray, counts: np.ndarray | None = None
) -> tuple[Cut, Cut] | None:
    """The upper and lower 27% of attempts by ``percent`` (``counts`` attempts at
    each value; 1 each by default); None below 2 attempts."""
    counts = np.ones(len(percent)) if counts is None else counts
    size = group_size(round(float(counts.sum())))
    if size == 0:
        return None
    return _cut(percent, counts, size, True), _cut(percent, counts, size, False)


def _cut(percent: np.ndarray, counts: np.ndarray, size: int, is_upper: bool) -> Cut:
    values, where = np.unique(percent, return_inverse=True)
    per_value = np.bincount(where.ravel(), weights=counts, minlength=len(values))
    if is_upper:
        values, per_value = values[::-1], per_value[::-1]
    reached = np.cumsum(per_value)
    at = int(np.searchsorted(reached, size - 0.5))
    beyond = reached[at] - per_value[at]
    return Cut(float(values[at]), float((size - beyond) / per_value[at]), is_upper)


# --- per question ------------------------------------------------------------------


@dataclass(frozen=True)
class ItemStatistics:
    """One question's statistics; None where undefined."""

    #: Attempts that drew the question.
    attempts: int
    facility: float | None
    #: The corrected item-rest correlation.
    discrimination: float | None
    facility_upper: float | None
    facility_lower: float | None
    #: The cuts that made the groups (for the option counts), None without groups.
    cuts: tuple[Cut, Cut] | None

    @property
    def upper_lower_index(self) -> float | None:
        if self.facility_upper is None or self.facility_lower is None:
            return None
        return self.facility_upper - self.facility_lower


def item_statistics(cells: Cells, questions: int) -> list[ItemStatistics]:
    """Facility, item-rest correlation and the upper/lower index of questions
    ``0 .. questions - 1``, each over the attempts that drew it."""
    out = []
    for j in range(questions):
        c = cells.of(j)
        cuts = group_cuts(c.percent, c.count)
        upper = lower = None
        if cuts is not None:
            upper, lower = (_facility(c, cut.weights(c.percent)) for cut in cuts)
        out.append(
            ItemStatistics(
                attempts=round(float(c.count.sum())),
                facility=_facility(c, np.ones(len(c.count))),
                discrimination=item_rest_correlation(c),
                facility_upper=upper,
                facility_lower=lower,
                cuts=cuts,
            )
        )
    return out


def _facility(c: Cells, weights: np.ndarray) -> float | None:
    """Points earned over points available, each group weighted (a weight is the
    share of each of the group's attempts that counts)."""
    available = float(np.dot(weights, c.points))
    return float(np.dot(weights, c.score)) / available if available > 0 else None


def item_rest_correlation(c: Cells) -> float | None:
    """Pearson's r between one question's score x and the rest y = total - x, from
    the groups' sums (x varies inside a group, the total does not):
    ``r = Sxy / sqrt(Sxx * Syy)`` with ``Sxy = sum(x*y) - sum(x)*sum(y)/n`` and so
    on. None for fewer than 2 attempts or when x or y is constant (told exactly
    from the groups' lowest and highest scores, not from a rounded variance)."""
    n = c.count.sum()
    rest_low = c.total - c.high
    rest_high = c.total - c.low
    if n < 2 or c.low.min() == c.high.max() or rest_low.min() == rest_high.max():
        return None
    sx, sxx = c.score.sum(), c.score_squares.sum()
    sxt = np.dot(c.total, c.score)
    sy = np.dot(c.count, c.total) - sx
    syy = np.dot(c.count, c.total**2) - 2 * sxt + sxx
    sxy = sxt - sxx
    cxx, cyy, cxy = sxx - sx * sx / n, syy - sy * sy / n, sxy - sx * sy / n
    if cxx <= 0 or cyy <= 0:
        return None
    r = float(cxy / np.sqrt(cxx * cyy))
    return 0.0 if abs(r) < ZERO else min(1.0, max(-1.0, r))


# --- the whole quiz ----------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    count: int
    mean: float | None
    median: float | None
    #: The sample standard deviation (n - 1); None below 2 values.
    sd: float | None


def describe(values: np.ndarray, counts: np.ndarray | None = None) -> Summary:
    """Count, mean, median and sample standard deviation of ``values``, each
    occurring ``counts`` times (once by default)."""
    if counts is not None:
        values = np.repeat(values, counts.astype(int))
    n = len(values)
    if n == 0:
        return Summary(0, None, None, None)
    return Summary(
        n,
        _value(values.mean()),
        _value(np.median(values)),
        _value(values.std(ddof=1)) if n >= 2 else None,
    )


@dataclass(frozen=True)
class Reliability:
    #: Cronbach's alpha; None when undefined.
    alpha: float | None
    #: The attempts it was computed over: those that drew every question.
    attempts: int
    #: Every score is 0 or full marks: alpha is then KR-20.
    is_kr20: bool


def cronbach_alpha(complete: Cells, questions: int) -> Reliability:
    """``k / (k - 1) * (1 - sum of item variances / variance of the totals)``.

    ``complete``: the cells of the attempts that drew all ``k`` questions (each
    such attempt is in every question's rows once). None for fewer than 2
    questions or 2 attempts, or when the attempts' totals do not vary.
    """
    k = questions
    is_kr20 = bool(len(complete.count)) and not complete.partial.any()
    first = complete.of(0)
    n = first.count.sum()
    if k < 2 or n < 2 or first.total.min() == first.total.max():
        return Reliability(None, round(float(n)), is_kr20)
    total_variance = _variance(
        n, np.dot(first.count, first.total), np.dot(first.count, first.total**2)
    )
    item_variance = sum(
        _variance(n, c.score.sum(), c.score_squares.sum())
        for c in (complete.of(j) for j in range(k))
    )
    alpha = k / (k - 1) * (1 - item_variance / total_variance)
    return Reliability(_value(alpha), round(float(n)), is_kr20)


def _variance(n: float, total: float, squares: float) -> float:
    """Sample variance of n values from their sum and sum of squares."""
    return float((squares - total * total / n) / (n - 1))
