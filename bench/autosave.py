"""Autosave under load: quizapp's JSON save endpoint against a bare one-INSERT app.

Both are served by the same gunicorn command (:data:`WORKERS` sync workers on
127.0.0.1, a free port), on the same PostgreSQL database, driven by the same ``wrk``
script (``bench/autosave.lua``) with :data:`CANDIDATES` connections, one wrk thread
and one connection per candidate, so a candidate's saves go one after the other, as
from a browser, and there is no pause between them (a ceiling, not a typical load):

* ``autosave.save.*``: ``POST /api/attempts/<id>/answers/<position>`` with
  ``{"response": ..., "flagged": false}``. Each candidate has its own account,
  session cookie, CSRF token and timed attempt on an 8-question quiz (one question of
  every type, shuffled), and saves a valid answer to each position in turn.
* ``autosave.bare_insert.*``: ``POST /answers`` on :mod:`bench.bare_insert`, the same
  bodies, one INSERT through SQLAlchemy into its own table, no session: the floor.

The setup, not timed: a throwaway database ``quizapp_bench_autosave_<random>`` on
the local server, migrated to head, the quiz imported and the accounts and attempts
created through the services (with the CHEAPEST password hash, which the config
allows outside production); then each candidate signs in over HTTP, reads the CSRF
token from its question page and saves every position once, so its session cookie
already holds everything the app puts there. quizapp runs with ``ENV=production``.
Each server gets a short warm-up, then the two are measured in turn, :data:`RUNS`
times, :data:`DURATION` seconds each, each run after waiting (up to
:data:`QUIET_WAIT` s) for other processes to leave the machine idle; the figures are
medians over the runs.

Figures: saves/s (HTTP 200 answers per second; ``autosave.save.rps`` has the bare
endpoint as baseline, so its ratio is autosave / bare), latency percentiles in ms
(wrk's, from sending a request to its answer, queueing in gunicorn's backlog
included), errors (anything but a 200, and socket errors), the CPU time per request
of the gunicorn processes and of PostgreSQL (our database's backends and the shared
background processes, from /proc), ``autosave.other_load`` (the share of the
machine other processes took during the runs: above a few percent, distrust the
run), and ``autosave.save.lost_answers``: receipts (the ``saved_at`` of every 200
answer, which is the ``at`` of the answer_events row it wrote) that have no row in
answer_events once the run is over, warm-up included. It must be 0.
"""

from __future__ import annotations

import contextlib
import http.client
import http.cookiejar
import json
import os
import re
import resource
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import func, select, text

from bench import bare_insert, services
from bench.banks import BenchError, migrate_quietly
from bench.figures import Context, Figure
from bench.services import machine_jiffies
from quizapp import create_app
from quizapp.accounts import services as accounts
from quizapp.accounts.models import Role
from quizapp.banks import sync
from quizapp.banks.models import Quiz
from quizapp.core import clock
from quizapp.delivery import services as delivery
from quizapp.delivery.models import AnswerEvent
from quizapp.extensions import db

CANDIDATES = 50
#: Seconds per measurement, per warm-up, and measurements per server.
DURATION, WARMUP, RUNS = 15, 3, 3
QUICK_CANDIDATES, QUICK_DURATION, QUICK_WARMUP, QUICK_RUNS = 10, 3, 1, 1
#: Sync workers, as in deploy/gunicorn.conf.py (its default).
WORKERS = 4
WRK_TIMEOUT = "10s"
HOST = "127.0.0.1"
START_TIMEOUT = 30  # seconds for gunicorn to answer
#: Before measuring, wait up to QUIET_WAIT s for the machine to be at most
#: QUIET_BUSY busy over QUIET_SAMPLE s (other test runs share these two cores).
QUIET_WAIT, QUIET_BUSY, QUIET_SAMPLE = 60.0, 0.15, 2.0
ROOT = Path(__file__).resolve().parent.parent
GUNICORN_CONFIG = ROOT / "deploy" / "gunicorn.conf.py"
LUA_SCRIPT = Path(__file__).resolve().with_name("autosave.lua")
#: Sent by the setup client and by wrk alike: a different one is an integrity
#: signal ("browser_changed") on every save.
USER_AGENT = "quizapp-bench/1"
PASSWORD = "bench-only battery staple horse"  # noqa: S105
SEED_CONFIG = {"SECRET_KEY": "bench-seed-only", "PASSWORD_HASH_PROFILE": "CHEAPEST"}
QUIZ_SLUG = "autosave-bench"
PREFIX = "autosave"
SAVE, BARE = f"{PREFIX}.save", f"{PREFIX}.bare_insert"

