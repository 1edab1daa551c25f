"""Real concurrency on PostgreSQL: many browsers at once against a threaded server.

The app is served by werkzeug's threaded server on 127.0.0.1, so every request runs
in its own thread with its own database session and connection, as under gunicorn
threads. Every client is a thread with its own cookie jar, signed in on its own
session, and the clients of a race are released together by a
:class:`threading.Barrier`. The candidate is the same person in every browser (tabs,
devices, a double click), so the races are on one attempt.

The server's connections run with a ``lock_timeout`` and a ``statement_timeout``,
so a wait PostgreSQL's deadlock detector cannot see (a request holding a lock
while it waits for something outside the database, such as a pooled connection)
fails a request (a 500) within seconds instead of hanging the run; and every test
checks that PostgreSQL counted no deadlock in the test database while it ran.

PostgreSQL only: SQLite has no row locks (one writer at a time changes the whole
file), so what is tested here, the order the attempt's row lock gives, is
PostgreSQL's.
"""

from __future__ import annotations

import http.cookiejar
import json
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select, text, update
from sqlalchemy.engine import make_url
from werkzeug.serving import make_server

from quizapp.core import clock
from quizapp.core.signals import attempt_finalized
from quizapp.delivery import services
from quizapp.delivery.models import (
    FINALIZED,
    IN_PROGRESS,
    SUBMITTED,
    TIMED_OUT,
    AnswerEvent,
    Attempt,
    AttemptItem,
)
from quizapp.extensions import db
from quizapp.programmes.models import Standing
from tests.conftest import CSRF_INPUT, is_postgres, make_app
from tests.factories import PASSWORD, make_quiz, make_user, right_answers

pytestmark = pytest.mark.skipif(
    not is_postgres(),
    reason="row locks and parallel writers: PostgreSQL only (SQLite has no row "
    "locks: it lets one writer at a time change the whole file)",
)

#: The server's connections say who they are, so a test can wait for them to end.
SERVER_NAME = "quizapp-concurrency-server"
#: A lock wait or a statement longer than this fails the request (a deadlock, or
#: a lock held across far more than one request, would otherwise hang the run).
LOCK_TIMEOUT = "10s"
STATEMENT_TIMEOUT = "20s"
#: Seconds a client waits for one answer.
HTTP_TIMEOUT = 30
EMAIL = "racer@example.org"


# --- the server and its browsers ----------------------------------------------------


@dataclass(frozen=True)
class Server:
    app: Flask
    url: str


@pytest.fixture(scope="module")
def server(database_url: str) -> Iterator[Server]:
    """The app on a threaded server; no grace after a deadline, so the deadline
    races below are decided by the deadline itself."""
    url = make_url(database_url).update_query_dict(
        {
            "application_name": SERVER_NAME,
            "options": f"-c lock_timeout={LOCK_TIMEOUT} "
            f"-c statement_timeout={STATEMENT_TIMEOUT}",
        }
    )
    app = make_app(url.render_as_string(hide_password=False), SAVE_GRACE_SECONDS=0)
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield Server(app, f"http://127.0.0.1:{httpd.server_port}")
    httpd.shutdown()
    thread.join(timeout=5)
    with app.app_context():
        db.engine.dispose()


