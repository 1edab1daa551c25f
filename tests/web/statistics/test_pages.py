"""The statistics page and its chart JSON: who may see them, the empty state, the
first/last/all switch, the JSON's shape, and a fixed number of queries."""

from __future__ import annotations

import itertools
import re

import pytest

from quizapp.core import clock
from quizapp.delivery import services
from quizapp.extensions import db
from tests.factories import counted_queries, make_user
from tests.unit.statistics.fixed_data import (
    FIRST_ATTEMPTS,
    SLUG,
    make_fixed_attempts,
    make_stats_quiz,
    take,
)

PAGE = f"/staff/quizzes/{SLUG}/statistics"
CHART = f"{PAGE}/chart.json"
JSON = {"Accept": "application/json"}


@pytest.fixture
def quiz(app, tmp_path):
    return make_stats_quiz(tmp_path)


@pytest.fixture
def taken(quiz):
    make_fixed_attempts(quiz)
    return quiz


@pytest.fixture
def organiser(auth):
    make_user(email="org@example.org", roles=("organiser",))
    auth.sign_in("org@example.org")


def stat(html: str, name: str) -> str:
    match = re.search(rf'data-stat="{name}">(.*?)</dd>', html)
    assert match, f"no {name} on the page"
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


@pytest.mark.parametrize("role", ["instructor", "organiser", "admin"])
def test_staff_see_the_page_and_the_chart(client, auth, taken, role):
    make_user(email="staff@example.org", roles=(role,))
    auth.sign_in("staff@example.org")

    assert client.get(PAGE).status_code == 200
    assert client.get(CHART).status_code == 200


@pytest.mark.parametrize("url", [PAGE, CHART])
def test_candidates_get_403(client, auth, taken, url):
    make_user(email="cand@example.org")
    auth.sign_in("cand@example.org")

    response = client.get(url, headers=JSON if url == CHART else {})

    assert response.status_code == 403
    if url == CHART:
        assert response.is_json


def test_anonymous_visitors_are_sent_to_sign_in(client, taken):
    response = client.get(PAGE)

    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]
    assert client.get(CHART, headers=JSON).status_code == 401


def test_an_unknown_quiz_is_404_and_an_unknown_attempt_set_400(
    client, organiser, taken
):
    assert client.get("/staff/quizzes/nope/statistics").status_code == 404
    assert client.get("/staff/quizzes/nope/statistics/chart.json").status_code == 404
    assert client.get(f"{PAGE}?attempts=best").status_code == 400
    assert client.get(f"{CHART}?attempts=best").status_code == 400


def test_a_quiz_without_finalized_attempts_shows_an_empty_state(
    client, organiser, quiz
):
    # A running attempt does not count.
    services.start_attempt(make_user(), quiz, clock.now())
    db.session.commit()

    page = client.get(PAGE)
    html = page.get_data(as_text=True)
    chart = client.get(CHART).get_json()

    assert page.status_code == 200
    assert "No finalized attempts yet" in html
    assert "<canvas" not in html
    assert chart["points"] == []
    assert chart["omitted"] == 0


def test_one_attempt_shows_dashes_not_nan(client, organiser, quiz):
    take(make_user(), quiz, FIRST_ATTEMPTS[1])

    page = client.get(PAGE)
    html = page.get_data(as_text=True)

    assert page.status_code == 200
    assert stat(html, "attempts") == "1"
    assert stat(html, "sd") == "—"
    assert stat(html, "alpha") == "—"
    assert "nan" not in html.lower()
    assert client.get(CHART).get_json()["points"] == []


def test_the_page_shows_the_hand_computed_values(client, organiser, taken):
    html = client.get(PAGE).get_data(as_text=True)
    rows = dict(
        re.findall(
            r'data-question="([^"]+)".*?data-stat="discrimination">(.*?)</td>',
            html,
            re.S,
        )
    )

    assert stat(html, "attempts") == "6"
    assert stat(html, "mean") == "60.42%"
    assert stat(html, "median") == "62.5%"
    assert stat(html, "alpha") == "0.47"  # 208/447
    assert rows["every-type/single-capital"] == "0.69"  # 5 / sqrt(53)
    assert "—" in rows["every-type/tf-sky"]
    assert rows["every-type/text-activation"] == "-0.06"
    assert 'data-flag="negative"' in html
    assert 'data-flag="too_easy"' in html
    assert 'data-chart="scatter"' in html
    assert "Cronbach&#39;s alpha" in html


@pytest.mark.parametrize(
    ("attempts", "counted_attempts", "first_facility"),
    [(None, 6, 0.5), ("first", 6, 0.5), ("last", 6, 0.8333), ("all", 8, 0.625)],
)
def test_the_switch_changes_which_attempts_count(
    client, organiser, taken, attempts, counted_attempts, first_facility
):
    query = f"?attempts={attempts}" if attempts else ""
    html = client.get(PAGE + query).get_data(as_text=True)
    chart = client.get(CHART + query).get_json()

    assert stat(html, "attempts") == str(counted_attempts)
    active = re.search(
        r'class="nav-link py-1 active" aria-current="page" href="([^"]+)"', html
    )
    assert active.group(1).endswith(f"attempts={attempts or 'first'}")
    assert chart["points"][0]["x"] == first_facility
    assert f"attempts={attempts or 'first'}" in re.search(
        r'data-src="([^"]+)"', html
    ).group(1)


def test_chart_json_shape(client, organiser, taken):
    chart = client.get(CHART).get_json()

    assert set(chart) == {
        "label",
        "x_label",
        "y_label",
        "x_min",
        "x_max",
        "y_min",
        "y_max",
        "x_guides",
        "y_guides",
        "points",
        "omitted",
    }
    assert (chart["x_guides"], chart["y_guides"]) == ([0.1, 0.9], [0, 0.2])
    # tf-sky has no discrimination (everyone right): no point.
    assert chart["omitted"] == 1
    assert chart["points"] == [
        {
            "x": 0.5,
            "y": 0.6868,
            "label": "1. every-type/single-capital",
            "short": "1",
            "flagged": False,
        },
        {
            "x": 0.5833,
            "y": 0.5855,
            "label": "2. every-type/multiple-primes",
            "short": "2",
            "flagged": False,
        },
        {
            "x": 0.3333,
            "y": -0.0632,
            "label": "4. every-type/text-activation",
            "short": "4",
            "flagged": True,
        },
    ]


def test_page_and_chart_take_the_same_queries_for_2_or_8_attempts(
    client, organiser, quiz
):
    answers = itertools.cycle(FIRST_ATTEMPTS)
    counts = {}
    made = 0
    for size in (2, 8):
        for _ in range(size - made):
            take(make_user(), quiz, next(answers))
        made = size
        for url in (PAGE, CHART, f"{PAGE}?attempts=all"):
            with counted_queries() as statements:
                assert client.get(url).status_code == 200
            counts[(size, url)] = len(statements)

    for url in (PAGE, CHART, f"{PAGE}?attempts=all"):
        assert counts[(2, url)] == counts[(8, url)], counts
    # BEGIN, the signed-in user, the quiz, then results, cells, versions (and the
    # picks for the page).
    assert counts[(8, PAGE)] <= 7, counts
    assert counts[(8, CHART)] <= 6, counts