BANK = """\
bank: autosave-bench
title: One question of every type, for the autosave benchmark
module: bench
questions:
  - id: single
    type: single
    prompt: Which city is the capital of France?
    choices:
      - {text: Lyon}
      - {text: Paris, correct: true}
      - {text: Marseille}
  - id: multiple
    type: multiple
    prompt: Pick every prime number.
    scoring: partial
    choices:
      - {text: "2", correct: true}
      - {text: "3", correct: true}
      - {text: "4"}
  - id: true-false
    type: true_false
    prompt: The angles of a triangle add up to 180 degrees.
    answer: true
  - id: numeric
    type: numeric
    params:
      a: {randint: [2, 9]}
      b: {randint: [2, 9]}
    prompt: "What is $a \\\\times b$ for $a = {{a}}$ and $b = {{b}}$?"
    answer: "a * b"
  - id: text
    type: text
    prompt: Name the activation function $\\max(0, x)$.
    accept: [ReLU, rectified linear unit]
  - id: blanks
    type: blanks
    prompt: A line has a [[b0]] and a [[b1]].
    blanks:
      b0: {accept: [intercept]}
      b1: {accept: [slope]}
  - id: ordering
    type: ordering
    prompt: Put the steps of training in order.
    items: [Collect data, Train the model, Evaluate the model]
  - id: matching
    type: matching
    prompt: Match each task with its kind.
    pairs:
      - {left: Predict a price, right: Regression}
      - {left: Detect spam, right: Classification}
    distractors: [Clustering]
"""
#: The bank's question ids, one of each type.
KEYS = (
    "single",
    "multiple",
    "true-false",
    "numeric",
    "text",
    "blanks",
    "ordering",
    "matching",
)
QUIZ = f"""\
quiz: {QUIZ_SLUG}
title: Autosave benchmark
time_limit: 4h
attempts: 1
sections:
  - title: Everything
    questions: [{", ".join(f"autosave-bench/{key}" for key in KEYS)}]
"""


@dataclass
class Candidate:
    email: str
    attempt_id: int
    #: ``(position, JSON body)`` for every position, a valid answer to each.
    answers: list[tuple[int, str]]
    cookie: str = ""
    csrf_token: str = ""


@dataclass
class Load:
    """One wrk run against one server."""

    seconds: float
    ok: int
    errors: int
    statuses: dict[str, int]
    latency_ms: dict[str, float]
    receipts: list[tuple[int, str]]
    #: CPU seconds during the run: gunicorn (master + workers), PostgreSQL, wrk.
    app_cpu: float
    db_cpu: float
    client_cpu: float
    #: Shares of the machine's CPU time: busy (all processes), and busy with
    #: processes other than the ones above (someone else's work).
    busy: float
    other: float

    @property
    def rps(self) -> float:
        return self.ok / self.seconds

    def per_request_ms(self, cpu_seconds: float) -> float:
        return 1000 * cpu_seconds / max(1, self.ok + self.errors)

    def line(self, label: str) -> str:
        lat = self.latency_ms
        return (
            f"{label}: {self.rps:7.1f} saves/s, p50 {lat['p50']:.1f} ms, p95 "
            f"{lat['p95']:.1f} ms, p99 {lat['p99']:.1f} ms, {self.errors} errors; "
            f"CPU per request: app {self.per_request_ms(self.app_cpu):.2f} ms, "
            f"PostgreSQL {self.per_request_ms(self.db_cpu):.2f} ms, wrk "
            f"{self.per_request_ms(self.client_cpu):.2f} ms; machine "
            f"{100 * self.busy:.0f}% busy, {100 * self.other:.0f}% by other processes"
        )


@dataclass
class Gunicorn:
    url: str
    process: subprocess.Popen
    log: Path


@dataclass
class Settings:
    candidates: int
    duration: int
    warmup: int
    runs: int
    quiet_wait: float


def run(context: Context) -> list[Figure]:
    settings = (
        Settings(QUICK_CANDIDATES, QUICK_DURATION, QUICK_WARMUP, QUICK_RUNS, 0)
        if context.quick
        else Settings(CANDIDATES, DURATION, WARMUP, RUNS, QUIET_WAIT)
    )
    if shutil.which("wrk") is None:
        return _skipped("wrk is not installed (apt-get install -y wrk)")
    with services.postgres() as server:
        if server.url is None:
            print(f"autosave: skipped: {server.reason}", flush=True)
            return _skipped(server.reason)
        print(f"autosave: using {server.reason}", flush=True)
        with services.throwaway_database(server.url, PREFIX) as url:
            return _measure(context.scratch, url, settings)


