"""The statistics of the fixed data set (tests/unit/statistics/fixed_data.py), from
the database through the report, against values worked out by hand.

First attempts, one row per candidate (all questions worth 1 point):

    attempt  Q1 single  Q2 multiple  Q3 true/false  Q4 text   total   percent
    A1       1          1            1              1         4       100
    A2       1          1            1              0         3       75
    A3       0          0            1              0         1       25
    A4       0          1/2          1              0         3/2     37.5
    A5       0          0            1              1         2       50
    A6       1          1            1              0         3       75

For each question, x is its score and y = total - x the rest of the attempt; with
n = 6, Sxy = sum(x*y) - n*mean(x)*mean(y), Sxx and Syy likewise, and the
discrimination index r = Sxy / sqrt(Sxx * Syy).
"""

from __future__ import annotations

import math
from fractions import Fraction as F

import pytest

from quizapp.statistics import report
from tests.factories import make_quiz, make_user
from tests.unit.statistics.fixed_data import (
    KEYS,
    REFS,
    SLUG,
    make_fixed_attempts,
    make_stats_quiz,
    take,
)


def approx(value) -> pytest.approx:
    return pytest.approx(float(value), abs=1e-9)


@pytest.fixture
def quiz(app, tmp_path):
    quiz = make_stats_quiz(tmp_path)
    make_fixed_attempts(quiz)
    return quiz


def by_ref(stats) -> dict:
    return {q.ref: q for q in stats.questions}


def test_facility_is_points_earned_over_points_available(quiz):
    q = by_ref(report.quiz_statistics(quiz, "first"))

    # Q1: 3 of 6; Q2: (1 + 1 + 0 + 1/2 + 0 + 1) / 6 = 7/12; Q3: 6/6; Q4: 2/6.
    assert [q[ref].items.facility for ref in REFS] == [
        approx(F(1, 2)),
        approx(F(7, 12)),
        approx(1),
        approx(F(1, 3)),
    ]
    assert [q[ref].items.attempts for ref in REFS] == [6, 6, 6, 6]


def test_discrimination_is_the_item_rest_correlation(quiz):
    q = by_ref(report.quiz_statistics(quiz, "first"))

    # Q1: x = 1,1,0,0,0,1; y = 3,2,1,3/2,2,2 (mean 23/12).
    #   Sxy = 7 - 6 * 1/2 * 23/12 = 5/4; Sxx = 3 - 6/4 = 3/2;
    #   Syy = 97/4 - 6 * (23/12)^2 = 53/24; r = (5/4) / sqrt(53/16) = 5 / sqrt(53)
    assert q[REFS[0]].items.discrimination == approx(5 / math.sqrt(53))
    # Q2: x = 1,1,0,1/2,0,1 (mean 7/12); y = 3,2,1,1,2,2 (mean 11/6).
    #   Sxy = 15/2 - 6 * 7/12 * 11/6 = 13/12; Sxx = 13/4 - 49/24 = 29/24;
    #   Syy = 23 - 121/6 = 17/6; r = (13/12) / sqrt(493/144) = 13 / sqrt(493)
    assert q[REFS[1]].items.discrimination == approx(13 / math.sqrt(493))
    # Q3: everyone right, x does not vary: undefined.
    assert q[REFS[2]].items.discrimination is None
    # Q4: x = 1,0,0,0,1,0; y = 3,3,1,3/2,1,3 (mean 25/12).
    #   Sxy = 4 - 6 * 1/3 * 25/12 = -1/6; Sxx = 2 - 2/3 = 4/3;
    #   Syy = 125/4 - 625/24 = 125/24; r = (-1/6) / sqrt(125/18) = -sqrt(2/5) / 10
    assert q[REFS[3]].items.discrimination == approx(-math.sqrt(0.4) / 10)


def test_upper_and_lower_groups_with_a_tie_at_the_edge(quiz):
    stats = report.quiz_statistics(quiz, "first")
    q = by_ref(stats)

    # Groups of round(0.27 * 6) = 2. Upper: A1 (100%), then A2 and A6 tie at 75%
    # for the one place left: 1/2 each. Lower: A3 (25%) and A4 (37.5%).
    assert stats.group_size == 2
    # Q1: upper (1 + 1/2 * 1 + 1/2 * 1) / 2 = 1, lower (0 + 0) / 2 = 0.
    assert (q[REFS[0]].items.facility_upper, q[REFS[0]].items.facility_lower) == (
        approx(1),
        approx(0),
    )
    assert q[REFS[0]].items.upper_lower_index == approx(1)
    # Q2: upper 1; lower (0 + 1/2) / 2 = 1/4; index 3/4.
    assert q[REFS[1]].items.upper_lower_index == approx(F(3, 4))
    # Q3: 1 - 1 = 0.
    assert q[REFS[2]].items.upper_lower_index == approx(0)
    # Q4: upper (1 + 0 + 0) / 2 = 1/2, lower 0: positive although r is negative
    # (A5, in the middle, got it right).
    assert q[REFS[3]].items.upper_lower_index == approx(F(1, 2))


