"""The organiser's pages: who may reach them, the dashboard and its chart JSON, the
leaderboard and its CSV, the shortlist and finalists by form, quiz windows, and the
candidate's public view and status."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from quizapp.banks.models import Programme, Quiz
from quizapp.core import clock
from quizapp.extensions import db
from quizapp.programmes import services
from quizapp.programmes.models import SELECTED, SHORTLIST, Selection
from tests.factories import make_finished_attempt, make_quiz, make_user

PAST = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
SLUG, PROGRAMME = "scr", "scr-programme"


@pytest.fixture
def screening(app, tmp_path) -> Quiz:
    return make_quiz(
        tmp_path, SLUG, programme=True, opens=PAST - timedelta(days=3), closes=PAST
    )


@pytest.fixture
def programme(screening) -> Programme:
    return db.session.scalar(select(Programme).where(Programme.slug == PROGRAMME))


@pytest.fixture
def applicants(screening):
    """Twelve candidates, A00 best; A05 and A06 tie on every key."""
    users = []
    for n in range(12):
        user = make_user(
            name=f"A{n:02}",
            email=f"a{n:02}@example.org",
            discipline="Engineering" if n % 2 else "Business / economics",
            school='=HYPERLINK("http://evil")' if n == 3 else "Example Poly",
        )
        percent = 95 - 5 * n if n != 6 else 70
        make_finished_attempt(
            user, screening, percent, seconds=600, finished_at=PAST - timedelta(hours=1)
        )
        users.append(user)
    return users


@pytest.fixture
def organiser(auth):
    user = make_user(email="org@example.org", roles=("organiser",), name="Olga")
    auth.sign_in("org@example.org")
    return user


ORGANISER_GETS = [
    "/organise",
    f"/organise/programmes/{PROGRAMME}",
    f"/organise/programmes/{PROGRAMME}/charts/scores.json",
    f"/organise/programmes/{PROGRAMME}/charts/modules.json",
    f"/organise/programmes/{PROGRAMME}/leaderboard",
    f"/organise/programmes/{PROGRAMME}/leaderboard.csv",
    f"/organise/quizzes/{SLUG}/leaderboard",
    f"/organise/quizzes/{SLUG}/leaderboard.csv",
    f"/organise/programmes/{PROGRAMME}/shortlist",
    f"/organise/programmes/{PROGRAMME}/finalists",
    f"/organise/quizzes/{SLUG}/window",
]
ORGANISER_POSTS = [
    f"/organise/programmes/{PROGRAMME}/shortlist",
    f"/organise/programmes/{PROGRAMME}/finalists",
    f"/organise/quizzes/{SLUG}/window",
    f"/organise/quizzes/{SLUG}/leaderboard/visibility",
]


@pytest.mark.parametrize("url", ORGANISER_GETS)
def test_candidates_get_403_on_every_organiser_page_and_json(
    client, auth, programme, url
):
    make_user(email="cand@example.org")
    auth.sign_in("cand@example.org")

    response = client.get(
        url, headers={"Accept": "application/json"} if url.endswith(".json") else {}
    )

    assert response.status_code == 403
    if url.endswith(".json"):
        assert response.is_json


@pytest.mark.parametrize("url", ORGANISER_POSTS)
def test_candidates_cannot_post_to_organiser_forms(client, auth, programme, url):
    make_user(email="cand@example.org")
    auth.sign_in("cand@example.org")

    assert client.post(url, data={"form": "pick", "pick-size": "1"}).status_code in (
        400,
        403,
    )
    assert db.session.scalar(select(Selection)) is None


@pytest.mark.parametrize("url", ORGANISER_GETS)
def test_organisers_reach_every_page(client, organiser, programme, applicants, url):
    response = client.get(url)
    response.get_data()  # a streamed body is read to the end, as a browser does

    assert response.status_code == 200


@pytest.mark.parametrize(
    "url",
    [f"/organise/programmes/{PROGRAMME}/shortlist", f"/organise/quizzes/{SLUG}/window"],
)
def test_instructors_may_not_change_lists_or_windows(client, auth, programme, url):
    make_user(email="ins@example.org", roles=("instructor",))
    auth.sign_in("ins@example.org")

    assert client.get(url).status_code == 403
    assert client.get(f"/organise/programmes/{PROGRAMME}").status_code == 200


def test_anonymous_visitors_are_sent_to_sign_in(client, programme):
    response = client.get(f"/organise/programmes/{PROGRAMME}")

    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]
    assert (
        client.get(
            f"/organise/programmes/{PROGRAMME}/charts/scores.json",
            headers={"Accept": "application/json"},
        ).status_code
        == 401
    )


def test_score_chart_json_bins_the_screening_and_marks_the_prospective_cut(
    client, organiser, programme, applicants
):
    data = client.get(f"/organise/programmes/{PROGRAMME}/charts/scores.json").get_json()

    assert sum(b["count"] for b in data["bins"]) == 12
    assert data["bins"][9] == {"from": 90.0, "to": 100.0, "count": 2}
    assert data["cutoff"] == 50.0  # the 10th of the programme's shortlist_size 10
    assert data["cutoff_label"] == "Top 10 today: 50.0%"


def test_dashboard_counts_and_table_fallback(client, organiser, programme, applicants):
    page = client.get(f"/organise/programmes/{PROGRAMME}").get_data(as_text=True)

    assert re.search(r'data-count="submitted">12<', page)
    assert re.search(r'data-count="shortlisted">0<', page)
    assert 'id="scores-table"' in page
    assert 'data-chart="histogram"' in page
    assert "Screening closed" in page


def test_leaderboard_page_ranks_filters_and_pages(
    client, organiser, programme, applicants
):
    page = client.get(
        f"/organise/quizzes/{SLUG}/leaderboard?per_page=5&page=2"
    ).get_data(as_text=True)

    names = re.findall(r"<td>(A\d\d)<div", page)
    assert names == ["A05", "A06", "A07", "A08", "A09"]
    assert page.count(">tied</span>") == 2
    assert "6\u201310 of 12" in page

    filtered = client.get(
        f"/organise/quizzes/{SLUG}/leaderboard?discipline=Engineering&q=a0"
    ).get_data(as_text=True)
    assert re.findall(r"<td>(A\d\d)<div", filtered) == [
        "A01",
        "A03",
        "A05",
        "A07",
        "A09",
    ]


def test_leaderboard_past_the_last_page_goes_to_the_last(
    client, organiser, programme, applicants
):
    response = client.get(f"/organise/quizzes/{SLUG}/leaderboard?per_page=5&page=99")

    assert response.status_code == 302
    assert "page=3" in response.headers["Location"]


def test_csv_matches_the_leaderboard_and_defuses_formulas(
    client, organiser, programme, applicants
):
    response = client.get(f"/organise/programmes/{PROGRAMME}/leaderboard.csv")

    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    board = services.ranking.leaderboard(programme.screening_quiz, per_page=100).rows
    assert [(r["name"], int(r["rank"]), r["tied"]) for r in rows] == [
        (b.name, b.rank, "yes" if b.tied else "no") for b in board
    ]
    assert rows[3]["school"] == '\'=HYPERLINK("http://evil")'
    assert rows[0]["percent"] == "95.00"


def test_filtered_csv_has_only_the_filtered_rows(
    client, organiser, programme, applicants
):
    response = client.get(f"/organise/quizzes/{SLUG}/leaderboard.csv?passed=no")

    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["name"] for r in rows] == ["A10", "A11"]  # A09 has 50%: passed


def post_form(client, url, form, as_form=None, **fields):
    page = client.get(url).get_data(as_text=True)
    token = re.search(
        rf'name="{form}-csrf_token" type="hidden" value="([^"]+)"', page
    ).group(1)
    return client.post(
        url,
        data={
            "form": as_form or form,
            f"{form}-csrf_token": token,
            **{f"{form}-{k}": v for k, v in fields.items()},
        },
    )


def test_shortlist_by_form_then_remove_one_with_a_reason(
    client, organiser, programme, applicants
):
    url = f"/organise/programmes/{PROGRAMME}/shortlist"

    response = post_form(client, url, "pick", size="6")

    assert response.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "6 selected, 5 on the waitlist. 1 tied with the last selected place" in page
    assert len(services.members(programme, SHORTLIST, SELECTED)) == 6

    missing = post_form(client, url, "remove", user_id=str(applicants[0].id), reason="")
    assert missing.status_code == 422
    assert "This field is required." in missing.get_data(as_text=True)
    done = post_form(
        client, url, "remove", user_id=str(applicants[0].id), reason="Withdrew"
    )
    assert done.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "took off A00 (was selected)" in page
    assert "Withdrew" in page
    assert len(services.members(programme, SHORTLIST, SELECTED)) == 5
    waiting = applicants[6]  # first on the waitlist, tied with the last selected
    promoted = post_form(
        client, url, "remove", "promote", user_id=str(waiting.id), reason="Next"
    )
    assert promoted.status_code == 302
    assert services.selection_of(programme, SHORTLIST, waiting.id).status == SELECTED
    assert "added A06 (was waitlisted)" in client.get(url).get_data(as_text=True)


def test_shortlist_while_open_shows_the_reason_next_to_the_form(
    client, organiser, app, tmp_path
):
    make_quiz(tmp_path, "open", programme=True)

    response = post_form(
        client, "/organise/programmes/open-programme/shortlist", "pick", size="3"
    )

    assert response.status_code == 422
    assert "The screening window is still open" in response.get_data(as_text=True)


def test_add_by_unknown_email_is_an_error_on_the_field(
    client, organiser, programme, applicants
):
    response = post_form(
        client,
        f"/organise/programmes/{PROGRAMME}/shortlist",
        "add",
        email="nobody@example.org",
        reason="Late entry",
    )

    assert response.status_code == 422
    assert "No account has this e-mail address." in response.get_data(as_text=True)


def test_finalists_page_weights_and_selection(client, organiser, programme, applicants):
    services.shortlist_top(programme, organiser, n=6)
    db.session.commit()
    url = f"/organise/programmes/{PROGRAMME}/finalists"

    bad = post_form(
        client,
        url,
        "weights",
        weight_screening="0",
        weight_modules="0",
        weight_project="0",
    )
    assert bad.status_code == 422
    assert "At least one weight must be above 0." in bad.get_data(as_text=True)
    assert post_form(client, url, "pick", size="2").status_code == 302

    page = client.get(url).get_data(as_text=True)
    assert "2 selected, 4 on the waitlist." in page
    assert re.findall(r"<td>(A\d\d)</td>", page)[:6] == [
        "A00",
        "A01",
        "A02",
        "A03",
        "A04",
        "A05",
    ]


def test_close_now_ends_the_window_and_is_logged(client, organiser, app, tmp_path):
    quiz = make_quiz(tmp_path, "win")
    url = "/organise/quizzes/win/window"

    assert post_form(client, url, "quick", action="close").status_code == 302

    db.session.refresh(quiz)
    assert quiz.closes_at is not None
    assert quiz.closes_at <= clock.now()
    assert "closed now" in client.get(url).get_data(as_text=True)


def test_window_that_closes_before_it_opens_is_refused(
    client, organiser, app, tmp_path
):
    make_quiz(tmp_path, "win")

    response = post_form(
        client,
        "/organise/quizzes/win/window",
        "window",
        opens_at="2027-01-02T10:00",
        closes_at="2027-01-01T10:00",
    )

    assert response.status_code == 422
    assert "The window must close after it opens." in response.get_data(as_text=True)


def test_public_leaderboard_only_when_turned_on_and_names_only(
    client, auth, programme, screening, applicants
):
    auth.sign_in("a04@example.org")
    assert client.get(f"/quizzes/{SLUG}/leaderboard").status_code == 404

    screening.leaderboard_public = True
    db.session.commit()
    page = client.get(f"/quizzes/{SLUG}/leaderboard").get_data(as_text=True)

    assert "You are <strong>5</strong> of 12." in page
    assert page.count("list-group-item") == 10
    assert "a00@example.org" not in page
    # No score on the page (static URLs carry a content hash, which may hold "95").
    assert "95" not in re.sub(r'/static/[^"]+', "", page)


def test_candidates_see_their_status_once_published(
    client, auth, programme, applicants
):
    organiser = make_user(roles=("organiser",))
    services.shortlist_top(programme, organiser, n=3)
    db.session.commit()
    auth.sign_in("a01@example.org")
    assert "Shortlisted" not in client.get("/").get_data(as_text=True)

    services.set_published(programme, SHORTLIST, True, organiser)
    db.session.commit()

    assert "You are shortlisted" in client.get("/").get_data(as_text=True)
    auth.sign_out()
    auth.sign_in("a11@example.org")
    assert "not selected" in client.get("/").get_data(as_text=True)


def test_a_published_finalist_agrees_and_withdraws_on_the_dashboard(
    client, auth, programme, applicants
):
    from quizapp.programmes.models import FINALISTS, Consent

    organiser = make_user(roles=("organiser",))
    services.shortlist_top(programme, organiser, n=3)
    services.select_finalists(programme, organiser, m=1)
    services.set_published(programme, SHORTLIST, True, organiser)
    services.set_published(programme, FINALISTS, True, organiser)
    db.session.commit()
    auth.sign_in("a00@example.org")

    page = client.get("/").get_data(as_text=True)
    assert "You are a finalist." in page
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]
    url = f"/programmes/{PROGRAMME}/consent"
    assert (
        client.post(url, data={"csrf_token": token, "give": "yes"}).status_code == 302
    )
    consent = db.session.get(Consent, (programme.id, applicants[0].id))
    assert consent.is_given
    assert "Stop sharing my profile" in client.get("/").get_data(as_text=True)

    client.post(url, data={"csrf_token": token, "give": "no"})
    db.session.refresh(consent)
    assert not consent.is_given

    auth.sign_out()
    auth.sign_in("a01@example.org")  # in the cohort, waitlisted for the finals
    page = client.get("/").get_data(as_text=True)
    assert "on the waitlist for the finals" in page
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert client.post(
        url, data={"csrf_token": token[1] if token else "", "give": "yes"}
    ).status_code in (400, 404)
    assert db.session.get(Consent, (programme.id, applicants[1].id)) is None


def test_every_organiser_route_answers_403_to_a_candidate(app, client, auth, programme):
    """Walks the URL map, so an organiser route added later is covered too."""
    make_user(email="cand@example.org")
    auth.sign_in("cand@example.org")
    home = client.get("/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', home)[1]  # sign-out form
    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/organise")]
    assert len(rules) >= 20

    for rule in rules:
        values = {
            name: (PROGRAMME if "programmes" in rule.rule else SLUG)
            if name == "slug"
            else 1
            for name in rule.arguments
        }
        url = rule.rule
        for name, value in values.items():
            url = re.sub(rf"<(?:\w+:)?{name}>", str(value), url)
        method = "GET" if "GET" in rule.methods else "POST"
        response = client.open(url, method=method, data={"csrf_token": token})
        response.get_data()
        assert response.status_code == 403, (method, url, response.status_code)