def _measure(scratch: Path, url: str, settings: Settings) -> list[Figure]:
    app = create_app({**SEED_CONFIG, "DATABASE_URL": url})
    try:
        migrate_quietly(app)
        candidates = seed(app, scratch, settings.candidates)
        bare_insert.create_table(url)
        with contextlib.ExitStack() as stack:
            quizapp_env = {
                "QUIZAPP_ENV": "production",
                "QUIZAPP_SECRET_KEY": secrets.token_hex(32),
                "QUIZAPP_DATABASE_URL": url,
            }
            quizapp = stack.enter_context(
                gunicorn("wsgi:app", quizapp_env, scratch / "quizapp.log")
            )
            bare = stack.enter_context(
                gunicorn(
                    "bench.bare_insert:create_app()",
                    {bare_insert.URL_VARIABLE: url},
                    scratch / "bare.log",
                )
            )
            for candidate in candidates:
                sign_in(quizapp.url, candidate)
            with app.app_context():
                first_timed = (
                    db.session.scalar(select(func.max(AnswerEvent.id))) or 0
                ) + 1
            quizapp_plan = write_plan(scratch / "quizapp-plan.lua", candidates)
            bare_plan = write_plan(scratch / "bare-plan.lua", candidates, bare=True)
            print(
                f"autosave: {len(candidates)} candidates signed in; gunicorn "
                f"{WORKERS} sync workers; {settings.runs} x {settings.duration} s "
                "per server",
                flush=True,
            )

            def load(server: Gunicorn, plan: Path, seconds: int) -> Load:
                return drive(
                    server, plan, len(candidates), seconds, lambda: _postgres_pids(app)
                )

            receipts = load(quizapp, quizapp_plan, settings.warmup).receipts
            load(bare, bare_plan, settings.warmup)
            bare_runs: list[Load] = []
            save_runs: list[Load] = []
            for number in range(1, settings.runs + 1):
                wait_until_quiet(settings.quiet_wait)
                bare_runs.append(load(bare, bare_plan, settings.duration))
                print(bare_runs[-1].line(f"  run {number} bare INSERT"), flush=True)
                wait_until_quiet(settings.quiet_wait)
                save_runs.append(load(quizapp, quizapp_plan, settings.duration))
                print(save_runs[-1].line(f"  run {number} autosave   "), flush=True)
                receipts += save_runs[-1].receipts
        acknowledged, lost, unacknowledged = count_lost(
            app, candidates, receipts, first_timed
        )
    finally:
        with app.app_context():
            db.engine.dispose()
    print(
        f"autosave: {acknowledged} acknowledged saves (warm-up included), {lost} "
        f"missing from answer_events, {unacknowledged} stored but not acknowledged "
        "(in flight when wrk stopped)",
        flush=True,
    )
    return _figures(bare_runs, save_runs, acknowledged, lost)


# --- setup ------------------------------------------------------------------------


def seed(app, scratch: Path, count: int) -> list[Candidate]:
    """Import the quiz, create ``count`` candidates and start an attempt for each."""
    content = scratch / "content"
    (content / "autosave-bench").mkdir(parents=True)
    (content / "quizzes").mkdir()
    (content / "autosave-bench" / "bank.yaml").write_text(BANK, encoding="utf-8")
    (content / "quizzes" / f"{QUIZ_SLUG}.yaml").write_text(QUIZ, encoding="utf-8")
    with app.app_context():
        _, problems = sync.import_paths([content])
        if problems:
            raise BenchError(f"the benchmark's quiz does not check: {problems[:3]}")
        db.session.commit()
        quiz = db.session.scalar(select(Quiz).where(Quiz.slug == QUIZ_SLUG))
        now = clock.now()
        attempts = []
        for number in range(1, count + 1):
            user, _ = accounts.create_account(
                f"candidate{number}@bench.example.org",
                f"Candidate {number}",
                [Role.candidate],
                PASSWORD,
            )
            attempts.append((user.email, delivery.start_attempt(user, quiz, now)))
        db.session.commit()
        return [
            Candidate(
                email,
                attempt.id,
                [
                    (item.position, json.dumps(_body(item.version.content)))
                    for item in sorted(attempt.items, key=lambda i: i.position)
                ],
            )
            for email, attempt in attempts
        ]