def test_quiz_mean_median_sd_and_alpha(quiz):
    stats = report.quiz_statistics(quiz, "first")

    # Totals 4, 3, 1, 3/2, 2, 3 of 4 points: mean 29/12, median (2 + 3)/2 = 5/2.
    # Sum of squared deviations 165/4 - 6 * (29/12)^2 = 149/24, sample variance
    # 149/120.
    assert (stats.attempts, stats.candidates, stats.max_score) == (6, 6, 4)
    assert stats.points.mean == approx(F(29, 12))
    assert stats.points.median == approx(F(5, 2))
    assert stats.points.sd == approx(math.sqrt(F(149, 120)))
    assert stats.percent.mean == approx(F(29, 12) * 25)
    assert stats.percent.median == approx(62.5)
    assert stats.percent.sd == approx(25 * math.sqrt(F(149, 120)))
    # Item sample variances: Sxx / 5 = 3/10, 29/120, 0, 4/15; sum 97/120.
    # alpha = 4/3 * (1 - (97/120) / (149/120)) = 4/3 * 52/149 = 208/447.
    # Q2's 1/2 is partial credit, so this is alpha, not KR-20.
    assert stats.reliability.alpha == approx(F(208, 447))
    assert stats.reliability.attempts == 6
    assert not stats.reliability.is_kr20


def test_flags_of_the_fixed_data_set(quiz):
    q = by_ref(report.quiz_statistics(quiz, "first"))

    assert [q[ref].flags for ref in REFS] == [(), (), ("too_easy",), ("negative",)]


def shares(question) -> dict:
    return {
        option.text: (option.share, option.share_upper, option.share_lower)
        for option in question.options
    }


def test_options_picked_by_everyone_and_by_the_upper_and_lower_groups(quiz):
    q = by_ref(report.quiz_statistics(quiz, "first"))

    # Single choice: A1, A2, A6 Paris; A3 Lyon; A4 Marseille; A5 nothing.
    # Upper group: A1 (weight 1), A2 and A6 (1/2 each), all Paris. Lower: A3, A4.
    assert shares(q[REFS[0]]) == {
        "Lyon": (approx(F(1, 6)), 0, approx(F(1, 2))),
        "Paris": (approx(F(1, 2)), approx(1), 0),
        "Marseille": (approx(F(1, 6)), 0, approx(F(1, 2))),
        "No option picked": (approx(F(1, 6)), 0, 0),
    }
    assert [o.is_correct for o in q[REFS[0]].options] == [False, True, False, False]
    # Multiple choice: A1, A2, A6 picked 2 and 3; A3 4 and 9; A4 2 and 4.
    assert shares(q[REFS[1]]) == {
        "2": (approx(F(4, 6)), approx(1), approx(F(1, 2))),
        "3": (approx(F(3, 6)), approx(1), 0),
        "4": (approx(F(2, 6)), 0, approx(1)),
        "9": (approx(F(1, 6)), 0, approx(F(1, 2))),
        "No option picked": (approx(F(1, 6)), 0, 0),
    }
    assert q[REFS[2]].options is None


def test_last_and_all_attempts(quiz):
    last = by_ref(report.quiz_statistics(quiz, "last"))
    every = report.quiz_statistics(quiz, "all")

    # Last: A3 and A5 are replaced by their retakes (4 and 3 points).
    # Q1: 1,1,1,0,1,1 -> 5/6; Q2: 1,1,1,1/2,1,1 -> 11/12; Q4: 1,0,1,0,0,0 -> 1/3.
    assert [last[ref].items.facility for ref in REFS] == [
        approx(F(5, 6)),
        approx(F(11, 12)),
        approx(1),
        approx(F(1, 3)),
    ]
    # All: the six first attempts and the two retakes, 8 attempts by 6 people.
    # Q1: (3 + 1 + 1) / 8; Q2: (7/2 + 1 + 1) / 8; Q4: (2 + 1 + 0) / 8.
    assert (every.attempts, every.candidates) == (8, 6)
    assert [q.items.facility for q in every.questions] == [
        approx(F(5, 8)),
        approx(F(11, 16)),
        approx(1),
        approx(F(3, 8)),
    ]
    # Mean of all eight totals: (29/2 + 4 + 3) / 8 = 43/16 points.
    assert every.points.mean == approx(F(43, 16))


def test_unknown_attempt_set_is_refused(quiz):
    with pytest.raises(ValueError, match="unknown attempt set"):
        report.quiz_statistics(quiz, "best")


def test_a_question_added_later_is_measured_over_the_attempts_that_drew_it(
    app, tmp_path
):
    # Two candidates take a first version of the quiz without the text question
    # (scoring 3 and 0); then the question is added and the fixed data set's six
    # take it.
    early = make_quiz(
        tmp_path,
        SLUG,
        keys=KEYS[:3],
        attempts=2,
        time_limit=None,
        shuffle=False,
        pass_mark=None,
    )
    take(make_user(), early, (1, [0, 1], True))
    take(make_user(), early, (0, [2, 3], False))
    quiz = make_stats_quiz(tmp_path)
    make_fixed_attempts(quiz, second=False)

    stats = report.quiz_statistics(quiz, "first")
    q = by_ref(stats)

    assert stats.attempts == 8
    assert [q[ref].items.attempts for ref in REFS] == [8, 8, 8, 6]
    # Q1 over all eight: (1 + 0 + 3) / 8; Q4 over the six that drew it: 2/6.
    assert q[REFS[0]].items.facility == approx(F(1, 2))
    assert q[REFS[3]].items.facility == approx(F(1, 3))
    # Alpha over the six attempts that drew all four questions: the value above.
    assert stats.reliability.attempts == 6
    assert stats.reliability.alpha == approx(F(208, 447))
