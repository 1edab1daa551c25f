"""Regrading one question across 10,000 finalized attempts of 40 questions.

Each database (a SQLite file, then a new database on the local PostgreSQL) is
migrated to head and gets a generated bank of 40 single-choice questions (four
choices each), a quiz of all 40 (grading ``highest``, two attempts allowed, pass
mark 50%) that is the screening quiz of a programme with a shortlist of 100, and
then, through Core bulk inserts (10,000 rows a call, one transaction), 8,000
candidates, 10,000 finalized attempts (2,000 candidates have two) and their 400,000
attempt items, from a seeded generator: the same rows on every run. Every answer is
right with probability 0.6; item and attempt scores and ``passed`` are what
finalize would have stored. Then the key of question ``q01`` is fixed the way an
instructor fixes it: the bank file is changed (the right choice moves from the
first to the second) and imported again, which makes version 2. PostgreSQL then
gets ``VACUUM ANALYZE``.

Figures, per database (``<what>.sqlite`` and ``<what>.postgresql``):

* ``regrade.bare_update``: ``UPDATE attempt_items SET score = score WHERE
  version_id IN (the question's versions)`` + commit: one statement writing the
  same 10,000 rows a regrade writes, the baseline (s).
* ``regrade.plan``: ``regrade.plan_regrade(quiz, question)``, the dry run: read
  and grade the 10,000 items, and rank the quiz's candidates before and after for
  the shortlist cut-off (s).
* ``regrade.http_index``: ``GET /staff/quizzes/<slug>/regrade``, the list of the
  quiz's questions with attempts on an older version (s).
* ``regrade.http_dry_run``: ``GET /staff/quizzes/<slug>/regrade/<id>`` through
  Flask's test client as an instructor, the whole page read (s).
* ``regrade.apply``: ``regrade.apply_regrade(quiz, question, instructor,
  expected=<the dry run's digest>)`` + commit: lock, plan again, write 10,000 items
  and the changed attempts, the audit event, ``attempt_finalized`` for each changed
  attempt (s). Target (the issue): under 10 s on PostgreSQL.

Each round measures them in this order; then the question's current version is
switched to the other one (untimed), so every apply is a real regrade of all
10,000 items (v1 → v2, v2 → v1, ...). One untimed warm-up dry run, then
:data:`ROUNDS` rounds; each figure is the median. Every dry run and apply checks
what it did: the number of items and of changed attempts the generator predicts,
the applied plan equal to the dry run, and nothing left on the older version.

The two cores are shared with whatever else runs, so before each database's rounds
the benchmark waits (up to :data:`QUIET_WAIT` s) until the machine is at most 15%
busy, and ``regrade.other_load`` records the share of the machine (%) that other
processes took during the rounds (all CPU time less this process's and its
PostgreSQL backends' and background processes').
"""

from __future__ import annotations

import contextlib
import os
import random
import resource
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import func, insert, select, text, update

from bench import services
from bench.banks import migrate_quietly, sqlite_database
from bench.figures import Context, Figure
from bench.services import machine_jiffies
from quizapp import create_app
from quizapp.accounts import services as accounts
from quizapp.accounts.models import Role, User
from quizapp.banks.models import Bank, Question, QuestionVersion, Quiz
from quizapp.banks.sync import import_paths
from quizapp.delivery import regrade
from quizapp.delivery.models import FINALIZED, SUBMITTED, Attempt, AttemptItem
from quizapp.extensions import db

BANK, QUIZ, KEY = "regrade-bench", "regrade-bench", "q01"
QUESTIONS, CHOICES = 40, 4
SEED = 2027
CHUNK = 10_000
RIGHT = 0.6
ROUNDS = 3
#: Wait up to QUIET_WAIT s for the machine to be at most QUIET_BUSY busy over
#: QUIET_SAMPLE s before measuring a database.
QUIET_WAIT, QUIET_BUSY, QUIET_SAMPLE = 60.0, 0.15, 2.0
TICKS = os.sysconf("SC_CLK_TCK")
#: From the issue, on PostgreSQL.
APPLY_TARGET = 10.0
BASELINE = "regrade.bare_update"