def _body(content: dict[str, Any]) -> dict[str, Any]:
    """A valid autosave body for a question (see quizapp.delivery.responses)."""
    kind = content["type"]
    response: Any = {
        "single": 1,
        "multiple": [0, 1],
        "true_false": True,
        "numeric": "12",
        "text": "ReLU",
    }.get(kind)
    if kind == "blanks":
        response = {name: "slope" for name in content["blanks"]}
    elif kind == "ordering":
        response = list(range(len(content["items"])))[::-1]
    elif kind == "matching":
        response = {"0": 1, "1": 0}
    if response is None:
        raise BenchError(f"no benchmark answer for a {kind} question")
    return {"response": response, "flagged": False}


CSRF_INPUT = re.compile(r"<input[^>]*name=\"csrf_token\"[^>]*>")
VALUE = re.compile(r"value=\"([^\"]+)\"")


def _csrf_token(html: str) -> str:
    match = CSRF_INPUT.search(html)
    value = VALUE.search(match.group(0)) if match else None
    if value is None:
        raise BenchError("no csrf_token input on the page")
    return value.group(1)


def sign_in(base: str, candidate: Candidate) -> None:
    """Sign in over HTTP, read the CSRF token from the question page and save each
    position once; keep the session cookie for wrk."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.addheaders = [("User-Agent", USER_AGENT)]
    with opener.open(f"{base}/sign-in", timeout=30) as page:
        token = _csrf_token(page.read().decode())
    form = urllib.parse.urlencode(
        {"email": candidate.email, "password": PASSWORD, "csrf_token": token}
    ).encode()
    with opener.open(f"{base}/sign-in", data=form, timeout=30) as page:
        if page.status != 200 or page.url.rstrip("/").endswith("/sign-in"):
            raise BenchError(f"{candidate.email} could not sign in")
    question = f"{base}/attempts/{candidate.attempt_id}/q/1"
    with opener.open(question, timeout=30) as page:
        candidate.csrf_token = _csrf_token(page.read().decode())
    for position, body in candidate.answers:
        # An http:// address on 127.0.0.1 that we started: no other scheme.
        save = urllib.request.Request(  # noqa: S310
            f"{base}{_save_path(candidate, position)}",
            data=body.encode(),
            headers={
                "Content-Type": "application/json",
                "X-CSRFToken": candidate.csrf_token,
            },
        )
        with opener.open(save, timeout=30) as answer:
            if not json.load(answer).get("saved"):
                raise BenchError(f"{candidate.email}: position {position} not saved")
    cookies = [f"{cookie.name}={cookie.value}" for cookie in jar]
    candidate.cookie = "; ".join(cookies)


def _save_path(candidate: Candidate, position: int) -> str:
    return f"/api/attempts/{candidate.attempt_id}/answers/{position}"


def write_plan(path: Path, candidates: list[Candidate], bare: bool = False) -> Path:
    """The Lua table bench/autosave.lua reads: one entry per wrk thread."""
    entries = []
    for candidate in candidates:
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
        if not bare:
            headers |= {"Cookie": candidate.cookie, "X-CSRFToken": candidate.csrf_token}
        paths = [
            "/answers" if bare else _save_path(candidate, position)
            for position, _ in candidate.answers
        ]
        bodies = [body for _, body in candidate.answers]
        entries.append(
            "{headers = {"
            + ", ".join(f"[{_lua(k)}] = {_lua(v)}" for k, v in headers.items())
            + "}, paths = {"
            + ", ".join(map(_lua, paths))
            + "}, bodies = {"
            + ", ".join(map(_lua, bodies))
            + "}}"
        )
    path.write_text("return {\n" + ",\n".join(entries) + "\n}\n", encoding="ascii")
    return path


def _lua(text: str) -> str:
    """A Lua string literal: JSON's quoting is Lua's for printable ASCII."""
    if not text.isascii() or not text.isprintable():
        raise BenchError(f"cannot quote {text!r} for Lua")
    return json.dumps(text)


# --- servers and load -------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def gunicorn(app_spec: str, env: dict[str, str], log: Path) -> Iterator[Gunicorn]:
    """``gunicorn -c deploy/gunicorn.conf.py APP`` (the production configuration)
    with :data:`WORKERS` workers on 127.0.0.1:<free port>, stopped after.

    The environment is ours without any QUIZAPP_ variable, plus ``env``.
    """
    port = _free_port()
    command = [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONFIG), app_spec]
    environment = {k: v for k, v in os.environ.items() if not k.startswith("QUIZAPP_")}
    environment |= {"GUNICORN_BIND": f"{HOST}:{port}", "WEB_CONCURRENCY": str(WORKERS)}
    with log.open("wb") as output:
        # Our interpreter and fixed arguments: nothing comes from outside.
        process = subprocess.Popen(  # noqa: S603
            command,
            cwd=ROOT,
            env=environment | env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_serving(process, port, log)
        yield Gunicorn(f"http://{HOST}:{port}", process, log)
    finally:
        services.stop_process(process)


def _wait_until_serving(process: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"gunicorn exited:\n{log.read_text()[-3000:]}")
        try:
            connection = http.client.HTTPConnection(HOST, port, timeout=5)
            connection.request("GET", "/")
            connection.getresponse().read()
            connection.close()
        except OSError:
            time.sleep(0.2)
            continue
        if len(_children(process.pid)) >= WORKERS:
            return
        time.sleep(0.2)
    raise BenchError(f"gunicorn did not start:\n{log.read_text()[-3000:]}")


def drive(
    server: Gunicorn,
    plan: Path,
    threads: int,
    seconds: int,
    postgres_pids: Callable[[], list[int]],
) -> Load:
    """One wrk run of ``seconds`` against ``server``, with CPU accounting."""
    out = plan.with_suffix(".out.json")
    out.unlink(missing_ok=True)
    command = ["wrk", f"-t{threads}", f"-c{threads}", f"-d{seconds}s"]
    command += ["--timeout", WRK_TIMEOUT, "-s", str(LUA_SCRIPT), server.url]
    env = os.environ | {"BENCH_WRK_PLAN": str(plan), "BENCH_WRK_OUT": str(out)}
    app_pids = [server.process.pid, *_children(server.process.pid)]
    db_pids = postgres_pids()
    app_before, db_before, machine_before = (
        _cpu(app_pids),
        _cpu(db_pids),
        machine_jiffies(),
    )
    client_before = _children_cpu()
    # wrk from Debian, fixed arguments.
    done = subprocess.run(  # noqa: S603
        command,
        env=env,
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=False,
    )
    client_cpu = _children_cpu() - client_before
    db_pids = sorted(set(db_pids) | set(postgres_pids()))
    app_after, db_after, machine_after = (
        _cpu(app_pids),
        _cpu(db_pids),
        machine_jiffies(),
    )
    if done.returncode != 0 or not out.exists():
        raise BenchError(f"wrk failed:\n{done.stdout}\n{done.stderr}")
    result = json.loads(out.read_text(encoding="utf-8"))
    statuses = result["statuses"]
    socket_errors = sum(
        result["errors"][kind] for kind in ("connect", "read", "write", "timeout")
    )
    app_cpu, db_cpu = _delta(app_before, app_after), _delta(db_before, db_after)
    # CPU seconds of the whole machine (all cores): busy and in all.
    busy = (machine_after[0] - machine_before[0]) / TICKS
    total = max(1e-9, (machine_after[1] - machine_before[1]) / TICKS)
    return Load(
        seconds=result["duration_us"] / 1e6,
        ok=statuses.get("200", 0),
        errors=sum(n for code, n in statuses.items() if code != "200") + socket_errors,
        statuses=statuses,
        latency_ms={k: v / 1000 for k, v in result["latency_us"].items()},
        receipts=[(index, at) for index, at in result["receipts"]],
        app_cpu=app_cpu,
        db_cpu=db_cpu,
        client_cpu=client_cpu,
        busy=busy / total,
        other=max(0.0, busy - app_cpu - db_cpu - client_cpu) / total,
    )


def wait_until_quiet(limit: float) -> float:
    """Wait (up to ``limit`` seconds) until other processes leave the machine
    mostly idle, since the figures are only worth what the two cores give; the
    busy share of the last sample."""
    deadline = time.monotonic() + limit
    said = False
    while True:
        before = machine_jiffies()
        time.sleep(QUIET_SAMPLE)
        after = machine_jiffies()
        busy = (after[0] - before[0]) / max(1e-9, after[1] - before[1])
        if busy <= QUIET_BUSY or time.monotonic() >= deadline:
            return busy
        if not said:
            print(
                f"autosave: other processes keep the machine {100 * busy:.0f}% "
                f"busy; waiting up to {limit:.0f} s for it to be quiet",
                flush=True,
            )
            said = True


# --- CPU accounting from /proc ------------------------------------------------------

TICKS = os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in text.split()]


def _postgres_pids(app: Flask) -> list[int]:
    """The server processes working for our database: its backends (both gunicorn
    pools and ours) and the shared background processes (WAL writer,
    checkpointer...), not the backends of other databases on the same server."""
    with app.app_context():
        pids = db.session.scalars(
            text(
                "SELECT pid FROM pg_stat_activity "
                "WHERE datname = current_database() OR backend_type <> 'client backend'"
            )
        ).all()
        db.session.remove()
    return list(pids)


def _cpu(pids: list[int]) -> dict[int, float]:
    """CPU seconds (user + system) so far of each process still there."""
    seconds = {}
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            seconds[pid] = (int(fields[11]) + int(fields[12])) / TICKS
    return seconds


def _delta(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU spent between two samples by the processes in ``after`` (a process that
    started in between counts in full; one that ended is lost)."""
    return sum(value - before.get(pid, 0.0) for pid, value in after.items())


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# --- results ----------------------------------------------------------------------


