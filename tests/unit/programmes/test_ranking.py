"""Leaderboard ranking rules: which attempt counts, ties, filters, streaming."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from quizapp.delivery.models import IntegritySignal
from quizapp.extensions import db
from quizapp.programmes import ranking
from quizapp.programmes.ranking import Filters
from tests.factories import make_finished_attempt, make_quiz, make_user

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def names(page) -> list[str]:
    return [row.name for row in page.rows]


@pytest.fixture
def quiz(app, tmp_path):
    return make_quiz(tmp_path, "rank", attempts=3)


def test_higher_percentage_ranks_first_then_less_time_then_earlier_submission(quiz):
    slow = make_user(name="Slow")
    fast = make_user(name="Fast")
    late = make_user(name="Late")
    top = make_user(name="Top")
    make_finished_attempt(slow, quiz, 80, seconds=900, finished_at=at(20))
    make_finished_attempt(fast, quiz, 80, seconds=600, finished_at=at(30))
    make_finished_attempt(late, quiz, 80, seconds=600, finished_at=at(40))
    make_finished_attempt(top, quiz, 90, seconds=1500, finished_at=at(50))

    page = ranking.leaderboard(quiz)

    assert names(page) == ["Top", "Fast", "Late", "Slow"]
    assert [r.rank for r in page.rows] == [1, 2, 3, 4]
    assert not any(r.tied for r in page.rows)
    assert page.total == 4


def test_candidates_equal_on_every_key_share_a_rank_earlier_registration_first(quiz):
    first = make_user(name="Registered first")
    second = make_user(name="Registered second")
    third = make_user(name="Third")
    for user in (second, first):
        make_finished_attempt(user, quiz, 70, seconds=600, finished_at=at(10))
    make_finished_attempt(third, quiz, 60, seconds=600, finished_at=at(10))

    rows = ranking.leaderboard(quiz).rows

    assert [(r.name, r.rank, r.tied) for r in rows] == [
        ("Registered first", 1, True),
        ("Registered second", 1, True),
        ("Third", 3, False),
    ]


@pytest.mark.parametrize(
    ("grading", "counted"),
    [("highest", 90.0), ("latest", 40.0), ("first", 60.0)],
)
def test_the_grading_method_picks_the_attempt_that_counts(
    app, tmp_path, grading, counted
):
    quiz = make_quiz(tmp_path, f"g-{grading}", attempts=3, grading=grading)
    user = make_user()
    make_finished_attempt(user, quiz, 60, finished_at=at(10))
    make_finished_attempt(user, quiz, 90, finished_at=at(20))
    make_finished_attempt(user, quiz, 40, finished_at=at(30))

    (row,) = ranking.leaderboard(quiz).rows

    assert row.percent == pytest.approx(counted)
    assert row.attempts == 3


def test_highest_breaks_a_tie_between_own_attempts_on_time_used(quiz):
    user = make_user()
    make_finished_attempt(user, quiz, 90, seconds=900, finished_at=at(10))
    quicker = make_finished_attempt(user, quiz, 90, seconds=300, finished_at=at(30))

    (row,) = ranking.leaderboard(quiz).rows

    assert row.attempt_id == quicker.id
    assert row.seconds_used == 300


def test_percentage_is_over_each_attempts_own_maximum(quiz):
    small = make_user(name="Small pool")
    large = make_user(name="Large pool")
    make_finished_attempt(small, quiz, 75, max_score=4, finished_at=at(10))
    make_finished_attempt(large, quiz, 70, max_score=40, finished_at=at(10))

    rows = ranking.leaderboard(quiz).rows

    assert [(r.name, r.score) for r in rows] == [
        ("Small pool", 3.0),
        ("Large pool", 28.0),
    ]


def test_running_attempts_do_not_count(app, tmp_path):
    from quizapp.delivery import services

    quiz = make_quiz(tmp_path, "running")
    services.start_attempt(make_user(), quiz, T0, "10.0.0.1", "Firefox")
    db.session.commit()

    assert ranking.leaderboard(quiz).total == 0


def test_filters_narrow_rows_but_keep_overall_ranks(quiz):
    make_finished_attempt(
        make_user(name="Ann Lee", discipline="Engineering", graduation_year=2024),
        quiz,
        95,
        finished_at=at(1),
    )
    make_finished_attempt(
        make_user(
            name="Bob Tan", discipline="Business / economics", graduation_year=2024
        ),
        quiz,
        85,
        finished_at=at(1),
    )
    make_finished_attempt(
        make_user(
            name="Cara Lim",
            email="cara@school.example",
            discipline="Engineering",
            graduation_year=2020,
        ),
        quiz,
        30,
        finished_at=at(1),
    )

    def ranks(**filters):
        return [
            (r.name, r.rank) for r in ranking.leaderboard(quiz, Filters(**filters)).rows
        ]

    assert ranks(discipline="Engineering") == [("Ann Lee", 1), ("Cara Lim", 3)]
    assert ranks(graduation_year=2024) == [("Ann Lee", 1), ("Bob Tan", 2)]
    assert ranks(passed=False) == [("Cara Lim", 3)]
    assert ranks(passed=True) == [("Ann Lee", 1), ("Bob Tan", 2)]
    assert ranks(search="TAN") == [("Bob Tan", 2)]
    assert ranks(search="school.example") == [("Cara Lim", 3)]


def test_search_treats_like_wildcards_as_text(quiz):
    make_finished_attempt(make_user(name="Per%cent"), quiz, 50, finished_at=at(1))
    make_finished_attempt(make_user(name="Percy"), quiz, 50, finished_at=at(2))

    assert names(ranking.leaderboard(quiz, Filters(search="r%c"))) == ["Per%cent"]
    assert (
        names(ranking.leaderboard(quiz, Filters(search="'; DROP TABLE users; --")))
        == []
    )


def test_pages_and_signal_counts(quiz):
    users = [make_user(name=f"C{n:02}") for n in range(7)]
    for n, user in enumerate(users):
        attempt = make_finished_attempt(user, quiz, 90 - n, finished_at=at(n))
        for _ in range(n):
            db.session.add(
                IntegritySignal(attempt_id=attempt.id, kind="hidden", at=at(n))
            )
    db.session.commit()

    second = ranking.leaderboard(quiz, page=2, per_page=3)

    assert names(second) == ["C03", "C04", "C05"]
    assert [r.signals for r in second.rows] == [3, 4, 5]
    assert (second.total, second.pages, second.first_number, second.last_number) == (
        7,
        3,
        4,
        6,
    )
    beyond = ranking.leaderboard(quiz, page=9, per_page=3)
    assert (beyond.rows, beyond.total) == ([], 7)


def test_streamed_rows_equal_the_pages(quiz):
    for n in range(12):
        make_finished_attempt(
            make_user(), quiz, (n * 37) % 100, seconds=100 + n, finished_at=at(n)
        )

    streamed = [r.user_id for r in ranking.iter_rows(quiz, chunk=5)]
    paged = [
        r.user_id
        for p in (1, 2, 3)
        for r in ranking.leaderboard(quiz, page=p, per_page=5).rows
    ]

    assert streamed == paged
    assert len(streamed) == 12


def test_distribution_bins_every_candidate_once(quiz):
    for percent in (0, 9.99, 10, 55, 99.9, 100):
        make_finished_attempt(make_user(), quiz, percent, finished_at=at(1))

    assert ranking.distribution(quiz) == [2, 1, 0, 0, 0, 1, 0, 0, 0, 2]
