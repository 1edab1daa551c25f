"""The intake load scenario for Locust: candidates take the screening quiz while a few
organisers watch. Run by :mod:`bench.load`, which seeds the accounts first
(:mod:`bench.load_seed`) and reads what this file writes when the run stops.

    BENCH_LOAD_OUT=out.json BENCH_LOAD_FIRST=1 BENCH_LOAD_CANDIDATES=1000 \\
        locust -f bench/locustfile.py --headless -u 1003 -r 16.7 \\
        --host http://127.0.0.1:8000 CandidateUser OrganiserUser

A :class:`Candidate` plays one seeded account, once, from sign-in to submit:

1. ``GET /sign-in``, ``POST /sign-in`` (the real password hash: one Argon2 verify)
   and the dashboard, as candidates arrive before the window opens (the spawn rate);
2. at a random moment within ``BENCH_LOAD_START_WINDOW`` seconds after
   ``BENCH_LOAD_OPENS_AT`` (epoch seconds; unset: at once), the quiz's intro page and
   ``POST .../start``: the *start spike*;
3. for every question: open its page (the navigation), think, save a valid answer
   through the JSON autosave endpoint, and for one question in three think again
   and save a changed answer (a typed text corrected); half-way through, reload the
   question page and ask ``/state`` as the timer does;
4. the review page, ``POST .../submit``, the result page; then the user stops.

Think times are exponential with mean ``BENCH_LOAD_THINK`` seconds (default 4), so
a candidate saves about every 5 s on average (its page views come in between).
Every 200 save's ``saved_at`` is kept as a receipt; when the run stops,
``BENCH_LOAD_OUT`` gets the receipts and, per request name, the count, failures and
latency percentiles (Locust's own statistics, which round above 100 ms to 10 ms).

An :class:`Organiser` refreshes the organiser dashboard and the screening quiz's
leaderboard every ``BENCH_LOAD_ORGANISER_WAIT`` seconds (default 10).
"""

from __future__ import annotations

import json
import os
import random
import re
import threading
import time
from pathlib import Path

from locust import FastHttpUser, constant, events, task
from locust.exception import StopUser

QUIZ = os.environ.get("BENCH_LOAD_QUIZ", "dtt-screening")
PASSWORD = os.environ.get("BENCH_LOAD_PASSWORD", "bench-only battery staple horse")
FIRST = int(os.environ.get("BENCH_LOAD_FIRST", "1"))
CANDIDATES = int(os.environ.get("BENCH_LOAD_CANDIDATES", "1000"))
THINK = float(os.environ.get("BENCH_LOAD_THINK", "4"))
#: Epoch seconds at which the window opens (0: Start at once after signing in),
#: and over how many seconds after that the candidates press Start.
OPENS_AT = float(os.environ.get("BENCH_LOAD_OPENS_AT", "0"))
START_WINDOW = float(os.environ.get("BENCH_LOAD_START_WINDOW", "60"))
ORGANISERS = int(os.environ.get("BENCH_LOAD_ORGANISERS", "3"))
ORGANISER_WAIT = float(os.environ.get("BENCH_LOAD_ORGANISER_WAIT", "10"))
USER_AGENT = "quizapp-load/1"

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
ATTEMPT = re.compile(r"/attempts/(\d+)/q/")
TYPE = re.compile(r'data-type="([a-z_]+)"')
OPTION = re.compile(r'name="response" id="q\d+-opt-\d+" value="(\d+)"')
BLANK = re.compile(r'name="blank-([^"]+)"')
RANK = re.compile(r'name="rank-(\d+)"')
MATCH = re.compile(r'name="match-(\d+)"')
MATCH_OPTION = re.compile(r'<option value="(\d+)"')
QUESTION_COUNT = re.compile(r"Question \d+ of (\d+)")

_accounts = iter(range(FIRST, FIRST + CANDIDATES))
_organisers = iter(range(1, ORGANISERS + 1))
_receipts: list[tuple[int, str]] = []
_lock = threading.Lock()
_finished = 0


def _candidate_finished() -> None:
    """Count a candidate who is done (submitted, or stopped by a failure) in
    ``BENCH_LOAD_OUT`` with the suffix ``.done``: bench/load.py stops the run when
    all are."""
    global _finished
    _finished += 1
    out = os.environ.get("BENCH_LOAD_OUT")
    if out:
        Path(out).with_suffix(".done").write_text(str(_finished), encoding="ascii")


def think() -> float:
    return random.expovariate(1 / THINK) if THINK > 0 else 0.0


def answer_for(html: str, changed: bool = False) -> object:
    """A valid JSON ``response`` for the question on this page (see
    quizapp.delivery.responses); ``changed`` gives a different one."""
    kind = TYPE.search(html)
    kind = kind.group(1) if kind else ""
    options = [int(v) for v in OPTION.findall(html)]
    if kind == "single":
        return options[-1 if changed else 0]
    if kind == "multiple":
        return options[:2] if changed else options[:1]
    if kind == "true_false":
        return not changed
    if kind == "numeric":
        return "43" if changed else "42"
    if kind == "text":
        return "gradient descent" if changed else "gradient"
    if kind == "blanks":
        return {name: "x" if changed else "y" for name in BLANK.findall(html)}
    if kind == "ordering":
        order = [int(v) for v in RANK.findall(html)]
        return order if changed else order[::-1]
    if kind == "matching":
        lefts = MATCH.findall(html)
        first = MATCH_OPTION.search(html.split('name="match-', 1)[-1])
        return {left: int(first.group(1)) if first else 0 for left in lefts}
    raise ValueError(f"no answer for a question of type {kind!r}")