def count_lost(
    app, candidates: list[Candidate], receipts: list[tuple[int, str]], first_id: int
) -> tuple[int, int, int]:
    """(acknowledged, acknowledged but not in answer_events, stored but never
    acknowledged) over the saves made under wrk (events from ``first_id`` on)."""
    acknowledged = {
        (candidates[index - 1].attempt_id, datetime.fromisoformat(at))
        for index, at in receipts
    }
    if len(acknowledged) != len(receipts):
        raise BenchError("two acknowledged saves of one attempt with one timestamp")
    with app.app_context():
        stored = set(
            db.session.execute(
                select(AnswerEvent.attempt_id, AnswerEvent.at).where(
                    AnswerEvent.id >= first_id
                )
            ).tuples()
        )
    return len(acknowledged), len(acknowledged - stored), len(stored - acknowledged)


#: (figure suffix, unit, what of a run): the medians over the runs.
MEASURES = (
    ("rps", "req/s", lambda load: load.rps),
    ("p50", "ms", lambda load: load.latency_ms["p50"]),
    ("p95", "ms", lambda load: load.latency_ms["p95"]),
    ("p99", "ms", lambda load: load.latency_ms["p99"]),
    ("app_cpu_per_request", "ms", lambda load: load.per_request_ms(load.app_cpu)),
    ("db_cpu_per_request", "ms", lambda load: load.per_request_ms(load.db_cpu)),
)


