"""The judging pages in a browser's place: who may reach them, the rubric form and
its errors, hidden scores until a judge has scored, the mean of several judges,
revising, and the organiser's publish button locking the reviews."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from quizapp.bootcamp import judging
from quizapp.bootcamp.models import ModuleProgress, ProjectReview
from quizapp.extensions import db
from tests.bootcamp_fixtures import Bootcamp, make_bootcamp
from tests.factories import make_user

INDEX = "/judging"
MODULE = "/judging/bc/project"
PROJECTS = "/organise/programmes/bc/projects"


@pytest.fixture
def camp(app, tmp_path) -> Bootcamp:
    return make_bootcamp(tmp_path)


def review_url(camp: Bootcamp, n: int = 0) -> str:
    return f"{MODULE}/{camp.participants[n].id}"


def scores(framing="8", method="16", comment="") -> dict:
    return {"criterion_0": framing, "criterion_1": method, "comment": comment}


def as_judge(auth, name: str, roles=("instructor",)):
    email = f"{name.lower()}@example.org"
    user = make_user(email=email, name=name, roles=roles)
    auth.sign_in(email)
    return user


def switch_to(auth, email: str):
    auth.sign_out()
    auth.sign_in(email)


def field_error(html: str, field: str) -> str:
    """The error text shown next to ``field`` (empty when there is none)."""
    match = re.search(
        rf'id="{field}-error"[^>]*>(.*?)</div>\s*</div>', html, flags=re.S
    )
    return re.sub(r"<[^>]+>", "", match.group(1)).strip() if match else ""


def reviews() -> int:
    return db.session.scalar(select(func.count()).select_from(ProjectReview))


# -- Who may reach what -------------------------------------------------------------

JUDGE_PAGES = [INDEX, MODULE, f"{MODULE}/1"]


def test_candidates_get_403_on_every_judging_page(client, auth, camp):
    auth.sign_in("p1@example.org")

    for url in [*JUDGE_PAGES, PROJECTS]:
        assert client.get(url).status_code == 403, url


def test_anonymous_visitors_are_sent_to_sign_in(client, camp):
    for url in [*JUDGE_PAGES, PROJECTS]:
        response = client.get(url)

        assert response.status_code == 302, url
        assert "/sign-in" in response.headers["Location"]


def test_an_organiser_who_is_not_an_instructor_may_not_judge(client, auth, forms, camp):
    as_judge(auth, "Olga", roles=("organiser",))

    for url in JUDGE_PAGES:
        assert client.get(url).status_code == 403, url
    assert forms.post(review_url(camp), scores(), page=PROJECTS).status_code == 403
    assert reviews() == 0


def test_instructors_may_not_open_the_organiser_page(client, auth, forms, camp):
    as_judge(auth, "Ann")

    assert client.get(PROJECTS).status_code == 403
    assert forms.post(PROJECTS, {"publish": "on"}, page=INDEX).status_code == 403
    assert camp.programme.projects_published_at is None


def test_an_organiser_who_is_also_an_instructor_judges(client, auth, forms, camp):
    as_judge(auth, "Olga", roles=("organiser", "instructor"))

    response = forms.post(review_url(camp), scores())

    assert response.status_code == 302
    assert reviews() == 1


def test_unknown_programmes_and_modules_that_are_not_projects_are_404(
    client, auth, camp
):
    as_judge(auth, "Admin", roles=("admin",))

    for url in [
        "/judging/nope/project",
        "/judging/bc/nope",
        "/judging/bc/module-one",
        "/judging/bc/module-one/1",
        "/judging/nope/project/1",
        "/organise/programmes/nope/projects",
    ]:
        assert client.get(url).status_code == 404, url


def test_someone_outside_the_cohort_is_404_to_read_and_to_score(
    client, auth, forms, camp
):
    outsider = make_user(name="Outsider")
    as_judge(auth, "Ann")
    url = f"{MODULE}/{outsider.id}"

    assert client.get(url).status_code == 404
    token = forms.token(review_url(camp))
    response = client.post(url, data={**scores(), "csrf_token": token})
    assert response.status_code == 404
    assert reviews() == 0


# -- The rubric form ----------------------------------------------------------------


def test_the_form_has_a_field_per_criterion_with_its_points_and_description(
    client, auth, camp
):
    as_judge(auth, "Ann")

    html = client.get(review_url(camp)).get_data(as_text=True)

    assert 'for="criterion_0">Framing (out of 10)</label>' in html
    assert 'for="criterion_1">Method (out of 20)</label>' in html
    assert 'max="10"' in html
    assert 'step="0.01"' in html
    assert "A clear question." in html
    assert 'name="comment"' in html


OUT_OF_BOUNDS = [
    ("-1", "20", "criterion_0", "Framing cannot be below 0."),
    ("-0.01", "20", "criterion_0", "Framing cannot be below 0."),
    ("10.5", "20", "criterion_0", "Framing is out of 10: give at most 10."),
    ("10", "20.01", "criterion_1", "Method is out of 20: give at most 20."),
    ("", "20", "criterion_0", "Give Framing a score from 0 to 10."),
    ("10", "twenty", "criterion_1", "Enter a number from 0 to 20 for Method."),
    ("NaN", "20", "criterion_0", "Enter a number from 0 to 10 for Framing."),
]


def test_a_score_out_of_bounds_is_422_next_to_its_field_and_nothing_stored(
    client, auth, forms, camp
):
    as_judge(auth, "Ann")

    for framing, method, field, message in OUT_OF_BOUNDS:
        response = forms.post(review_url(camp), scores(framing, method))

        assert response.status_code == 422, (framing, method)
        html = response.get_data(as_text=True)
        assert field_error(html, field) == message
        other = "criterion_1" if field == "criterion_0" else "criterion_0"
        assert field_error(html, other) == ""
        assert f'value="{framing}"' in html  # what was typed is kept

    left_out = forms.post(review_url(camp), {"criterion_1": "20"})
    assert left_out.status_code == 422
    assert field_error(left_out.get_data(as_text=True), "criterion_0") == (
        "Give Framing a score from 0 to 10."
    )
    long = forms.post(review_url(camp), scores(comment="x" * 2001))
    assert long.status_code == 422
    assert "2,000 characters" in field_error(long.get_data(as_text=True), "comment")
    assert reviews() == 0
    assert db.session.scalar(select(func.count()).select_from(ModuleProgress)) == 0


def test_both_bounds_are_accepted(client, auth, forms, camp):
    as_judge(auth, "Ann")

    response = forms.post(review_url(camp), scores("0", "20"), follow_redirects=True)

    assert response.status_code == 200
    assert "Your scores for Participant 1 are saved." in response.get_data(as_text=True)
    review = db.session.scalar(select(ProjectReview))
    assert (review.points, review.max_points) == (20.0, 30.0)


# -- Several judges -----------------------------------------------------------------


def test_three_judges_give_the_exact_mean_on_the_pages_and_in_progress(
    client, auth, forms, camp
):
    for name, (framing, method) in [
        ("Ann", ("5", "10")),  # 50 %
        ("Ben", ("8", "16")),  # 80 %
        ("Cy", ("8.5", "20")),  # 95 %
    ]:
        as_judge(auth, name)
        assert forms.post(review_url(camp), scores(framing, method)).status_code == 302
        auth.sign_out()
    auth.sign_in("cy@example.org")

    page = client.get(review_url(camp)).get_data(as_text=True)
    listing = client.get(MODULE).get_data(as_text=True)

    assert 'data-score="75.0"' in page
    assert "75.0%" in page
    assert re.search(r'data-judges="3">3</td>\s*<td class="text-end">75.0%', listing)
    row = db.session.get(ModuleProgress, (camp.project.id, camp.participants[0].id))
    assert (row.project_score, row.reviews, row.status) == (75.0, 3, "completed")
    switch_to(auth, make_user(email="o@example.org", roles=("organiser",)).email)
    board = client.get(PROJECTS).get_data(as_text=True)
    assert 'data-mean="75.0"' in board
    assert ">15/30<" in board
    assert ">24/30<" in board
    assert ">28.5/30<" in board


def test_a_judge_sees_nothing_of_others_until_submitting_their_own(
    client, auth, forms, camp
):
    as_judge(auth, "Ann")
    forms.post(review_url(camp), scores("7.25", "13", "Ann-only remark"))
    auth.sign_out()
    as_judge(auth, "Ben")

    for html in (
        client.get(review_url(camp)).get_data(as_text=True),
        client.get(MODULE).get_data(as_text=True),
    ):
        assert "Ann-only remark" not in html
        assert "7.25" not in html
        assert "20.25" not in html
        assert "67.5" not in html
        assert "Ann" not in html
    assert "1 judge has scored this project." in client.get(review_url(camp)).get_data(
        as_text=True
    )

    forms.post(review_url(camp), scores("1", "2", "Ben's remark"))
    after = client.get(review_url(camp)).get_data(as_text=True)
    assert "Ann-only remark" in after
    assert "Ben&#39;s remark" in after
    assert "7.25" in after
    assert "20.25/30" in after
    assert "38.8%" in after  # (67.5 % + 10 %) / 2


def test_only_the_participants_one_has_scored_show_the_mean(client, auth, forms, camp):
    as_judge(auth, "Ann")
    forms.post(review_url(camp, 0), scores())
    forms.post(review_url(camp, 1), scores())
    auth.sign_out()
    as_judge(auth, "Ben")
    forms.post(review_url(camp, 1), scores("4", "8"))

    listing = client.get(MODULE).get_data(as_text=True)
    first = listing[listing.index(f'data-user="{camp.participants[0].id}"') :]
    second = listing[listing.index(f'data-user="{camp.participants[1].id}"') :]

    assert "not scored" in first[: first.index("</tr>")]
    assert "after you score" in first[: first.index("</tr>")]
    assert "60.0%" in second[: second.index("</tr>")]  # (80 % + 40 %) / 2
    index = client.get(INDEX).get_data(as_text=True)
    assert "1 of 3</span> participants" in index


def test_a_judge_revises_their_review_before_publishing(client, auth, forms, camp):
    as_judge(auth, "Ann")
    forms.post(review_url(camp), scores("2", "3", "first"))

    form = client.get(review_url(camp)).get_data(as_text=True)
    assert 'value="2"' in form
    assert "first</textarea>" in form
    response = forms.post(
        review_url(camp), scores("9", "19", "second"), follow_redirects=True
    )

    assert "Your scores for Participant 1 are updated." in response.get_data(
        as_text=True
    )
    assert reviews() == 1
    review = db.session.scalar(select(ProjectReview))
    assert (review.points, review.comment) == (28.0, "second")


# -- Publishing ---------------------------------------------------------------------


def test_publishing_locks_reviews_and_unpublishing_unlocks_them(
    client, auth, forms, camp
):
    ann = as_judge(auth, "Ann")
    forms.post(review_url(camp), scores("2", "3", "Keep going"))
    auth.sign_out()
    make_user(email="olga@example.org", name="Olga", roles=("organiser",))
    auth.sign_in("olga@example.org")
    page = client.get(PROJECTS).get_data(as_text=True)
    assert "Not published" in page
    assert "1 of 3 scored" in page
    assert "Ann" in page
    assert "5/30" in page

    response = forms.post(PROJECTS, {"publish": "on"}, follow_redirects=True)

    assert "Published" in response.get_data(as_text=True)
    alice = camp.participants[0]
    results = judging.published_results(camp.programme, alice)
    assert results["project"].comments[0].label == "Judge 1"
    switch_to(auth, ann.email)
    locked = client.get(review_url(camp)).get_data(as_text=True)
    assert "reviews are locked" in locked
    assert 'id="review-form"' not in locked
    token = forms.token(INDEX)
    refused = client.post(
        review_url(camp), data={**scores("10", "20"), "csrf_token": token}
    )
    assert refused.status_code == 409
    assert "reviews are locked" in refused.get_data(as_text=True)
    assert db.session.scalar(select(ProjectReview.points)) == 5.0

    switch_to(auth, "olga@example.org")
    forms.post(PROJECTS, {"publish": "off"})
    assert judging.published_results(camp.programme, alice) is None
    switch_to(auth, ann.email)
    assert forms.post(review_url(camp), scores("10", "20")).status_code == 302
    assert db.session.scalar(select(ProjectReview.points)) == 30.0


def test_a_bad_publish_value_is_400_and_changes_nothing(client, auth, forms, camp):
    make_user(email="olga@example.org", roles=("organiser",))
    auth.sign_in("olga@example.org")

    assert forms.post(PROJECTS, {"publish": "maybe"}).status_code == 400
    db.session.refresh(camp.programme)
    assert camp.programme.projects_published_at is None
