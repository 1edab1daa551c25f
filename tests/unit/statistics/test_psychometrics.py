"""The numeric library on small matrices whose statistics are worked out by hand
(exact fractions in the comments; the expected values are those fractions)."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from quizapp.statistics import psychometrics
from quizapp.statistics.psychometrics import (
    Cells,
    ItemStatistics,
    describe,
    group_cuts,
    group_size,
)
from quizapp.statistics.report import flags_for

NAN = float("nan")


def approx(value) -> pytest.approx:
    return pytest.approx(float(value), abs=1e-12)


def item_statistics(scores, points=None, percent=None):
    """The item statistics of a plain matrix (one attempt per row)."""
    scores = np.asarray(scores, dtype=float)
    points = np.where(np.isnan(scores), NAN, 1.0) if points is None else points
    if percent is None:
        percent = 100 * np.nansum(scores, axis=1) / np.nansum(points, axis=1)
    cells = Cells.from_matrix(scores, points, percent)
    return psychometrics.item_statistics(cells, scores.shape[1])


def cronbach_alpha(scores, points=None):
    """Alpha of a plain matrix, over the attempts (rows) with every question."""
    scores = np.asarray(scores, dtype=float)
    points = np.where(np.isnan(scores), NAN, 1.0) if points is None else points
    cells = Cells.complete_rows(scores, points, np.zeros(len(scores)))
    return psychometrics.cronbach_alpha(cells, scores.shape[1])


def correlation(x, y):
    """Pearson's r of two columns through the library: x as a question, y as the
    rest (total = x + y)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    cells = Cells.from_matrix(np.column_stack([x, y]), np.ones((len(x), 2)) * 9, x)
    return psychometrics.item_rest_correlation(cells.of(0))


@pytest.mark.parametrize(
    ("n", "size"),
    [(0, 0), (1, 0), (2, 1), (3, 1), (5, 1), (6, 2), (7, 2), (100, 27), (10_000, 2700)],
)
def test_each_group_is_27_percent_rounded_at_least_one(n, size):
    # 0.27 * 6 = 1.62 -> 2; 0.27 * 5 = 1.35 -> 1; 0.27 * 100 = 27 exactly (integer
    # arithmetic, so not 27.000000000000004 -> 28).
    assert group_size(n) == size


def test_attempts_tied_at_a_group_edge_share_its_last_places():
    # 7 attempts, groups of 2. Upper: 100 is in; 75 and 75 share the one place
    # left, 1/2 each. Lower: the three at 25 share two places, 2/3 each.
    percent = np.array([100, 75, 75, 50, 25, 25, 25], dtype=float)
    upper, lower = group_cuts(percent)

    assert upper.weights(percent).tolist() == approx_list([1, 0.5, 0.5, 0, 0, 0, 0])
    assert lower.weights(percent).tolist() == approx_list([0, 0, 0, 0] + [2 / 3] * 3)
    assert upper.weights(percent).sum() == pytest.approx(2)
    assert lower.weights(percent).sum() == pytest.approx(2)


def approx_list(values):
    return pytest.approx([float(v) for v in values], abs=1e-12)


def test_no_groups_below_two_attempts():
    assert group_cuts(np.array([50.0])) is None


def test_the_correlation_is_undefined_for_a_constant_or_a_single_pair():
    assert correlation([1, 1, 1], [0, 1, 2]) is None
    assert correlation([0, 1], [3, 3]) is None
    assert correlation([1], [2]) is None
    # x = 0, 1, 2; y = 2, 1, 0 exactly opposite; and y = x.
    assert correlation([0, 1, 2], [2, 1, 0]) == approx(-1)
    assert correlation([0, 1, 2], [0, 1, 2]) == approx(1)


def test_describe_uses_the_sample_standard_deviation():
    # The fixed data set's first attempts in %: 100, 75, 25, 37.5, 50, 75.
    # mean = 362.5 / 6 = 725 / 12 = 60.4166...; median = (50 + 75) / 2 = 62.5.
    # In points (x / 25) the totals are 4, 3, 1, 3/2, 2, 3 with mean 29/12 and
    # sum of squared deviations 165/4 - 6 * (29/12)^2 = 149/24; in %^2 that is
    # 625 * 149/24, so the sample variance is 625 * 149/120 and
    # sd = 25 * sqrt(149/120) = 27.857...
    summary = describe(np.array([100, 75, 25, 37.5, 50, 75]))

    assert summary.count == 6
    assert summary.mean == approx(Fraction(725, 12))
    assert summary.median == 62.5
    assert summary.sd == approx(math.sqrt(Fraction(625 * 149, 120)))


def test_describe_leaves_sd_undefined_for_one_value_and_everything_for_none():
    assert describe(np.array([40.0])).sd is None
    assert describe(np.array([40.0])).mean == 40.0
    assert describe(np.zeros(0)) == psychometrics.Summary(0, None, None, None)