def _figures(
    bare_runs: list[Load], save_runs: list[Load], acknowledged: int, lost: int
) -> list[Figure]:
    figures = []
    for name, runs, baseline in ((BARE, bare_runs, None), (SAVE, save_runs, BARE)):
        for what, unit, measure in MEASURES:
            values = [measure(load) for load in runs]
            figures.append(
                Figure(
                    f"{name}.{what}",
                    statistics.median(values),
                    unit,
                    baseline=f"{baseline}.{what}" if baseline else None,
                    runs=values,
                )
            )
        errors = sum(load.errors for load in runs)
        figures.append(Figure(f"{name}.errors", errors, "requests", 0))
    ratios = [s.rps / b.rps for s, b in zip(save_runs, bare_runs, strict=True)]
    figures.append(
        Figure(
            f"{SAVE}.throughput_vs_bare",
            statistics.median(ratios),
            "ratio",
            0.5,
            at_least=True,
            runs=ratios,
        )
    )
    figures.append(Figure(f"{SAVE}.acknowledged", acknowledged, "saves"))
    figures.append(Figure(f"{SAVE}.lost_answers", lost, "saves", 0))
    other = [100 * load.other for load in bare_runs + save_runs]
    figures.append(
        Figure(f"{PREFIX}.other_load", statistics.median(other), "%", runs=other)
    )
    return figures


def _skipped(reason: str) -> list[Figure]:
    """The same rows with no values, so results.json always has the same names."""
    rows = []
    for name, baseline in ((BARE, None), (SAVE, BARE)):
        rows += [
            (f"{name}.{what}", unit, None, f"{baseline}.{what}" if baseline else None)
            for what, unit, _ in MEASURES
        ]
        rows.append((f"{name}.errors", "requests", 0, None))
    rows += [
        (f"{SAVE}.throughput_vs_bare", "ratio", 0.5, None),
        (f"{SAVE}.acknowledged", "saves", None, None),
        (f"{SAVE}.lost_answers", "saves", 0, None),
        (f"{PREFIX}.other_load", "%", None, None),
    ]
    return [
        Figure(name, None, unit, target, baseline, note=reason)
        for name, unit, target, baseline in rows
    ]