@dataclass(frozen=True)
class Reply:
    status: int
    location: str
    body: str

    def json(self) -> dict:
        return json.loads(self.body)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """One browser: its own cookie jar (its own session), redirects not followed."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
            _NoRedirects(),
        )
        self.csrf = ""

    def request(
        self, method: str, path: str, form: dict | None = None, body: dict | None = None
    ) -> Reply:
        headers = {}
        data = None
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if body is not None:
            data = json.dumps(body).encode()
            headers |= {"Content-Type": "application/json", "X-CSRFToken": self.csrf}
        request = urllib.request.Request(  # noqa: S310 (http only)
            self.base + path, data=data, headers=headers, method=method
        )
        try:
            with self.opener.open(request, timeout=HTTP_TIMEOUT) as response:
                answer, content = response, response.read().decode()
        except urllib.error.HTTPError as error:  # 3xx (not followed), 4xx, 5xx
            answer, content = error, error.read().decode()
        location = answer.headers.get("Location", "")
        return Reply(answer.status, urllib.parse.urlsplit(location).path, content)

    def get(self, path: str) -> Reply:
        return self.request("GET", path)

    def post_form(self, path: str, form: dict | None = None) -> Reply:
        return self.request(
            "POST", path, form={**(form or {}), "csrf_token": self.csrf}
        )

    def sign_in(self, email: str, then: str = "/") -> Browser:
        """Sign in, then read the session's CSRF token from ``then``."""
        form = {"email": email, "password": PASSWORD}
        self.csrf = self._token("/sign-in")
        signed_in = self.post_form("/sign-in", form)
        assert signed_in.status == 302, signed_in.body[:300]
        self.csrf = self._token(then)
        return self

    def save(self, attempt_id: int, position: int, body: dict) -> Reply:
        return self.request(
            "POST", f"/api/attempts/{attempt_id}/answers/{position}", body=body
        )

    def _token(self, path: str) -> str:
        page = self.get(path)
        match = CSRF_INPUT.search(page.body)
        assert match, f"no CSRF token on {path} ({page.status})"
        return match.group(1)