PASSWORD = "bench-only battery staple horse"  # noqa: S105
INSTRUCTOR = "instructor@bench.example.org"
APP_CONFIG = {
    "SECRET_KEY": "bench-only-not-a-secret",
    "PASSWORD_HASH_PROFILE": "CHEAPEST",
    "WTF_CSRF_ENABLED": False,
}


class BenchError(Exception):
    """The benchmark did not measure what it says."""


@dataclass(frozen=True)
class Sizes:
    candidates: int
    #: Candidates with a second attempt.
    twice: int
    rounds: int
    quiet_wait: float

    @property
    def attempts(self) -> int:
        return self.candidates + self.twice


FULL = Sizes(candidates=8_000, twice=2_000, rounds=ROUNDS, quiet_wait=QUIET_WAIT)
QUICK = Sizes(candidates=400, twice=100, rounds=1, quiet_wait=0.0)

#: what -> (unit, baseline, target on PostgreSQL)
_NAMES = {
    "bare_update": ("s", None, None),
    "plan": ("s", BASELINE, None),
    "http_index": ("s", BASELINE, None),
    "http_dry_run": ("s", BASELINE, None),
    "apply": ("s", BASELINE, APPLY_TARGET),
    "other_load": ("%", None, None),
}


def run(context: Context) -> list[Figure]:
    sizes = QUICK if context.quick else FULL
    figures = measure(
        "sqlite",
        lambda: sqlite_database(context.scratch / "regrade.db"),
        context.scratch / "sqlite",
        sizes,
    )
    with services.postgres() as server:
        if server.url is None:
            print(f"regrade: PostgreSQL skipped: {server.reason}", flush=True)
            figures += [_figure(w, "postgresql", [], server.reason) for w in _NAMES]
        else:
            print(f"regrade: using {server.reason}", flush=True)
            admin_url = server.url
            figures += measure(
                "postgresql",
                lambda: services.throwaway_database(admin_url, "regrade"),
                context.scratch / "postgresql",
                sizes,
            )
    return figures


def _figure(
    what: str, dialect: str, runs: list[float], note: str | None = None
) -> Figure:
    unit, baseline, target = _NAMES[what]
    return Figure(
        f"regrade.{what}.{dialect}",
        statistics.median(runs) if runs else None,
        unit,
        target if dialect == "postgresql" else None,
        baseline=f"{baseline}.{dialect}" if baseline else None,
        note=note,
        runs=runs,
    )


def measure(
    dialect: str,
    new_database: Callable[[], contextlib.AbstractContextManager[str]],
    folder: Path,
    sizes: Sizes,
) -> list[Figure]:
    with new_database() as url:
        app = create_app({**APP_CONFIG, "DATABASE_URL": url})
        try:
            migrate_quietly(app)
            started = time.perf_counter()
            expected = populate(app, folder, sizes)
            print(
                f"regrade: {dialect}: {sizes.candidates:,} candidates, "
                f"{sizes.attempts:,} attempts, {sizes.attempts * QUESTIONS:,} items "
                f"generated in {time.perf_counter() - started:.1f} s",
                flush=True,
            )
            runs = _rounds(app, sizes, expected)
            return [_figure(what, dialect, runs[what]) for what in _NAMES]
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


# --- the rounds ---------------------------------------------------------------------