def test_questions_not_drawn_in_every_attempt_use_the_attempts_that_drew_them():
    # 4 attempts, 3 one-point questions; NaN: not drawn. Totals 2, 1, 2, 0.
    scores = [[1, 1, NAN], [0, NAN, 1], [1, 0, 1], [0, 0, 0]]
    q1, q2, q3 = item_statistics(scores)

    # Q1 over all 4: x = 1,0,1,0; rest = total - x = 1,1,1,0.
    #   Sxy = sum(xy) - n*mean(x)*mean(rest) = 2 - 4 * 1/2 * 3/4 = 1/2
    #   Sxx = 2 - 4/4 = 1; Srr = 3 - 4 * 9/16 = 3/4; r = (1/2) / sqrt(3/4) = 1/sqrt(3)
    assert (q1.attempts, q1.facility) == (4, 0.5)
    assert q1.discrimination == approx(1 / math.sqrt(3))
    # Q2 over attempts 1, 3, 4: x = 1,0,0; rest = 1,2,0; Sxy = 1 - 3 * 1/3 * 1 = 0.
    assert (q2.attempts, q2.facility) == (3, approx(Fraction(1, 3)))
    assert q2.discrimination == approx(0)
    # Q3 over attempts 2, 3, 4: x = 1,1,0; rest = 0,1,0.
    #   Sxy = 1 - 3 * 2/3 * 1/3 = 1/3; Sxx = 2 - 4/3 = 2/3; Srr = 1 - 1/3 = 2/3
    #   r = (1/3) / (2/3) = 1/2
    assert (q3.attempts, q3.facility) == (3, approx(Fraction(2, 3)))
    assert q3.discrimination == approx(0.5)


def test_alpha_is_over_the_attempts_that_drew_every_question():
    reliability = cronbach_alpha([[1, 1, NAN], [0, NAN, 1], [1, 0, 1], [0, 0, 0]])

    # Only attempts 3 and 4 drew all three questions: alpha over those two.
    # Items 1,0 / 0,0 / 1,0: variances 1/2, 0, 1/2; totals 2, 0: variance 2.
    # alpha = 3/2 * (1 - 1 / 2) = 3/4
    assert reliability.attempts == 2
    assert reliability.alpha == approx(0.75)


def test_alpha_of_right_or_wrong_items_is_kr20():
    # KR-20 with its own textbook formula (population variances):
    # p = 4/5, 3/5, 2/5; sum(p * q) = 4/25 + 6/25 + 6/25 = 16/25.
    # Totals 3, 2, 1, 0, 3: mean 9/5, population variance 23/5 - 81/25 = 34/25.
    # KR-20 = 3/2 * (1 - (16/25) / (34/25)) = 3/2 * 18/34 = 27/34.
    reliability = cronbach_alpha(
        [[1, 1, 1], [1, 1, 0], [1, 0, 0], [0, 0, 0], [1, 1, 1]]
    )

    assert reliability.is_kr20
    assert reliability.alpha == approx(Fraction(27, 34))


def test_alpha_is_undefined_when_the_totals_do_not_vary_or_there_is_one_question():
    assert cronbach_alpha([[1, 0], [0, 1], [1, 0]]).alpha is None
    assert cronbach_alpha([[1], [0], [1]]).alpha is None


def test_a_single_attempt_has_facility_and_nothing_else():
    first, second = item_statistics([[1.0, 0.5]])

    assert first.facility == 1.0
    assert second.facility == 0.5
    assert first.discrimination is None
    assert first.facility_upper is None
    assert first.upper_lower_index is None
    assert cronbach_alpha([[1.0, 0.5]]).alpha is None


def numbers(items) -> list[float]:
    return [
        value
        for i in items
        for value in (
            i.attempts,
            i.facility,
            i.discrimination,
            i.facility_upper,
            i.facility_lower,
        )
    ]


def test_attempts_grouped_by_result_give_the_same_statistics():
    # Attempts 1 and 3, and 2 and 4, have the same results: sending each pair as
    # one group of 2 (as the database does) changes nothing.
    scores = np.array([[1, 0.5, 1], [0, 1, 0], [1, 0.5, 1], [0, 1, 0], [1, 1, 1]])
    percent = 100 * scores.sum(axis=1) / 3
    one_each = Cells.from_matrix(scores, np.ones_like(scores), percent)
    single = Cells.from_matrix(scores[[0, 1, 4]], np.ones((3, 3)), percent[[0, 1, 4]])
    count = np.repeat([2.0, 2.0, 1.0], 3)  # from_matrix's rows go attempt by attempt
    grouped = Cells(
        **{
            **vars(single),
            "count": count,
            "score": single.score * count,
            "score_squares": single.score_squares * count,
            "points": single.points * count,
            "partial": single.partial * count,
        }
    )

    assert numbers(psychometrics.item_statistics(grouped, 3)) == pytest.approx(
        numbers(psychometrics.item_statistics(one_each, 3))
    )
    assert psychometrics.cronbach_alpha(grouped, 3).alpha == pytest.approx(
        psychometrics.cronbach_alpha(one_each, 3).alpha
    )


def _items(facility, discrimination) -> ItemStatistics:
    return ItemStatistics(10, facility, discrimination, None, None, None)


@pytest.mark.parametrize(
    ("facility", "discrimination", "flags"),
    [
        (0.5, -0.01, ("negative",)),
        (0.5, 0.0, ("weak",)),
        (0.5, 0.19, ("weak",)),
        (0.5, 0.2, ()),
        (0.91, 0.3, ("too_easy",)),
        (0.9, 0.3, ()),
        (0.09, 0.3, ("too_hard",)),
        (0.1, 0.3, ()),
        (1.0, None, ("too_easy",)),
        (0.5, None, ()),
        (0.05, -0.3, ("negative", "too_hard")),
    ],
)
def test_flags(facility, discrimination, flags):
    assert flags_for(_items(facility, discrimination)) == flags
