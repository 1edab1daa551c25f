"""The progress pages: the participant's own view, the cohort grid and its CSV, a
participant's page for staff, and who may reach each."""

from __future__ import annotations

import csv
import io
import re

import pytest

from quizapp.extensions import db
from tests.bootcamp_fixtures import WHEN, make_bootcamp
from tests.factories import make_finished_attempt, make_user

MINE = "/programmes/bc/progress"
GRID = "/organise/programmes/bc/progress"
CSV_URL = "/organise/programmes/bc/progress.csv"


@pytest.fixture
def bootcamp(app, tmp_path):
    return make_bootcamp(tmp_path)


def cells(html: str) -> dict[tuple[str, str], str]:
    """``(user id, module slug)`` to the cell's status, read off the grid."""
    out = {}
    for user_id, row in re.findall(r'<tr data-user="(\d+)">(.*?)</tr>', html, re.S):
        for slug, status in re.findall(
            r'data-module="([^"]+)" data-status="([^"]+)"', row
        ):
            out[(user_id, slug)] = status
    return out


def test_a_participant_sees_modules_scores_and_the_next_assessment(
    bootcamp, client, auth
):
    first = bootcamp.participants[0]
    make_finished_attempt(first, bootcamp.m1, 40, finished_at=WHEN)
    auth.sign_in(first.email)

    html = client.get(MINE).get_data(as_text=True)

    assert "0 of 3</strong> modules completed" in html
    assert 'data-module="module-one" data-status="in_progress"' in html
    assert 'data-module="module-two" data-status="not_started"' in html
    assert "40%" in html
    assert "Not passed yet" in html
    assert "Left to do:</span> Pass Quiz bc-m1" in html
    assert 'data-next="bc-m1"' in html  # the failed one comes first

    make_finished_attempt(first, bootcamp.m1, 90, finished_at=WHEN)
    html = client.get(MINE).get_data(as_text=True)
    assert "1 of 3</strong> modules completed" in html
    assert 'data-module="module-one" data-status="completed"' in html
    assert 'data-next="bc-m2"' in html


def test_a_module_quiz_with_results_held_back_shows_no_score(bootcamp, client, auth):
    first = bootcamp.participants[0]
    bootcamp.m1.show_results = "never"
    db.session.commit()
    make_finished_attempt(first, bootcamp.m1, 40, finished_at=WHEN)
    auth.sign_in(first.email)

    row = re.search(
        r'<tr data-quiz="bc-m1">(.*?)</tr>',
        client.get(MINE).get_data(as_text=True),
        re.S,
    ).group(1)

    assert "40%" not in row
    assert "Not passed yet" not in row
    assert "Later" in row
    assert "Taken; results later" in row


def test_the_dashboard_links_a_participant_to_their_progress(bootcamp, client, auth):
    first = bootcamp.participants[0]
    bootcamp.pass_modules(first)
    auth.sign_in(first.email)

    html = client.get("/").get_data(as_text=True)

    assert f'href="{MINE}"' in html
    assert "2 of 3 modules completed" in html


def test_nobody_outside_the_cohort_has_a_progress_page(bootcamp, client, auth):
    outsider = make_user(email="out@example.org")
    auth.sign_in(outsider.email)
    assert client.get(MINE).status_code == 404
    assert client.get("/programmes/nope/progress").status_code == 404