def _rounds(app: Flask, sizes: Sizes, expected: int) -> dict[str, list[float]]:
    client = app.test_client()
    signed = client.post("/sign-in", data={"email": INSTRUCTOR, "password": PASSWORD})
    _expect(signed.status_code == 302, f"sign-in answered {signed.status_code}")
    runs: dict[str, list[float]] = {what: [] for what in _NAMES}
    busy = wait_until_quiet(sizes.quiet_wait)
    if busy > QUIET_BUSY:
        print(
            f"regrade: other processes keep the machine {100 * busy:.0f}% busy; "
            "measuring anyway",
            flush=True,
        )
    with app.app_context():
        quiz = db.session.scalar(select(Quiz).where(Quiz.slug == QUIZ))
        question = _question()
        instructor = db.session.scalar(select(User).where(User.email == INSTRUCTOR))
        index = f"/staff/quizzes/{QUIZ}/regrade"
        page = f"{index}/{question.id}"
        versions = select(QuestionVersion.id).where(
            QuestionVersion.question_id == question.id
        )
        bare = (
            update(AttemptItem)
            .where(AttemptItem.version_id.in_(versions))
            .values(score=AttemptItem.score)
            .execution_options(synchronize_session=False)
        )
        regrade.plan_regrade(quiz, question)  # warm-up
        client.get(page).close()  # and a second connection, for the pages
        meter = Meter(_server_pids())
        db.session.rollback()
        for _ in range(sizes.rounds):
            seconds, result = _timed(lambda: db.session.execute(bare), commit=True)
            _expect(
                result.rowcount == sizes.attempts,
                f"the bare UPDATE wrote {result.rowcount} rows",
            )
            runs["bare_update"].append(seconds)

            seconds, plan = _timed(lambda: regrade.plan_regrade(quiz, question))
            _check(plan, sizes, expected)
            runs["plan"].append(seconds)
            db.session.rollback()

            seconds, body = _timed(lambda: client.get(index).get_data(as_text=True))
            _expect(page in body, f"GET {index}: no link to the dry run")
            runs["http_index"].append(seconds)

            seconds, body = _timed(lambda: client.get(page).get_data(as_text=True))
            _expect(
                f'id="count-attempts">{sizes.attempts}<' in body,
                f"GET {page}: the page does not show {sizes.attempts} attempts",
            )
            runs["http_dry_run"].append(seconds)

            seconds, applied = _timed(
                lambda plan=plan: regrade.apply_regrade(
                    quiz, question, instructor, expected=plan.digest
                ),
                commit=True,
            )
            _expect(applied == plan, "the applied regrade is not the dry run")
            _expect(
                regrade.plan_regrade(quiz, question).is_empty,
                "attempts are left on the older version",
            )
            db.session.rollback()
            runs["apply"].append(seconds)
            _switch_version(question)
        runs["other_load"].append(meter.share())
    return runs


def _timed(action: Callable[[], Any], commit: bool = False) -> tuple[float, Any]:
    """Seconds of ``action()`` (and the commit), from a new transaction."""
    db.session.rollback()
    start = time.perf_counter()
    result = action()
    if commit:
        db.session.commit()
    return time.perf_counter() - start, result


def _check(plan: regrade.RegradePlan, sizes: Sizes, expected: int) -> None:
    _expect(
        len(plan.attempts) == sizes.attempts and plan.items == sizes.attempts,
        f"the dry run regrades {len(plan.attempts)} attempts, {plan.items} items",
    )
    _expect(
        len(plan.changed) == expected,
        f"the dry run changes {len(plan.changed)} attempts, expected {expected}",
    )


def _question() -> Question:
    return db.session.scalar(
        select(Question)
        .join(Bank, Bank.id == Question.bank_id)
        .where(Bank.slug == BANK, Question.key == KEY)
    )


def _switch_version(question: Question) -> None:
    """Make the question's other version current (untimed), so the next round
    regrades every item again."""
    other = db.session.scalar(
        select(QuestionVersion.id).where(
            QuestionVersion.question_id == question.id,
            QuestionVersion.id != question.current_version_id,
        )
    )
    db.session.execute(
        update(Question)
        .where(Question.id == question.id)
        .values(current_version_id=other)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _expect(condition: Any, problem: str) -> None:
    if not condition:
        raise BenchError(problem)


# --- the machine ------------------------------------------------------------------


def wait_until_quiet(limit: float) -> float:
    """Wait up to ``limit`` s for the machine to be mostly idle; the busy share of
    the last sample."""
    deadline = time.monotonic() + limit
    while True:
        before = machine_jiffies()
        time.sleep(QUIET_SAMPLE if limit else 0.2)
        after = machine_jiffies()
        busy = (after[0] - before[0]) / max(1, after[1] - before[1])
        if busy <= QUIET_BUSY or time.monotonic() >= deadline:
            return busy


def _server_pids() -> list[int]:
    """PostgreSQL's processes that work for us: our database's backends and the
    server's background processes (none on SQLite)."""
    if db.engine.dialect.name != "postgresql":
        return []
    pids = list(
        db.session.scalars(
            text(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "OR backend_type <> 'client backend'"
            )
        )
    )
    db.session.rollback()
    return pids


class Meter:
    """The share of the machine other processes take from its creation on."""

    def __init__(self, pids: list[int]) -> None:
        self.pids = pids
        self.start = (machine_jiffies(), self._ours())

    def _ours(self) -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        seconds = usage.ru_utime + usage.ru_stime
        for pid in self.pids:
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1]
                utime, stime = fields.split()[11:13]
                seconds += (int(utime) + int(stime)) / TICKS
        return seconds

    def share(self) -> float:
        (busy0, total0), ours0 = self.start
        busy1, total1 = machine_jiffies()
        ours = (self._ours() - ours0) * TICKS
        return 100 * max(0.0, busy1 - busy0 - ours) / max(1, total1 - total0)