def browsers(server: Server, count: int, then: str = "/") -> list[Browser]:
    """``count`` browsers, each signed in as the candidate on its own session."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(
            pool.map(lambda _: Browser(server.url).sign_in(EMAIL, then), range(count))
        )


def together(works: list[Callable[[], object]], join_timeout: float = 60) -> list:
    """Run each of ``works`` in its own thread, released at the same moment; what
    each returned, in order (or the exception it raised)."""
    barrier = threading.Barrier(len(works))
    results: list[object] = [None] * len(works)

    def run(index: int) -> None:
        barrier.wait(timeout=join_timeout)
        try:
            results[index] = works[index]()
        except Exception as exc:  # the test asserts on what was raised
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(works))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=join_timeout)
    assert not any(thread.is_alive() for thread in threads), "a client never returned"
    return results


# --- what every test checks ---------------------------------------------------------


def _deadlocks() -> int:
    db.session.execute(text("SELECT pg_stat_clear_snapshot()"))
    return db.session.execute(
        text(
            "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"
        )
    ).scalar_one()


def _server_connections_closed(server: Server) -> None:
    """Close the server's pooled connections and wait until their backends are
    gone: a backend reports its statistics (deadlocks among them) as it exits."""
    with server.app.app_context():
        db.engine.dispose()
    for _ in range(200):
        left = db.session.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = :name"
                " AND datname = current_database()"
            ),
            {"name": SERVER_NAME},
        ).scalar_one()
        db.session.rollback()
        if not left:
            return
        time.sleep(0.01)
    pytest.fail(f"{left} server connections did not close")


@pytest.fixture(autouse=True)
def no_deadlock(app, server) -> Iterator[None]:
    """PostgreSQL counts no deadlock in the test database during the test."""
    _server_connections_closed(server)
    before = _deadlocks()
    db.session.rollback()
    yield
    _server_connections_closed(server)
    assert _deadlocks() == before, "PostgreSQL detected a deadlock"
    db.session.rollback()


@pytest.fixture
def finalizations() -> Iterator[Counter]:
    """How many times each attempt was announced as finalized (``attempt_finalized``
    is what standings and bootcamp progress follow)."""
    counts: Counter = Counter()
    lock = threading.Lock()

    def count(sender, attempt, **extra) -> None:
        with lock:
            counts[attempt.id] += 1

    attempt_finalized.connect(count, weak=False)
    yield counts
    attempt_finalized.disconnect(count)


def fresh(model, object_id):
    """The row as committed now (the threads wrote it, not this session)."""
    db.session.expire_all()
    return db.session.get(model, object_id)


def started(browser: Browser, slug: str) -> int:
    reply = browser.post_form(f"/quizzes/{slug}/start")
    assert reply.status == 302, reply.body[:300]
    return int(re.fullmatch(r"/attempts/(\d+)/q/1", reply.location).group(1))


# --- the races ----------------------------------------------------------------------

#: The quiz of the save race: two free-text positions (every save a distinct value,
#: so each 200 can be found among the history) and two choice positions.
SAVE_KEYS = ("text-activation", "numeric-product", "single-capital", "tf-sky")


def save_plan(index: int) -> tuple[int, dict]:
    """Save number ``index`` of the 50: its position and JSON body. Positions 1
    and 2 take a distinct text per save, with the flag set, cleared, and every
    third time left out (it must then stay as the save before left it); 3 and 4
    repeat values and always send the flag."""
    position, turn = 1 + index % 4, index // 4
    if position <= 2:
        body: dict = {"response": f"answer {index}"}
        if turn % 3 != 2:
            body["flagged"] = turn % 2 == 0
    elif position == 3:
        body = {"response": turn % 3, "flagged": turn % 2 == 0}
    else:
        body = {"response": turn % 2 == 0, "flagged": turn % 3 == 0}
    return position, body


def test_fifty_parallel_saves_keep_the_last_committed_answer_per_question(
    app, server, tmp_path
):
    """50 saves from 50 sessions at once, over four questions.

    *Last* means the answer event with the highest id for the position: a save
    takes its event's id from the sequence while it holds the attempt's row lock,
    and the lock is held until its commit, so id order is commit order (and the
    events' times, read under the lock, never go back in that order). Each item
    must hold exactly what its last event holds, there is one event per 200, and
    a save that leaves the flag out keeps the flag the save before it left.
    """
    make_quiz(tmp_path, shuffle=False, keys=SAVE_KEYS)
    make_user(email=EMAIL)
    clients = browsers(server, 50)
    attempt_id = started(clients[0], "every-type-quiz")
    plans = [save_plan(i) for i in range(50)]

    replies = together(
        [
            lambda c=c, p=p: c.save(attempt_id, p[0], p[1])
            for c, p in zip(clients, plans, strict=True)
        ]
    )

    assert [r.status for r in replies] == [200] * 50, [
        (r.status, r.body[:200]) for r in replies if r.status != 200
    ]
    assert all(r.json()["saved"] is True for r in replies)
    events = db.session.scalars(
        select(AnswerEvent)
        .where(AnswerEvent.attempt_id == attempt_id)
        .order_by(AnswerEvent.id)
    ).all()
    sent = Counter((p, json.dumps(b["response"])) for p, b in plans)
    stored = Counter((e.position, json.dumps(e.response)) for e in events)
    assert stored == sent  # one history entry per 200, none lost, none doubled
    assert [e.at for e in events] == sorted(e.at for e in events)
    body_of = {b["response"]: b for p, b in plans if p <= 2}
    flag_before = {position: False for position in range(1, 5)}
    for event in events:
        body = body_of.get(event.response) if event.position <= 2 else None
        if body is not None and "flagged" not in body:
            assert event.is_flagged == flag_before[event.position], (
                f"save {event.response!r} left the flag out, yet changed it"
            )
        flag_before[event.position] = event.is_flagged
    items = db.session.scalars(
        select(AttemptItem).where(AttemptItem.attempt_id == attempt_id)
    ).all()
    last = {e.position: e for e in events}
    assert {i.position: (i.response, i.is_flagged, i.saved_at) for i in items} == {
        p: (e.response, e.is_flagged, e.at) for p, e in last.items()
    }


def test_parallel_starts_make_one_attempt_and_every_press_leads_to_it(
    app, server, tmp_path
):
    """20 presses of Start at once (double clicks, tabs): one attempt, with one
    set of questions, and every press is sent to its first question."""
    make_quiz(tmp_path, shuffle=False, keys=SAVE_KEYS)
    make_user(email=EMAIL)
    clients = browsers(server, 20, then="/quizzes/every-type-quiz")

    replies = together(
        [lambda c=c: c.post_form("/quizzes/every-type-quiz/start") for c in clients]
    )

    attempts = db.session.scalars(select(Attempt)).all()
    assert len(attempts) == 1
    (attempt,) = attempts
    assert [r.status for r in replies] == [302] * 20, [r.body[:200] for r in replies]
    assert {r.location for r in replies} == {f"/attempts/{attempt.id}/q/1"}
    # The starts that lost kept none of the questions they drew.
    assert db.session.scalar(select(func.count()).select_from(AttemptItem)) == 4
    pages = [c.get(r.location) for c, r in zip(clients, replies, strict=True)]
    assert {p.status for p in pages} == {200}
    assert all("Question 1 of 4" in p.body for p in pages), pages[0].body[:2000]


SUBMITTED_NOW = "Your answers are submitted."
ALREADY = "This attempt has already been submitted."


def test_parallel_submits_grade_the_attempt_once(app, server, tmp_path, finalizations):
    """20 tabs press Submit at once: one grades the attempt (one announcement, so
    one standing), each is sent to the result, and the page says which did."""
    quiz = make_quiz(tmp_path, shuffle=False, keys=SAVE_KEYS)
    user_id = make_user(email=EMAIL).id
    clients = browsers(server, 20)
    attempt_id = started(clients[0], quiz.slug)
    assert clients[0].save(attempt_id, 3, {"response": 1}).status == 200  # Paris

    replies = together(
        [lambda c=c: c.post_form(f"/attempts/{attempt_id}/submit") for c in clients]
    )

    result = f"/attempts/{attempt_id}/result"
    assert [(r.status, r.location) for r in replies] == [(302, result)] * 20
    said = Counter(
        next((m for m in (SUBMITTED_NOW, ALREADY) if m in page.body), page.body[:300])
        for page in (c.get(result) for c in clients)
    )
    assert said == {SUBMITTED_NOW: 1, ALREADY: 19}
    attempt = fresh(Attempt, attempt_id)
    assert (attempt.status, attempt.finish_reason) == (FINALIZED, SUBMITTED)
    assert attempt.score == 1.0
    assert finalizations == {attempt_id: 1}
    standings = db.session.scalars(select(Standing)).all()
    assert [(s.user_id, s.attempt_id, s.score, s.attempts) for s in standings] == [
        (user_id, attempt_id, 1.0, 1)
    ]


#: The deadline race: saves per round, and rounds.
SAVES_PER_ROUND = 8
ROUNDS = 20


@dataclass
class Round:
    attempt_id: int
    deadline: datetime
    #: The position each save wrote, and what the server answered it.
    positions: list[int]
    replies: list[Reply]
    #: What the sweep said.
    swept: str

    def kept(self) -> list[int]:
        return [
            p
            for p, r in zip(self.positions, self.replies, strict=True)
            if r.status == 200
        ]


def race_the_deadline(
    server: Server, clients: list[Browser], user, quiz, in_time: int, move_to
) -> Round:
    """Start an attempt and release its saves (one right answer each, all at
    once, so they queue on the attempt's lock) with the sweep. As soon as
    ``in_time`` of them have been answered, the sweep moves the (frozen) clock
    just past the deadline, while the others are still being served, and runs
    ``flask attempts finalize-expired``."""
    attempt = services.start_attempt(user, quiz, clock.now())
    right = right_answers(attempt)
    attempt_id, deadline = attempt.id, attempt.deadline_at
    db.session.commit()
    positions = [1 + n % len(right) for n in range(len(clients))]
    answered = threading.Semaphore(0)

    def save(n: int) -> Reply:
        reply = clients[n].save(
            attempt_id, positions[n], {"response": right[positions[n]]}
        )
        answered.release()
        return reply

    def sweep() -> str:
        for _ in range(in_time):
            assert answered.acquire(timeout=HTTP_TIMEOUT)
        move_to(deadline + timedelta(milliseconds=1))
        return (
            server.app.test_cli_runner()
            .invoke(args=["attempts", "finalize-expired"])
            .output
        )

    *replies, swept = together(
        [lambda n=n: save(n) for n in range(len(clients))] + [sweep]
    )
    assert isinstance(swept, str), swept
    return Round(attempt_id, deadline, positions, replies, swept)


def test_the_expiry_sweep_racing_saves_at_the_deadline_grades_what_was_stored(
    app, server, tmp_path, finalizations
):
    """Each round, saves of right answers race the deadline and the expiry sweep
    (the clock jumps past the deadline while some are still being served). Every
    save is either stored before the attempt was finalized and counted in its
    score, or refused with a 409 saying time is up; nothing is stored after the
    grade, and the attempt is graded once, at its deadline.

    (A late autosave used to grade the attempt with its own copy of its question,
    read before the lock was granted: an in-time save of that question committed
    meanwhile was stored but scored 0.)"""
    quiz = make_quiz(tmp_path, shuffle=False, keys=SAVE_KEYS, attempts=0)
    user = make_user(email=EMAIL)
    clients = browsers(server, SAVES_PER_ROUND)
    outcomes: Counter = Counter()
    with clock.frozen(clock.now()) as move_to:
        for round_ in range(ROUNDS):
            in_time = 1 + round_ % (SAVES_PER_ROUND - 1)
            race = race_the_deadline(server, clients, user, quiz, in_time, move_to)

            assert {r.status for r in race.replies} <= {200, 409}, [
                (r.status, r.body[:300]) for r in race.replies
            ]
            for reply in race.replies:
                if reply.status == 409:
                    assert reply.json()["error"]["message"].startswith("Time is up")
            attempt = fresh(Attempt, race.attempt_id)
            assert (attempt.status, attempt.finish_reason) == (FINALIZED, TIMED_OUT)
            assert attempt.finished_at == race.deadline
            assert finalizations[attempt.id] == 1
            events = db.session.scalars(
                select(AnswerEvent).where(AnswerEvent.attempt_id == attempt.id)
            ).all()
            assert Counter(e.position for e in events) == Counter(race.kept())
            assert all(e.at <= race.deadline for e in events)
            kept = set(race.kept())
            assert {i.position: i.score for i in attempt.items} == {
                i.position: i.points if i.position in kept else 0.0
                for i in attempt.items
            }
            assert attempt.score == sum(
                i.points for i in attempt.items if i.position in kept
            )
            outcomes.update(r.status for r in race.replies)
            outcomes["in flight, kept"] += len(race.kept()) - in_time
            outcomes["swept"] += race.swept == "Finalized 1 expired attempt.\n"
    # The race was run: saves still in flight at the deadline were refused.
    assert outcomes[409] > 0, outcomes


CANDIDATES_AT_CLOSE = 30


def test_closing_the_window_while_the_sweep_runs_does_not_deadlock(
    app, server, tmp_path, finalizations
):
    """An organiser presses "Close now" on a quiz while ``flask attempts
    finalize-expired`` finalizes its expired attempts: closing re-times every
    running attempt of the quiz, the sweep finalizes them, each locking the
    attempts' rows one by one in one transaction. Both must lock them in the same
    order (by id) or they wait for each other."""
    quiz = make_quiz(tmp_path, shuffle=False, keys=SAVE_KEYS)
    make_user(email="org@example.org", roles=("organiser",))
    candidates = [make_user() for _ in range(CANDIDATES_AT_CLOSE)]
    started_at = clock.now() - timedelta(minutes=20)  # the 10 minutes are up
    # The last candidate starts first: ids of attempts and of candidates run in
    # opposite orders, so the quiz's running attempts, read by candidate (the
    # index on quiz, status, user) or as stored, do not come by attempt id.
    for candidate in reversed(candidates):
        services.start_attempt(candidate, quiz, started_at)
        db.session.commit()
    ids = db.session.scalars(select(Attempt.id).order_by(Attempt.id)).all()
    for attempt_id in reversed(ids):
        db.session.execute(
            update(Attempt).where(Attempt.id == attempt_id).values(last_ip="10.0.0.9")
        )
    db.session.commit()
    running = select(Attempt.id).where(
        Attempt.quiz_id == quiz.id, Attempt.status == IN_PROGRESS
    )
    scanned = db.session.scalars(running).all()
    assert scanned != sorted(scanned)  # else this test would prove nothing
    window = f"/organise/quizzes/{quiz.slug}/window"
    organiser = Browser(server.url).sign_in("org@example.org", then=window)
    runner = server.app.test_cli_runner()

    closed, swept = together(
        [
            lambda: organiser.request(
                "POST",
                window,
                form={
                    "form": "quick",
                    "quick-csrf_token": organiser.csrf,
                    "quick-action": "close",
                },
            ),
            lambda: runner.invoke(args=["attempts", "finalize-expired"]),
        ]
    )

    assert (closed.status, closed.location) == (302, window), closed.body[:500]
    assert swept.exception is None, swept.output
    assert swept.output == f"Finalized {CANDIDATES_AT_CLOSE} expired attempts.\n"
    assert finalizations == {attempt_id: 1 for attempt_id in ids}
