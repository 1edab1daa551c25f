"""The regrade pages: who may use them, the dry run, applying it from the form
(once, twice, out of date) and the candidate's result after a regrade."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from quizapp.accounts.models import Role, User
from quizapp.banks import sync
from quizapp.banks.models import Question, Quiz
from quizapp.core import clock
from quizapp.core.audit import AuditEvent
from quizapp.delivery import regrade, services
from quizapp.delivery.models import Attempt
from quizapp.extensions import db
from tests.conftest import CSRF_INPUT
from tests.factories import EVERY_TYPE_BANK, make_quiz, make_user, right_answers
from tests.web.delivery.test_races import in_parallel

INDEX = "/staff/quizzes/every-type-quiz/regrade"
DIGEST_INPUT = re.compile(r'name="digest"[^>]*value="([0-9a-f]{64})"')
#: single-capital's canonical choices: Lyon, Paris (the key), Marseille.
LYON, PARIS, MARSEILLE = 0, 1, 2
#: Answered right besides single-capital: 3 of 8 points, below the 50% pass mark.
RIGHT = ("tf-sky", "text-activation", "ordering-pipeline")


def finished(quiz, capital_answer: int, name: str, email: str | None = None):
    """A submitted attempt: RIGHT answered right, single-capital with
    ``capital_answer``, the rest not answered."""
    user = make_user(email=email, name=name)
    attempt = services.start_attempt(user, quiz, clock.now(), "10.0.0.1", "FF")
    origin = services.Origin("form")
    for position, response in right_answers(attempt).items():
        item = services.item_at(attempt, position)
        key = item.version.question.key
        if key == "single-capital":
            services.save_response(attempt, item, capital_answer, clock.now(), origin)
        elif key in RIGHT:
            services.save_response(attempt, item, response, clock.now(), origin)
    services.submit_attempt(attempt, clock.now())
    db.session.commit()
    return attempt


def fix_key(tmp_path: Path, correct: str) -> None:
    """Import the every-type bank with ``correct`` as single-capital's key."""
    folder = tmp_path / f"fixed-{correct}"
    shutil.copytree(EVERY_TYPE_BANK, folder)
    bank = folder / "every-type" / "bank.yaml"
    text = bank.read_text().replace(
        "        correct: true\n        feedback: Right.\n", ""
    )
    text = text.replace(
        f"      - text: {correct}\n",
        f"      - text: {correct}\n        correct: true\n",
    )
    bank.write_text(text)
    _, problems = sync.import_paths([folder])
    assert not problems, [str(p) for p in problems]
    db.session.commit()


@pytest.fixture
def quiz(app, tmp_path):
    """A quiz with three finished attempts, then single-capital's key moved from
    Paris to Lyon (version 2)."""
    quiz = make_quiz(tmp_path)
    make_quiz(tmp_path, slug="other-quiz", keys=("tf-sky",))
    finished(quiz, LYON, "Lea Lyon", "lea@example.org")
    finished(quiz, PARIS, "Paul Paris")
    finished(quiz, MARSEILLE, "Mona Marseille")
    fix_key(tmp_path, "Lyon")
    return quiz


@pytest.fixture
def capital(quiz) -> Question:
    return db.session.scalar(select(Question).where(Question.key == "single-capital"))


def sign_in_as(auth, role: str) -> None:
    make_user(email=f"{role}@example.org", roles=(role,))
    auth.sign_in(f"{role}@example.org")


def dry_run_url(question: Question, slug: str = "every-type-quiz") -> str:
    return f"/staff/quizzes/{slug}/regrade/{question.id}"


def apply_from_page(client, url: str):
    """Post the form of the dry run as shown: its CSRF token and digest."""
    page = client.get(url).get_data(as_text=True)
    data = {
        "csrf_token": CSRF_INPUT.search(page).group(1),
        "digest": DIGEST_INPUT.search(page).group(1),
    }
    return client.post(url, data=data)


def scores() -> dict[str, tuple[float, bool | None]]:
    db.session.expire_all()
    return {
        a.user.name: (a.score, a.passed) for a in db.session.scalars(select(Attempt))
    }


# --- who -------------------------------------------------------------------------


def test_candidates_may_not_regrade(client, auth, forms, capital):
    auth.sign_in("lea@example.org")

    assert client.get(INDEX).status_code == 403
    assert client.get(dry_run_url(capital)).status_code == 403
    posted = forms.post(dry_run_url(capital), {"digest": "0" * 64}, page="/")
    assert posted.status_code == 403
    assert scores()["Lea Lyon"] == (3.0, False)


def test_anonymous_visitors_are_sent_to_sign_in(client, capital):
    response = client.get(dry_run_url(capital))

    assert response.status_code == 302
    assert "/sign-in" in response.location


@pytest.mark.parametrize("role", [Role.instructor, Role.organiser, Role.admin])
def test_staff_see_the_questions_to_regrade_and_the_dry_run(
    client, auth, capital, role
):
    sign_in_as(auth, role)

    index = client.get(INDEX).get_data(as_text=True)
    dry_run = client.get(dry_run_url(capital)).get_data(as_text=True)

    assert "every-type/single-capital" in index
    assert dry_run_url(capital) in index
    assert '<dd class="col-sm-8" id="count-attempts">3</dd>' in dry_run
    assert '<dd class="col-sm-8" id="count-changed">2</dd>' in dry_run
    assert '<dd class="col-sm-8" id="count-now-passing">1</dd>' in dry_run
    assert '<dd class="col-sm-8" id="count-no-longer-passing">1</dd>' in dry_run
    assert "Lea Lyon" in dry_run
    assert "Paul Paris" in dry_run
    assert "Mona Marseille" not in dry_run  # her score does not change
    assert "now passes" in dry_run
    assert "no longer passes" in dry_run
    assert DIGEST_INPUT.search(dry_run)
    assert scores()["Lea Lyon"] == (3.0, False)  # the dry run wrote nothing