# --- the data -----------------------------------------------------------------------


def bank_yaml(correct_first: int) -> str:
    """40 single-choice questions; question n's right choice is n % 4, except that
    q01's is ``correct_first``."""
    lines = [f"bank: {BANK}", "title: Regrade benchmark", "questions:"]
    for n in range(QUESTIONS):
        right = correct_first if n == 0 else n % CHOICES
        lines += [
            f"  - id: q{n + 1:02d}",
            "    type: single",
            f"    prompt: Which choice is right in question {n + 1}?",
            "    choices:",
        ]
        lines += [
            f"      - {{text: Choice {c + 1}{', correct: true' if c == right else ''}}}"
            for c in range(CHOICES)
        ]
    return "\n".join(lines) + "\n"


QUIZ_YAML = f"""\
quiz: {QUIZ}
title: Regrade benchmark
attempts: 2
grading: highest
show_results: immediately
shuffle_questions: false
shuffle_choices: false
time_limit: 30m
pass_mark: 50%
sections:
  - title: Everything
    questions: [{", ".join(f"{BANK}/q{n + 1:02d}" for n in range(QUESTIONS))}]
"""
PROGRAMME_YAML = f"""\
programme: {QUIZ}-programme
title: Regrade benchmark programme
screening_quiz: {QUIZ}
shortlist_size: 100
finalist_count: 50
modules:
  - slug: project
    title: Project
    project: true
    rubric:
      - {{criterion: Work, points: 10}}
"""


