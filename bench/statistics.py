"""The item statistics of a quiz with 10,000 finalized attempts of 40 questions.

Each database (a SQLite file, then a new database on the local PostgreSQL) is
migrated to head and gets a generated bank of 40 questions (16 single choice, 8
multiple choice with partial scoring, 8 true/false, 8 numeric; 32 worth 1 point, 8
worth 2) in one fixed quiz, then, through Core bulk inserts (``insert(Model)`` with
:data:`CHUNK` rows a call, one transaction), 8,000 candidates, 10,000 finalized
attempts (2,000 candidates took it twice) and their 400,000 items, each with a
response in the grading engine's format and the score :func:`quizapp.grading.grade`
gives it. Candidates answer by a two-parameter logistic model with a seeded
generator (the same rows on every run), so the facilities and discriminations
spread as a real cohort's would, a few questions misbehave and get flagged, and
wrong options are picked unevenly. PostgreSQL then gets ``VACUUM ANALYZE``.

Figures, per database (``<what>.sqlite`` and ``<what>.postgresql``), seconds:

* ``statistics.bare_item_scores``: ``SELECT attempt_id, version_id, score`` of every
  item of the quiz's finalized attempts, all 400,000 rows fetched into Python: the
  baseline, the least any item analysis has to read.
* ``statistics.report_all``: ``report.quiz_statistics(quiz, "all")``, all 10,000
  attempts: the 4 statements, the numpy work and the option counts.
* ``statistics.report_first``: the same over first attempts (8,000), the page's
  default, which adds the window function that picks each candidate's first.
* ``statistics.http_page``: ``GET /staff/quizzes/<slug>/statistics`` through Flask's
  test client, signed in as an instructor, the whole body read.
* ``statistics.http_chart``: ``GET .../statistics/chart.json`` (the chart's JSON,
  the page's second request when scripts run).

Each is the median of :data:`RUNS` timed runs after one warm-up run; the
session's transaction is ended after each run (untimed), as at the end of a
request. Target (the issue, on PostgreSQL): statistics under 2 s; the SQLite
figures are recorded without one. ``python -m bench.statistics`` builds the
PostgreSQL data set once and prints where the time of one ``report_all`` goes.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import math
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from flask import Flask
from sqlalchemy import event, insert, select, text

from bench import services
from bench.banks import migrate_quietly, sqlite_database
from bench.figures import Context, Figure
from quizapp import create_app, grading
from quizapp.accounts import services as accounts
from quizapp.accounts.models import Role, User
from quizapp.banks.models import QuestionVersion, Quiz
from quizapp.banks.sync import import_paths
from quizapp.delivery.models import FINALIZED, SUBMITTED, Attempt, AttemptItem
from quizapp.extensions import db
from quizapp.statistics import psychometrics, queries, report

QUIZ_SLUG = "statistics-bench"
BANK_SLUG = "stats-bench"
SEED = 2026
CHUNK = 10_000
RUNS = 5
#: From the issue, on PostgreSQL.
TARGET_S = 2.0
BASELINE = "statistics.bare_item_scores"

PASSWORD = "bench-only battery staple horse"  # noqa: S105
INSTRUCTOR = "instructor@bench.example.org"
APP_CONFIG = {
    "SECRET_KEY": "bench-only-not-a-secret",
    "PASSWORD_HASH_PROFILE": "CHEAPEST",
    "WTF_CSRF_ENABLED": False,
}


class BenchError(Exception):
    """The benchmark did not measure what it says."""


# --- sizes ---------------------------------------------------------------------------

#: Question types in bank order, and how many of each.
TYPES = (("single", 16), ("multiple", 8), ("true_false", 8), ("numeric", 8))


class Sizes:
    def __init__(self, candidates: int, twice: int) -> None:
        self.candidates = candidates
        self.twice = twice
        self.questions = sum(count for _, count in TYPES)

    @property
    def attempts(self) -> int:
        return self.candidates + self.twice

    @property
    def items(self) -> int:
        return self.attempts * self.questions


FULL = Sizes(candidates=8_000, twice=2_000)
QUICK = Sizes(candidates=400, twice=100)


def run(context: Context) -> list[Figure]:
    sizes, runs = (QUICK, 1) if context.quick else (FULL, RUNS)
    figures = measure(
        "sqlite",
        lambda: sqlite_database(context.scratch / "statistics.db"),
        context.scratch,
        sizes,
        runs,
    )
    with services.postgres() as server:
        if server.url is None:
            print(f"statistics: PostgreSQL skipped: {server.reason}", flush=True)
            figures += [
                _figure(what, "postgresql", [], server.reason) for what in _NAMES
            ]
        else:
            print(f"statistics: using {server.reason}", flush=True)
            admin_url = server.url
            figures += measure(
                "postgresql",
                lambda: services.throwaway_database(admin_url, "statistics"),
                context.scratch,
                sizes,
                runs,
            )
    return figures


#: what -> baseline or None
_NAMES = {
    "bare_item_scores": None,
    "report_all": BASELINE,
    "report_first": BASELINE,
    "http_page": BASELINE,
    "http_chart": BASELINE,
}


def _figure(
    what: str, dialect: str, values: list[float], note: str | None = None
) -> Figure:
    baseline = _NAMES[what]
    return Figure(
        f"statistics.{what}.{dialect}",
        statistics.median(values) if values else None,
        "s",
        TARGET_S if dialect == "postgresql" and baseline else None,
        baseline=f"{baseline}.{dialect}" if baseline else None,
        note=note,
        runs=values,
    )


def measure(
    dialect: str,
    new_database: Callable[[], contextlib.AbstractContextManager[str]],
    scratch: Path,
    sizes: Sizes,
    runs: int,
) -> list[Figure]:
    with new_database() as url:
        app = create_app({**APP_CONFIG, "DATABASE_URL": url})
        try:
            migrate_quietly(app)
            started = time.perf_counter()
            populate(app, scratch / f"content-{dialect}", sizes)
            print(
                f"statistics: {dialect}: {sizes.attempts:,} attempts of "
                f"{sizes.questions} questions ({sizes.items:,} items) generated in "
                f"{time.perf_counter() - started:.1f} s; load average "
                f"{os.getloadavg()[0]:.2f}",
                flush=True,
            )
            figures = _measure_calls(app, dialect, sizes, runs)
            figures += _measure_http(app, dialect, runs)
            print(f"statistics: {dialect}: {phases(app)}", flush=True)
            return figures
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


def _repeat(action: Callable[[], Any], runs: int) -> list[float]:
    """Seconds of ``runs`` timed calls after one warm-up call; the session's
    transaction is ended after each (untimed)."""
    values = []
    for timed_run in range(runs + 1):
        gc.collect()
        start = time.perf_counter()
        action()
        seconds = time.perf_counter() - start
        db.session.rollback()
        if timed_run:
            values.append(seconds)
    return values


def _measure_calls(app: Flask, dialect: str, sizes: Sizes, runs: int) -> list[Figure]:
    bare = text(
        "SELECT attempt_items.attempt_id, attempt_items.version_id, "
        "attempt_items.score FROM attempt_items JOIN attempts "
        "ON attempts.id = attempt_items.attempt_id "
        "WHERE attempts.quiz_id = :quiz AND attempts.status = 'finalized'"
    )
    with app.app_context():
        quiz = db.session.scalar(select(Quiz).where(Quiz.slug == QUIZ_SLUG))
        quiz_id = quiz.id

        def fetch_all() -> None:
            rows = db.session.execute(bare, {"quiz": quiz_id}).all()
            _expect(len(rows) == sizes.items, f"fetched {len(rows)} item scores")

        def statistics_of(which: str, attempts: int) -> Callable[[], None]:
            def once() -> None:
                stats = report.quiz_statistics(quiz, which)
                _expect(
                    stats.attempts == attempts
                    and len(stats.questions) == sizes.questions,
                    f"{which}: {stats.attempts} attempts, {len(stats.questions)} "
                    "questions",
                )

            return once

        first = statistics_of("first", sizes.candidates)
        return [
            _figure("bare_item_scores", dialect, _repeat(fetch_all, runs)),
            _figure(
                "report_all",
                dialect,
                _repeat(statistics_of("all", sizes.attempts), runs),
            ),
            _figure("report_first", dialect, _repeat(first, runs)),
        ]


def _measure_http(app: Flask, dialect: str, runs: int) -> list[Figure]:
    client = app.test_client()
    signed = client.post("/sign-in", data={"email": INSTRUCTOR, "password": PASSWORD})
    if signed.status_code != 302:
        raise BenchError(f"the instructor's sign-in answered {signed.status_code}")
    page = f"/staff/quizzes/{QUIZ_SLUG}/statistics"
    figures = []
    for what, path, expected in (
        ("http_page", page, b'data-chart="scatter"'),
        ("http_chart", f"{page}/chart.json", b'"points"'),
    ):

        def once(path: str = path, expected: bytes = expected) -> None:
            response = client.get(path)
            body = response.get_data()
            _expect(
                response.status_code == 200 and expected in body,
                f"GET {path}: {response.status_code}",
            )

        with app.app_context():
            figures.append(_figure(what, dialect, _repeat(once, runs)))
    return figures


def phases(app: Flask) -> str:
    """Where one ``quiz_statistics(quiz, "all")`` spends its time: reading the data
    (of which the statements' execution, as the cursor events see it: on PostgreSQL
    that includes sending the rows, on SQLite only the first step), the numpy
    statistics, and the whole report (the option counts are the difference)."""
    executing: list[str] = []
    started: list[float] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        started.append(time.perf_counter())

    def after(conn, cursor, statement, parameters, context, executemany):
        seconds = time.perf_counter() - started.pop()
        words = statement.split()
        first = words[1] if len(words) > 1 else statement
        executing.append(f"{first.rstrip(',')} {seconds:.3f}")

    with app.app_context():
        quiz = db.session.scalar(select(Quiz).where(Quiz.slug == QUIZ_SLUG))
        db.session.rollback()
        gc.collect()
        event.listen(db.engine, "before_cursor_execute", before)
        event.listen(db.engine, "after_cursor_execute", after)
        try:
            start = time.perf_counter()
            data = queries.load(quiz, "all")
            loaded = time.perf_counter()
        finally:
            event.remove(db.engine, "before_cursor_execute", before)
            event.remove(db.engine, "after_cursor_execute", after)
        k = len(data.question_ids)
        psychometrics.item_statistics(data.cells, k)
        psychometrics.cronbach_alpha(data.cells, k)
        computed = time.perf_counter()
        db.session.rollback()
        gc.collect()
        whole_start = time.perf_counter()
        report.quiz_statistics(quiz, "all")
        whole = time.perf_counter() - whole_start
        db.session.rollback()
    return (
        f"one report_all {whole:.3f} s: reading {loaded - start:.3f} s (statements "
        f"executing, by first column: {', '.join(executing)} s), numpy "
        f"{computed - loaded:.3f} s"
    )


def _expect(condition: Any, problem: str) -> None:
    if not condition:
        raise BenchError(problem)


# --- the data -----------------------------------------------------------------------


def bank_yaml(rng: random.Random) -> str:
    """40 questions; every 5th worth 2 points; no parameters (the items' ``params``
    are empty, as for most real questions)."""
    questions = []
    n = 0
    for kind, count in TYPES:
        for _ in range(count):
            n += 1
            question: dict[str, Any] = {
                "id": f"q{n:02}",
                "type": kind,
                "prompt": f"Question {n} ({kind.replace('_', ' ')}).",
            }
            if n % 5 == 0:
                question["points"] = 2
            if kind == "single":
                right = rng.randrange(4)
                question["choices"] = [
                    {"text": f"Option {c}", "correct": i == right}
                    for i, c in enumerate("ABCD")
                ]
            elif kind == "multiple":
                rights = set(rng.sample(range(5), 2))
                question["scoring"] = "partial"
                question["choices"] = [
                    {"text": f"Option {c}", "correct": i in rights}
                    for i, c in enumerate("ABCDE")
                ]
            elif kind == "true_false":
                question["answer"] = rng.random() < 0.5
            else:
                question["answer"] = rng.randint(2, 99)
                question["tolerance"] = 0.5
            questions.append(question)
    return yaml.safe_dump(
        {"bank": BANK_SLUG, "title": "Statistics benchmark", "questions": questions},
        sort_keys=False,
    )


def quiz_yaml() -> str:
    refs = ", ".join(f"{BANK_SLUG}/q{n:02}" for n in range(1, FULL.questions + 1))
    return (
        f"quiz: {QUIZ_SLUG}\ntitle: Statistics benchmark\nattempts: 2\n"
        "grading: highest\nshow_results: immediately\nshuffle_questions: false\n"
        f"time_limit: 60m\npass_mark: 50%\nsections:\n  - title: All\n"
        f"    questions: [{refs}]\n"
    )


def populate(app: Flask, content: Path, sizes: Sizes) -> None:
    """Import the bank and quiz, create the instructor, bulk-insert the candidates,
    their attempts and items (one transaction), and ANALYZE on PostgreSQL."""
    rng = random.Random(SEED)  # noqa: S311
    (content / "bank").mkdir(parents=True, exist_ok=True)
    (content / "quizzes").mkdir(exist_ok=True)
    (content / "bank" / "bank.yaml").write_text(bank_yaml(rng), encoding="utf-8")
    (content / "quizzes" / f"{QUIZ_SLUG}.yaml").write_text(
        quiz_yaml(), encoding="utf-8"
    )
    with app.app_context():
        _, problems = import_paths([content / "bank", content])
        if problems:
            raise BenchError(f"the benchmark's bank does not check: {problems[:3]}")
        accounts.create_account(
            INSTRUCTOR, "Bench Instructor", [Role.instructor], PASSWORD
        )
        db.session.commit()
        quiz = db.session.scalar(select(Quiz).where(Quiz.slug == QUIZ_SLUG))
        versions = _versions_in_order(quiz)
        _bulk(User, list(_users(sizes.candidates)))
        user_ids = db.session.scalars(
            select(User.id).where(User.email.like("cand%")).order_by(User.id)
        ).all()
        _expect(len(user_ids) == sizes.candidates, f"{len(user_ids)} candidates")
        model = Model(rng, versions)
        maximum = sum(v.points for v in versions)
        twice = set(rng.sample(range(sizes.candidates), sizes.twice))
        abilities = [rng.gauss(0, 1) for _ in user_ids]
        sheets: list[list[tuple[Any, float]]] = []
        attempts = []
        for index, user_id in enumerate(user_ids):
            for number in (1, 2) if index in twice else (1,):
                sheet = model.answers(abilities[index] + 0.4 * (number - 1))
                sheets.append(sheet)
                attempts.append(_attempt(rng, quiz.id, user_id, number, sheet, maximum))
        _bulk(Attempt, attempts)
        ids = db.session.scalars(
            select(Attempt.id)
            .where(Attempt.quiz_id == quiz.id)
            .order_by(Attempt.user_id, Attempt.number)
        ).all()
        _expect(len(ids) == sizes.attempts, f"{len(ids)} attempts stored")
        batch: list[dict[str, Any]] = []
        for row in _items(ids, sheets, versions):
            batch.append(row)
            if len(batch) == CHUNK:
                db.session.execute(insert(AttemptItem), batch)
                batch = []
        if batch:
            db.session.execute(insert(AttemptItem), batch)
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(
                isolation_level="AUTOCOMMIT"
            ) as connection:
                connection.exec_driver_sql("VACUUM ANALYZE")
        db.session.remove()
        db.engine.dispose()


def _versions_in_order(quiz: Quiz) -> list[QuestionVersion]:
    refs = quiz.sections[0]["questions"]
    by_key = {
        v.question.key: v
        for v in db.session.scalars(select(QuestionVersion)).all()
        if v.question.bank.slug == BANK_SLUG
    }
    return [by_key[ref.split("/", 1)[1]] for ref in refs]


def _bulk(model: type, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), CHUNK):
        db.session.execute(insert(model), rows[start : start + CHUNK])


def _users(count: int) -> Iterator[dict[str, Any]]:
    opened = datetime(2027, 1, 4, tzinfo=UTC)
    for n in range(1, count + 1):
        yield {
            "email": f"cand{n}@candidates.example.org",
            "name": f"Candidate {n}",
            "password_hash": "$argon2id$bench-not-a-hash",
            "is_active": True,
            "created_at": opened,
        }


class Model:
    """Two-parameter logistic answers: P(right) = 1 / (1 + exp(-a (ability - b))).

    Most questions discriminate (a from 0.8 to 2.2); two have a = 0 (guessing),
    one a < 0 (a wrong key), one is nearly always right and one nearly never.
    Wrong answers favour one distractor, as real ones do.
    """

    def __init__(self, rng: random.Random, versions: list[QuestionVersion]) -> None:
        self.rng = rng
        self.versions = versions
        self.params = [(rng.uniform(0.8, 2.2), rng.gauss(0, 1)) for _ in versions]
        self.params[5] = (0.0, 0.0)
        self.params[20] = (0.0, 0.0)
        self.params[11] = (-0.8, 0.0)
        self.params[30] = (1.5, -3.5)
        self.params[33] = (1.5, 3.5)
        self._grades: dict[tuple[int, str], float] = {}

    def answers(self, ability: float) -> list[tuple[Any, float]]:
        """(response, score) for each question."""
        out = []
        for version, (a, b) in zip(self.versions, self.params, strict=True):
            chance = 1 / (1 + math.exp(-a * (ability - b)))
            response = self._response(version.content, chance)
            out.append((response, self._grade(version, response)))
        return out

    def _response(self, content: dict[str, Any], chance: float) -> Any:
        rng = self.rng
        if rng.random() < 0.02:
            return None
        right = rng.random() < chance
        kind = content["type"]
        if kind == "single":
            key = next(i for i, c in enumerate(content["choices"]) if c["correct"])
            if right:
                return key
            wrong = [i for i in range(len(content["choices"])) if i != key]
            return wrong[0] if rng.random() < 0.6 else rng.choice(wrong)
        if kind == "multiple":
            picked = []
            for i, choice in enumerate(content["choices"]):
                sure = right or rng.random() < chance
                if choice["correct"] == sure:
                    picked.append(i)
            return picked
        if kind == "true_false":
            return content["answer"] if right else not content["answer"]
        answer = float(content["answer"])
        return answer if right else answer + rng.choice((-10, -1, 1, 10))

    def _grade(self, version: QuestionVersion, response: Any) -> float:
        key = (version.id, repr(response))
        if key not in self._grades:
            self._grades[key] = grading.grade(version.content, response).score
        return self._grades[key]


def _attempt(
    rng: random.Random,
    quiz_id: int,
    user_id: int,
    number: int,
    sheet: list[tuple[Any, float]],
    maximum: float,
) -> dict[str, Any]:
    start = datetime(2027, 3, 1, 8, tzinfo=UTC) + timedelta(
        days=number, seconds=rng.randrange(86400)
    )
    seconds = float(rng.randint(600, 3600))
    return {
        "user_id": user_id,
        "quiz_id": quiz_id,
        "number": number,
        "status": FINALIZED,
        "seed": f"{rng.getrandbits(128):032x}",
        "started_at": start,
        "deadline_at": start + timedelta(minutes=60),
        "finished_at": start + timedelta(seconds=seconds),
        "finish_reason": SUBMITTED,
        "seconds_used": seconds,
        "score": round(sum(score for _, score in sheet), 6),
        "max_score": maximum,
        "passed": None,
    }


def _items(
    attempt_ids: list[int],
    sheets: list[list[tuple[Any, float]]],
    versions: list[QuestionVersion],
) -> Iterator[dict[str, Any]]:
    for attempt_id, sheet in zip(attempt_ids, sheets, strict=True):
        for position, (version, (response, score)) in enumerate(
            zip(versions, sheet, strict=True), start=1
        ):
            yield {
                "attempt_id": attempt_id,
                "position": position,
                "section_title": "All",
                "version_id": version.id,
                "variant_seed": "",
                "is_shuffled": False,
                "params": {},
                "points": version.points,
                "response": response,
                "saved_at": None,
                "is_flagged": False,
                "score": score,
                "grading_error": None,
            }


# --- by hand -------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Build the statistics data set once and time report_all"
    )
    parser.add_argument("--sqlite", action="store_true", help="SQLite instead")
    parser.add_argument("--quick", action="store_true", help="the small data set")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    with contextlib.ExitStack() as stack:
        scratch = Path(
            stack.enter_context(tempfile.TemporaryDirectory(prefix="quizapp-st-"))
        )
        if args.sqlite:
            url = stack.enter_context(sqlite_database(scratch / "statistics.db"))
        else:
            server = stack.enter_context(services.postgres())
            if server.url is None:
                raise SystemExit(f"PostgreSQL is needed: {server.reason}")
            url = stack.enter_context(
                services.throwaway_database(server.url, "statistics")
            )
        app = create_app({**APP_CONFIG, "DATABASE_URL": url})
        try:
            migrate_quietly(app)
            populate(app, scratch / "content", sizes)
            for _ in range(3):
                print(phases(app), flush=True)
            with app.app_context():
                stats = report.quiz_statistics(
                    db.session.scalar(select(Quiz).where(Quiz.slug == QUIZ_SLUG)),
                    "all",
                )
                flagged = [(q.number, q.flags) for q in stats.flagged]
                print(
                    f"alpha {stats.reliability.alpha:.3f}, mean "
                    f"{stats.percent.mean:.1f}%, flagged {flagged}",
                    flush=True,
                )
                print(
                    "facility "
                    + " ".join(f"{q.items.facility:.2f}" for q in stats.questions)
                )
                print(
                    "discrimination "
                    + " ".join(
                        f"{q.items.discrimination:.2f}"
                        for q in stats.questions
                        if q.items.discrimination is not None
                    )
                )
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