@pytest.mark.parametrize(
    "url",
    [
        "/staff/quizzes/every-type-quiz/regrade/999999",
        "/staff/quizzes/no-such-quiz/regrade",
        "/staff/quizzes/no-such-quiz/regrade/{id}",
        "/staff/quizzes/other-quiz/regrade/{id}",  # single-capital is not in it
    ],
)
def test_an_unknown_question_or_one_not_in_the_quiz_is_404(client, auth, capital, url):
    sign_in_as(auth, Role.instructor)

    assert client.get(url.format(id=capital.id)).status_code == 404


def test_a_question_without_a_newer_version_has_nothing_to_regrade(client, auth, quiz):
    sign_in_as(auth, Role.instructor)
    sky = db.session.scalar(select(Question).where(Question.key == "tf-sky"))

    index = client.get(INDEX).get_data(as_text=True)
    page = client.get(dry_run_url(sky)).get_data(as_text=True)

    assert "every-type/tf-sky" not in index
    assert 'id="nothing-to-regrade"' in page
    assert DIGEST_INPUT.search(page) is None


# --- applying ----------------------------------------------------------------------


def test_posting_the_dry_run_applies_it_and_says_so(client, auth, capital):
    sign_in_as(auth, Role.instructor)

    response = apply_from_page(client, dry_run_url(capital))

    assert response.status_code == 302
    assert response.location.endswith(INDEX)
    page = client.get(response.location).get_data(as_text=True)
    assert "Regraded every-type/single-capital against version 2 in 3" in page
    assert "1 now pass, 1 no longer pass" in page
    assert "Nothing to regrade" in page  # the list is empty now
    assert scores() == {
        "Lea Lyon": (4.0, True),
        "Paul Paris": (3.0, False),
        "Mona Marseille": (3.0, False),
    }
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == regrade.REGRADED)
    )
    assert event.actor.email == "instructor@example.org"
    # Past regrades: who, which question, which versions.
    assert f"<td>{event.actor.name}</td><td>every-type/single-capital</td>" in page
    assert "v1 → v2" in page


def test_a_double_post_changes_nothing_the_second_time(client, auth, quiz, capital):
    sign_in_as(auth, Role.organiser)
    url = dry_run_url(capital)
    page = client.get(url).get_data(as_text=True)
    data = {
        "csrf_token": CSRF_INPUT.search(page).group(1),
        "digest": DIGEST_INPUT.search(page).group(1),
    }

    first = client.post(url, data=data)
    after_first = scores()
    second = client.post(url, data=data)

    assert (first.status_code, second.status_code) == (302, 302)
    assert "Nothing to regrade" in client.get(second.location).get_data(as_text=True)
    assert scores() == after_first
    assert len(regrade.regrades_of(quiz)) == 1


def test_an_out_of_date_dry_run_is_refused_and_shown_again(
    client, auth, tmp_path, quiz, capital
):
    sign_in_as(auth, Role.admin)
    url = dry_run_url(capital)
    page = client.get(url).get_data(as_text=True)
    old_digest = DIGEST_INPUT.search(page).group(1)
    fix_key(tmp_path, "Marseille")  # another fix meanwhile: version 3

    response = client.post(
        url,
        data={"csrf_token": CSRF_INPUT.search(page).group(1), "digest": old_digest},
    )

    body = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "changed since this dry run was shown" in body
    assert "v1 → v3" in body
    assert DIGEST_INPUT.search(body).group(1) != old_digest
    assert scores()["Lea Lyon"] == (3.0, False)
    assert regrade.regrades_of(quiz) == []


def test_a_post_without_a_digest_is_refused(client, auth, forms, capital):
    sign_in_as(auth, Role.instructor)

    response = forms.post(dry_run_url(capital), {})

    assert response.status_code == 400
    assert scores()["Lea Lyon"] == (3.0, False)


# --- what candidates see -----------------------------------------------------------


def test_a_candidate_sees_the_regraded_score_on_their_result(
    client, auth, quiz, capital
):
    lea = db.session.scalar(
        select(Attempt.id).join(User).where(User.email == "lea@example.org")
    )
    result = f"/attempts/{lea}/result"
    auth.sign_in("lea@example.org")
    before = client.get(result).get_data(as_text=True)

    regrade.apply_regrade(quiz, capital, None, expected=None)
    db.session.commit()
    after = client.get(result).get_data(as_text=True)

    assert '<p class="display-6 mb-0" id="score">3 / 8</p>' in before
    assert '<p class="display-6 mb-0" id="score">4 / 8</p>' in after


# --- races -----------------------------------------------------------------------


def test_parallel_applies_regrade_once(app, quiz, capital):
    quiz_id, question_id = quiz.id, capital.id
    digest = regrade.plan_regrade(quiz, capital).digest
    db.session.rollback()

    def apply() -> int:
        plan = regrade.apply_regrade(
            db.session.get(Quiz, quiz_id),
            db.session.get(Question, question_id),
            None,
            expected=digest,
        )
        return len(plan.attempts)

    results = in_parallel(app, [apply] * 3)

    assert sorted(results) == [0, 0, 3], results
    assert len(regrade.regrades_of(quiz)) == 1
    assert scores()["Lea Lyon"] == (4.0, True)