def populate(app: Flask, folder: Path, sizes: Sizes) -> int:
    """Import the content, bulk-insert candidates, attempts and items, fix q01's
    key (version 2); how many attempts the fix changes."""
    bank = folder / "bank" / BANK
    content = folder / "content"
    bank.mkdir(parents=True)
    (content / "quizzes").mkdir(parents=True)
    (content / "programmes").mkdir()
    (bank / "bank.yaml").write_text(bank_yaml(0), encoding="utf-8")
    (content / "quizzes" / f"{QUIZ}.yaml").write_text(QUIZ_YAML, encoding="utf-8")
    (content / "programmes" / f"{QUIZ}-programme.yaml").write_text(
        PROGRAMME_YAML, encoding="utf-8"
    )
    with app.app_context():
        _import([bank.parent, content])
        accounts.create_account(
            INSTRUCTOR, "Bench Instructor", [Role.instructor], PASSWORD
        )
        db.session.commit()
        quiz = db.session.scalar(select(Quiz).where(Quiz.slug == QUIZ))
        versions = dict(
            db.session.execute(
                select(Question.key, Question.current_version_id)
                .join(Bank)
                .where(Bank.slug == BANK)
            ).all()
        )
        rng = random.Random(SEED)  # noqa: S311
        _bulk(User, list(_users(rng, sizes.candidates)))
        ids = db.session.scalars(
            select(User.id).where(User.email.like("%@candidates.example.org"))
        ).all()
        _expect(len(ids) == sizes.candidates, f"{len(ids)} candidates stored")
        twice = set(rng.sample(range(sizes.candidates), sizes.twice))
        attempts, answers = _attempts(rng, quiz.id, ids, twice)
        _bulk(Attempt, attempts)
        stored = db.session.execute(
            select(Attempt.id, Attempt.seed, Attempt.started_at)
            .where(Attempt.quiz_id == quiz.id)
            .order_by(Attempt.id)
        ).all()
        _expect(len(stored) == sizes.attempts, f"{len(stored)} attempts stored")
        by_seed = {seed: (attempt_id, at) for attempt_id, seed, at in stored}
        for start in range(0, len(attempts), CHUNK // QUESTIONS):
            rows = [
                item
                for attempt in attempts[start : start + CHUNK // QUESTIONS]
                for item in _items(
                    *by_seed[attempt["seed"]], answers[attempt["seed"]], versions
                )
            ]
            db.session.execute(insert(AttemptItem), rows)
        db.session.commit()
        # The key fix: q01's right choice moves from the first to the second.
        (bank / "bank.yaml").write_text(bank_yaml(1), encoding="utf-8")
        _import([bank.parent])
        items = db.session.scalar(select(func.count()).select_from(AttemptItem))
        _expect(items == sizes.attempts * QUESTIONS, f"{items} items stored")
        if db.engine.dialect.name == "postgresql":
            db.session.remove()
            with db.engine.connect().execution_options(
                isolation_level="AUTOCOMMIT"
            ) as connection:
                connection.exec_driver_sql("VACUUM ANALYZE")
        db.session.remove()
        db.engine.dispose()
    # Who picked the first or second choice of q01: their score moves by one.
    return sum(1 for answer in answers.values() if answer[0] in (0, 1))


def _import(paths: list[Path]) -> None:
    _, problems = import_paths(paths)
    if problems:
        raise BenchError(f"the benchmark's content does not check: {problems[:3]}")
    db.session.commit()


def _bulk(model: type, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), CHUNK):
        db.session.execute(insert(model), rows[start : start + CHUNK])


def _users(rng: random.Random, count: int) -> Iterator[dict[str, Any]]:
    opened = datetime(2027, 1, 4, tzinfo=UTC)
    for n in range(1, count + 1):
        yield {
            "email": f"user{n}@candidates.example.org",
            "name": f"Candidate {n}",
            "password_hash": "$argon2id$bench-not-a-hash",
            "is_active": True,
            "created_at": opened + timedelta(seconds=rng.randrange(60 * 86400)),
        }


def _attempts(
    rng: random.Random, quiz_id: int, ids: list[int], twice: set[int]
) -> tuple[list[dict[str, Any]], dict[str, list[int]]]:
    """Attempt rows, and each attempt's 40 answers (by seed)."""
    window = datetime(2027, 3, 1, 8, tzinfo=UTC)
    rows, answers = [], {}
    for index, user_id in enumerate(ids):
        moment = window + timedelta(seconds=rng.randrange(14 * 86400))
        for number in (1, 2) if index in twice else (1,):
            picked = [_answer(rng, n) for n in range(QUESTIONS)]
            score = float(sum(p == n % CHOICES for n, p in enumerate(picked)))
            seconds = float(rng.randint(300, 1800))
            seed = f"{rng.getrandbits(128):032x}"
            answers[seed] = picked
            rows.append(
                {
                    "user_id": user_id,
                    "quiz_id": quiz_id,
                    "number": number,
                    "status": FINALIZED,
                    "seed": seed,
                    "started_at": moment,
                    "deadline_at": moment + timedelta(minutes=30),
                    "finished_at": moment + timedelta(seconds=seconds),
                    "finish_reason": SUBMITTED,
                    "seconds_used": seconds,
                    "score": score,
                    "max_score": float(QUESTIONS),
                    "passed": score * 100 / QUESTIONS + 1e-9 >= 50,
                }
            )
            moment += timedelta(seconds=seconds + rng.randrange(3600, 3 * 86400))
    return rows, answers


def _answer(rng: random.Random, n: int) -> int:
    right = n % CHOICES
    if rng.random() < RIGHT:
        return right
    return rng.choice([c for c in range(CHOICES) if c != right])


def _items(
    attempt_id: int, started_at: datetime, picked: list[int], versions: dict[str, int]
) -> Iterator[dict[str, Any]]:
    for n, choice in enumerate(picked):
        key = f"q{n + 1:02d}"
        yield {
            "attempt_id": attempt_id,
            "position": n + 1,
            "section_title": "Everything",
            "version_id": versions[key],
            "variant_seed": f"{attempt_id}:{BANK}/{key}",
            "is_shuffled": False,
            "params": {},
            "points": 1.0,
            "response": choice,
            "saved_at": started_at,
            "is_flagged": False,
            "score": float(choice == n % CHOICES),
            "grading_error": None,
        }
