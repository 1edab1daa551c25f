"""A deadline that passes while PostgreSQL is down.

What we hold to be right, and what this test checks, with gunicorn on a private
cluster that the test stops and starts:

- During the outage nothing can be stored: a save is answered 503 with a JSON
  message (the page keeps the answer and sends it again), a page with a plain
  "try again" page, and ``flask attempts finalize-expired`` (the systemd timer)
  fails without changing anything.
- The deadline passes while the database is down. Nobody could finalize the
  attempt then, and nothing the candidate sent after the outage began was stored.
- The database returns within SAVE_GRACE_SECONDS of the deadline. A save that
  reaches the server then, with the database back, is accepted and counted, like
  any save in flight at the deadline: the grace period runs from the deadline, the
  outage does not extend it. ``finalize-expired`` leaves the attempt open while
  the grace period lasts.
- Once the deadline plus the grace has passed, ``finalize-expired`` finalizes the
  attempt as timed out, its finish time the deadline and its score from the
  answers saved before the outage plus the one saved within the grace; a save
  after that is refused with the "time is up" answer (409) and not stored.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from quizapp.delivery.models import FINALIZED, TIMED_OUT, AnswerEvent, Attempt
from quizapp.extensions import db
from tests.factories import make_quiz, make_user, right_answers
from tests.faults.candidate import Candidate
from tests.processes import gunicorn

pytestmark = pytest.mark.faults

GRACE = timedelta(seconds=5)  # SAVE_GRACE_SECONDS's default, which the server uses
UNAVAILABLE = (
    "The service is unavailable for a moment and nothing was saved. Try again in a "
    "few seconds."
)


def sleep_until(moment: datetime) -> None:
    time.sleep(max(0.0, (moment - datetime.now(UTC)).total_seconds()))


def finalize_expired(app) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["attempts", "finalize-expired"])
    db.session.remove()
    return result.exit_code, result.output


def test_a_deadline_during_an_outage_counts_what_was_saved_and_the_grace(
    outage, tmp_path
):
    make_user(email="ada@example.org")
    make_quiz(
        tmp_path,
        "outage-deadline",
        time_limit="3s",
        shuffle=False,
        keys=("single-capital", "tf-sky", "text-activation"),
    )
    db.session.remove()
    with gunicorn(outage.url, tmp_path) as server:
        candidate = Candidate(server.url)
        candidate.sign_in("ada@example.org")
        attempt_id = candidate.start("outage-deadline")
        attempt = db.session.get(Attempt, attempt_id)
        answers, deadline = right_answers(attempt), attempt.deadline_at
        db.session.remove()

        before = [candidate.save(attempt_id, p, answers[p]).status for p in (1, 2)]
        outage.cluster.stop()
        during = candidate.save(attempt_id, 3, answers[3])
        page = candidate.get(f"/attempts/{attempt_id}/q/3")
        finalize_during = finalize_expired(outage.app)
        sleep_until(deadline + timedelta(seconds=0.2))
        outage.cluster.start()
        within_grace = candidate.save(attempt_id, 3, answers[3])
        back_at = datetime.now(UTC)
        finalize_within_grace = finalize_expired(outage.app)
        sleep_until(deadline + GRACE + timedelta(seconds=0.2))
        finalize_after_grace = finalize_expired(outage.app)
        late = candidate.save(attempt_id, 1, 0)  # Lyon: a wrong answer

    assert before == [200, 200]
    assert during.status == 503
    assert during.json()["error"]["message"] == UNAVAILABLE
    assert page.status == 503
    assert '<h1 class="h3">Service unavailable</h1>' in page.body
    assert finalize_during[0] == 1
    assert finalize_during[1].startswith("Error: the database cannot be reached")
    assert "nothing was finalized" in finalize_during[1]
    assert "Traceback" not in finalize_during[1]
    assert back_at < deadline + GRACE, "the database came back too late to test"
    assert within_grace.status == 200, within_grace.body
    assert within_grace.json()["remaining_seconds"] == 0
    assert finalize_within_grace == (0, "Finalized 0 expired attempts.\n")
    assert finalize_after_grace == (0, "Finalized 1 expired attempt.\n")
    assert late.status == 409
    assert late.json()["error"]["message"] == (
        "Time is up: this answer arrived after the deadline and was not saved. "
        "Your saved answers were submitted."
    )
    attempt = db.session.get(Attempt, attempt_id)
    assert attempt.status == FINALIZED
    assert attempt.finish_reason == TIMED_OUT
    assert attempt.finished_at == deadline
    assert [item.response for item in attempt.items] == [
        answers[1],
        answers[2],
        answers[3],
    ]
    assert attempt.score == attempt.max_score == 3
    saves = db.session.scalar(
        select(func.count())
        .select_from(AnswerEvent)
        .where(AnswerEvent.attempt_id == attempt_id)
    )
    assert saves == 3  # the two before, the one within the grace