def token(html: str) -> str:
    match = CSRF.search(html)
    if match is None:
        raise ValueError("no csrf_token on the page")
    return match.group(1)


class Candidate(FastHttpUser):
    """One seeded candidate taking the screening quiz once."""

    weight = 100
    wait_time = constant(0)
    default_headers = {"User-Agent": USER_AGENT}
    network_timeout = 30.0

    def on_start(self) -> None:
        try:
            self.number = next(_accounts)
        except StopIteration:
            raise StopUser() from None

    def get(self, path: str, name: str) -> str:
        with self.client.get(path, name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}")
                raise StopUser()
            return response.text

    def post_form(self, path: str, name: str, data: dict) -> str:
        with self.client.post(
            path, data=data, name=name, catch_response=True
        ) as response:
            if response.status_code != 200:  # redirects are followed
                response.failure(f"{response.status_code}")
                raise StopUser()
            self.last_url = str(response.url)
            return response.text

    def save(self, attempt: int, position: int, csrf: str, html: str, changed: bool):
        body = {"response": answer_for(html, changed), "flagged": False}
        with self.client.post(
            f"/api/attempts/{attempt}/answers/{position}",
            data=json.dumps(body),
            headers={
                "Content-Type": "application/json",
                "X-CSRFToken": csrf,
                "Accept": "application/json",
            },
            name="save",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}: {response.text[:200]}")
                return
            at = response.json().get("saved_at")
            with _lock:
                _receipts.append((attempt, at))

    @task
    def take_quiz(self) -> None:
        try:
            self.journey()
        except StopUser:
            raise
        except Exception as error:
            # A page that is not what the scenario expects: count it as a failed
            # request, and this candidate stops (the task is never retried).
            self.environment.events.request.fire(
                request_type="SCENARIO",
                name="scenario",
                response_time=0,
                response_length=0,
                exception=error,
                context={},
            )
        finally:
            _candidate_finished()
        raise StopUser()

    def journey(self) -> None:
        page = self.get("/sign-in", "sign-in page")
        self.post_form(
            "/sign-in",
            "sign-in",
            {
                "csrf_token": token(page),
                "email": f"candidate{self.number}@load.example.org",
                "password": PASSWORD,
            },
        )
        self.get("/quizzes", "dashboard")
        if OPENS_AT:
            # Signed in early, the candidate presses Start at a random moment of
            # the window's first START_WINDOW seconds.
            pressed_at = OPENS_AT + random.uniform(0, START_WINDOW)  # noqa: S311
            time.sleep(max(0.0, pressed_at - time.time()))
        intro = self.get(f"/quizzes/{QUIZ}", "intro")
        page = self.post_form(
            f"/quizzes/{QUIZ}/start", "start", {"csrf_token": token(intro)}
        )
        attempt = int(ATTEMPT.search(self.last_url).group(1))
        count = int(QUESTION_COUNT.search(page).group(1))
        csrf = token(page)
        for position in range(1, count + 1):
            if position > 1:
                page = self.get(f"/attempts/{attempt}/q/{position}", "question")
            time.sleep(think())  # gevent's sleep: Locust patches time
            self.save(attempt, position, csrf, page, changed=False)
            if position % 3 == 0:
                time.sleep(think())  # gevent's sleep: Locust patches time
                self.save(attempt, position, csrf, page, changed=True)
            if position == count // 2:
                # The candidate reloads the page; the timer asks for the state.
                self.get(f"/attempts/{attempt}/q/{position}", "question (reload)")
                self.get(f"/api/attempts/{attempt}/state", "state")
        review = self.get(f"/attempts/{attempt}/review", "review")
        self.post_form(
            f"/attempts/{attempt}/submit", "submit", {"csrf_token": token(review)}
        )


class Organiser(FastHttpUser):
    """An organiser watching the window: dashboard and leaderboard."""

    weight = 1
    fixed_count = ORGANISERS
    wait_time = constant(ORGANISER_WAIT)
    default_headers = {"User-Agent": USER_AGENT}
    network_timeout = 30.0

    def on_start(self) -> None:
        number = next(_organisers, 1)
        page = self.client.get("/sign-in", name="organiser sign-in page").text
        self.client.post(
            "/sign-in",
            data={
                "csrf_token": token(page),
                "email": f"organiser{number}@load.example.org",
                "password": PASSWORD,
            },
            name="organiser sign-in",
        )

    @task
    def watch(self) -> None:
        self.client.get("/organise", name="organiser dashboard")
        self.client.get(f"/organise/quizzes/{QUIZ}/leaderboard", name="leaderboard")


@events.quitting.add_listener
def write_results(environment, **_kwargs) -> None:
    """Receipts and per-name statistics for bench/load.py."""
    path = os.environ.get("BENCH_LOAD_OUT")
    if not path:
        return
    rows = {}
    for (name, _method), entry in environment.stats.entries.items():
        rows[name] = {
            "count": entry.num_requests,
            "failures": entry.num_failures,
            "p50": entry.get_response_time_percentile(0.5),
            "p95": entry.get_response_time_percentile(0.95),
            "p99": entry.get_response_time_percentile(0.99),
            "max": entry.max_response_time,
            "first_at": entry.start_time,
            "last_at": entry.last_request_timestamp,
        }
    errors = [
        {"name": e.name, "error": str(e.error), "count": e.occurrences}
        for e in environment.stats.errors.values()
    ]
    with open(path, "w", encoding="utf-8") as out:
        json.dump({"stats": rows, "errors": errors, "receipts": _receipts}, out)