def test_the_progress_page_waits_for_the_published_shortlist(bootcamp, client, auth):
    bootcamp.programme.shortlist_published_at = None
    db.session.commit()
    auth.sign_in(bootcamp.participants[0].email)
    assert client.get(MINE).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(bootcamp, client):
    for url in (MINE, GRID, CSV_URL, "/organise/programmes/bc/participants/1"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert "/sign-in" in response.headers["Location"]


def test_candidates_cannot_reach_the_staff_pages(bootcamp, client, auth):
    first = bootcamp.participants[0]
    auth.sign_in(first.email)
    for url in (GRID, CSV_URL, f"/organise/programmes/bc/participants/{first.id}"):
        assert client.get(url).status_code == 403, url


@pytest.mark.parametrize("role", ["instructor", "organiser", "admin"])
def test_the_grid_colours_each_cell_by_status(bootcamp, client, auth, role):
    first, second, third = bootcamp.participants
    bootcamp.pass_modules(first)
    make_finished_attempt(second, bootcamp.m2, 10, finished_at=WHEN)
    make_user(email="staff@example.org", roles=(role,))
    auth.sign_in("staff@example.org")

    html = client.get(GRID).get_data(as_text=True)

    grid = cells(html)
    assert grid[(str(first.id), "module-one")] == "completed"
    assert grid[(str(first.id), "project")] == "not_started"
    assert grid[(str(second.id), "module-two")] == "in_progress"
    assert grid[(str(third.id), "module-one")] == "not_started"
    assert 'class="text-center cell-completed"' in html
    assert 'data-total="module-one">1<' in html
    assert f'href="/organise/programmes/bc/participants/{first.id}"' in html


def test_the_grid_sorts_by_a_module_and_by_completion(bootcamp, client, auth):
    first, second, third = bootcamp.participants
    make_finished_attempt(third, bootcamp.m1, 95, finished_at=WHEN)
    make_finished_attempt(first, bootcamp.m1, 60, finished_at=WHEN)
    make_finished_attempt(second, bootcamp.m1, 20, finished_at=WHEN)
    bootcamp.pass_modules(second)
    make_user(email="staff@example.org", roles=("instructor",))
    auth.sign_in("staff@example.org")

    def order(sort):
        html = client.get(f"{GRID}?sort={sort}").get_data(as_text=True)
        return [int(i) for i in re.findall(r'<tr data-user="(\d+)">', html)]

    # Completed first, then by best score: third 95, second 80 (both passed), first.
    assert order("module-one") == [third.id, second.id, first.id]
    assert order("completed") == [second.id, first.id, third.id]
    assert order("name") == [first.id, second.id, third.id]
    assert order("no-such-sort") == [first.id, second.id, third.id]


def test_the_csv_has_a_status_and_a_score_per_module(bootcamp, client, auth):
    first, second, _third = bootcamp.participants
    first.name = "=cmd|' /C calc'!A0"
    db.session.commit()
    make_finished_attempt(first, bootcamp.m1, 72.5, finished_at=WHEN)
    make_user(email="org@example.org", roles=("organiser",))
    auth.sign_in("org@example.org")

    response = client.get(CSV_URL)

    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 3
    by_email = {row["email"]: row for row in rows}
    mine = by_email[first.email]
    assert mine["name"].startswith("'=")  # not run as a formula
    assert (mine["module-one_status"], mine["module-one_score"]) == (
        "Completed",
        "72.5",
    )
    assert (mine["project_status"], mine["project_score"]) == ("Not started", "")
    assert mine["modules_completed"] == "1/3"
    assert by_email[second.email]["certificate_ready"] == "no"


def test_staff_see_a_participants_attempts(bootcamp, client, auth):
    first = bootcamp.participants[0]
    attempt = make_finished_attempt(first, bootcamp.m1, 55, finished_at=WHEN)
    make_user(email="staff@example.org", roles=("instructor",))
    auth.sign_in("staff@example.org")

    html = client.get(f"/organise/programmes/bc/participants/{first.id}").get_data(
        as_text=True
    )

    assert first.name in html
    assert f'href="/staff/attempts/{attempt.id}"' in html
    assert 'data-module="module-one" data-status="completed"' in html
    # Staff do not get the participant's "take it" links.
    assert "data-next=" not in html


def test_staff_get_404_for_someone_outside_the_cohort(bootcamp, client, auth):
    outsider = make_user()
    make_user(email="staff@example.org", roles=("instructor",))
    auth.sign_in("staff@example.org")
    url = f"/organise/programmes/bc/participants/{outsider.id}"
    assert client.get(url).status_code == 404
    assert client.get("/organise/programmes/bc/participants/999999").status_code == 404
