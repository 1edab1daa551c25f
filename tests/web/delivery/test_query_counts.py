"""Attempt pages issue a fixed number of queries, not one per question."""

from __future__ import annotations

import re

from quizapp.extensions import db
from tests.factories import EVERY_TYPE_KEYS, counted_queries, make_quiz, make_user


def queries_for_pages(client, forms, slug: str) -> dict[str, int]:
    response = forms.post(f"/quizzes/{slug}/start", {}, page=f"/quizzes/{slug}")
    base = re.search(r"(/attempts/\d+)/", response.location).group(1)
    counts = {}
    for name in ("q/1", "all", "review"):
        with counted_queries() as statements:
            assert client.get(f"{base}/{name}").status_code == 200
        counts[name] = len(statements)
    forms.post(f"{base}/submit", {}, page=f"{base}/review")
    with counted_queries() as statements:
        assert client.get(f"{base}/result").status_code == 200
    counts["result"] = len(statements)
    return counts


def test_pages_take_the_same_queries_for_2_or_8_questions(
    app, tmp_path, client, auth, forms
):
    counts = {}
    for size in (2, len(EVERY_TYPE_KEYS)):
        make_quiz(tmp_path, f"quiz-{size}", keys=EVERY_TYPE_KEYS[:size])
        make_user(email=f"cand{size}@example.org")
        auth.sign_in(f"cand{size}@example.org")
        counts[size] = queries_for_pages(client, forms, f"quiz-{size}")
        auth.sign_out()

    assert counts[2] == counts[8], counts
    assert max(counts[8].values()) <= 10, counts


def test_the_dashboard_takes_the_same_queries_for_one_or_four_quizzes(
    app, tmp_path, client, auth, forms
):
    make_user(email="cand@example.org")
    auth.sign_in("cand@example.org")
    make_quiz(tmp_path, "first", programme=True)
    with counted_queries() as one:
        assert client.get("/").status_code == 200
    for slug in ("second", "third", "fourth"):
        make_quiz(tmp_path, slug)
    forms.post("/quizzes/second/start", {}, page="/quizzes/second")

    with counted_queries() as four:
        page = client.get("/")

    assert page.get_data(as_text=True).count('class="list-group-item"') == 4
    assert len(four) == len(one), (len(one), len(four))


def test_the_staff_attempt_page_takes_the_same_queries_for_2_or_8_questions(
    app, tmp_path, client, auth
):
    from quizapp.accounts.models import Role
    from quizapp.core import clock
    from quizapp.delivery import services

    ids = {}
    for size in (2, len(EVERY_TYPE_KEYS)):
        quiz = make_quiz(tmp_path, f"staff-{size}", keys=EVERY_TYPE_KEYS[:size])
        ids[size] = services.start_attempt(make_user(), quiz, clock.now()).id
    db.session.commit()
    make_user(email="org@example.org", roles=(Role.organiser,))
    auth.sign_in("org@example.org")

    counts = {}
    for size, attempt_id in ids.items():
        with counted_queries() as statements:
            assert client.get(f"/staff/attempts/{attempt_id}").status_code == 200
        counts[size] = len(statements)

    assert counts[2] == counts[8], counts


def test_the_leaderboard_takes_the_same_queries_for_3_or_30_candidates(
    app, tmp_path, client, auth
):
    from datetime import UTC, datetime

    from tests.factories import make_finished_attempt

    finished = datetime(2026, 3, 1, tzinfo=UTC)
    quiz = make_quiz(tmp_path, "board")
    make_user(email="org@example.org", roles=("organiser",))
    auth.sign_in("org@example.org")
    counts = {}
    for size in (3, 30):
        while _ranked(quiz) < size:
            make_finished_attempt(make_user(), quiz, 50, finished_at=finished)
        with counted_queries() as statements:
            assert client.get("/organise/quizzes/board/leaderboard").status_code == 200
        counts[size] = len(statements)

    assert counts[3] == counts[30], counts
    assert counts[30] <= 5, counts  # user, quiz, the page, its total


def _ranked(quiz) -> int:
    from quizapp.programmes import ranking

    return ranking.leaderboard(quiz).total


def test_an_autosave_reads_once_and_writes_in_one_statement_on_postgresql(
    app, tmp_path, client, auth, forms
):
    """The user; the attempt locked with its item and version; the item's answer
    with its history entry (one statement on PostgreSQL, two on SQLite)."""
    make_quiz(tmp_path, "quiz", keys=EVERY_TYPE_KEYS[:2])
    make_user(email="cand@example.org")
    auth.sign_in("cand@example.org")
    response = forms.post("/quizzes/quiz/start", {}, page="/quizzes/quiz")
    base = re.search(r"/attempts/(\d+)/", response.location).group(0)
    page = client.get(f"{base}q/1").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)

    with counted_queries() as statements:
        saved = client.post(
            f"/api{base}answers/1",
            json={"response": None, "flagged": True},
            headers={"X-CSRFToken": csrf},
        )

    assert saved.status_code == 200, saved.get_data(as_text=True)
    writes = 1 if db.engine.dialect.name == "postgresql" else 2
    sql = [" ".join(s.split()) for s in statements if not s.startswith("BEGIN")]
    assert len(sql) == 2 + writes, sql
    assert "FOR UPDATE" in sql[1] or db.engine.dialect.name == "sqlite"
