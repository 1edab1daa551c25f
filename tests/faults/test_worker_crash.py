"""A gunicorn worker killed with SIGKILL in the middle of a stream of autosaves.

gunicorn with two workers (deploy/gunicorn.conf.py) on the test run's PostgreSQL;
one candidate saves a distinct answer at a time, as fast as the server answers.
Twice during the stream the worker that is serving a save (it holds the accepted
connection) is killed before the answer is read. The client then does what
attempt.js does with a failed save: it keeps the answer and sends it again, with
backoff, until it is acknowledged.

A save the server answered 200 was committed, so every one is in the answer
history, and each question's stored answer is the last one acknowledged; the killed
saves either never committed (PostgreSQL rolled their transaction back when the
connection dropped) or committed and were sent again, which stores the same answer
twice. The master replaces each killed worker.
"""

from __future__ import annotations

import http.client
import time

import pytest
from sqlalchemy import select

from quizapp.delivery.models import IN_PROGRESS, AnswerEvent, Attempt
from quizapp.extensions import db
from tests.conftest import is_postgres
from tests.factories import make_quiz, make_user
from tests.faults.candidate import Candidate
from tests.processes import gunicorn, kill

pytestmark = [
    pytest.mark.faults,
    pytest.mark.skipif(
        not is_postgres(),
        reason="gunicorn workers share a database server: runs in the PostgreSQL "
        "pass of scripts/run_tests.py",
    ),
]

SAVES = 80
KILL_AT = (20, 50)  # saves acknowledged before each kill
WORKERS = 2


def save_until_acknowledged(candidate, attempt_id, position, answer, kill_worker=None):
    """Send one answer until the server acknowledges it, backing off as attempt.js
    does (its delays are 1 s doubling to 15 s; here 50 ms doubling, to stay fast).

    :param kill_worker: called once the first try is sent, before its answer is
        read; returns whether it killed the worker serving it.
    :return: ``(the 200 reply, how many tries failed, whether a kill hit a save in
        flight)``
    """
    delay, failures, hit = 0.05, 0, False
    while True:
        connection = candidate.send_answer(attempt_id, position, answer)
        if kill_worker is not None:
            hit, kill_worker = kill_worker(), None
        try:
            reply = candidate.receive(connection)
        except (OSError, http.client.HTTPException):
            reply = None
        if reply is not None and reply.status == 200:
            return reply, failures, hit
        assert reply is None or reply.status >= 500, (reply.status, reply.body)
        failures += 1
        assert failures < 12, "the save was never acknowledged"
        time.sleep(delay)
        delay = min(delay * 2, 1.0)


def test_a_killed_worker_loses_no_acknowledged_save(app, database_url, tmp_path):
    make_user(email="grace@example.org")
    make_quiz(
        tmp_path,
        "crash",
        time_limit="30m",
        shuffle=False,
        keys=("text-activation", "numeric-product"),
    )
    db.session.remove()
    with gunicorn(database_url, tmp_path, workers=WORKERS) as server:
        first_workers = server.wait_for_workers(WORKERS)
        candidate = Candidate(server.url)
        candidate.sign_in("grace@example.org")
        attempt_id = candidate.start("crash")

        killed: list[int] = []

        def kill_busy_worker() -> bool:
            pid = server.busy_worker()
            if pid is None:  # the save was answered before it could be caught
                return False
            kill(pid)
            killed.append(pid)
            return True

        acknowledged: list[tuple[int, str, str]] = []  # (position, answer, saved_at)
        kills_due = list(KILL_AT)
        failed_tries = 0
        for n in range(SAVES):
            position, answer = 1 + n % 2, f"answer {n}"
            # Kill the worker serving this save; if it had already answered, the
            # next save's.
            killing = bool(kills_due) and len(acknowledged) >= kills_due[0]
            reply, failures, hit = save_until_acknowledged(
                candidate,
                attempt_id,
                position,
                answer,
                kill_busy_worker if killing else None,
            )
            if hit and failures:
                kills_due.pop(0)
            failed_tries += failures
            acknowledged.append((position, answer, reply.json()["saved_at"]))
        replaced = server.wait_for_workers(WORKERS)
        log = server.log.read_text()

    assert not kills_due, f"a kill did not catch a save in flight (killed {killed})"
    assert failed_tries >= len(KILL_AT)
    # The master replaced every killed worker.
    assert len(killed) >= len(KILL_AT)
    assert not set(killed) & replaced
    assert len(replaced) == WORKERS
    assert replaced != first_workers
    assert "SIGKILL" in log
    events = db.session.execute(
        select(AnswerEvent.position, AnswerEvent.response, AnswerEvent.at).where(
            AnswerEvent.attempt_id == attempt_id
        )
    ).all()
    attempt = db.session.get(Attempt, attempt_id)
    stored = {item.position: item.response for item in attempt.items}
    assert attempt.status == IN_PROGRESS
    history = {(position, answer, at.isoformat()) for position, answer, at in events}
    assert set(acknowledged) <= history  # every acknowledged save has its entry
    # At most the killed saves were stored twice (committed, then sent again).
    assert len(acknowledged) <= len(events) <= len(acknowledged) + len(killed)
    last = {position: answer for position, answer, _ in acknowledged}
    assert stored == last == {1: f"answer {SAVES - 2}", 2: f"answer {SAVES - 1}"}
