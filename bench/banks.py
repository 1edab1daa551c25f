"""Checking and importing a generated bank of 5,000 questions.

Figures, each the median of several runs in this process (the modules are imported
once, as a long-lived process would have them; every import goes into a new, empty,
freshly migrated database):

* ``banks.yaml_load``: read the bank file and ``yaml.load`` it with PyYAML's
  CSafeLoader, with the garbage collector paused as the app's loader pauses it. No
  validation at all: the baseline the others are divided by, so a ratio is what the
  validation (and the database) cost on top of parsing.
* ``banks.check``: ``load_paths`` + ``check``, what ``flask banks check`` does.
* ``banks.check_cli``: ``flask banks check`` as a new process, start-up included.
* ``banks.import_cold.sqlite`` / ``.postgresql``: ``import_paths`` + commit into an
  empty database, what ``flask banks import`` does the first time.
* ``banks.reimport.sqlite`` / ``.postgresql``: the same files again, nothing changed.
"""

from __future__ import annotations

import contextlib
import gc
import io
import logging
import statistics
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import flask_migrate
import yaml
from flask import Flask
from sqlalchemy import func, select

from bench import generate_bank, services
from bench.figures import Context, Figure, median_seconds, timed
from quizapp import create_app
from quizapp.banks.checker import check
from quizapp.banks.loader import load_paths
from quizapp.banks.models import Question
from quizapp.banks.sync import import_paths
from quizapp.extensions import db

QUESTIONS = 5_000
CHECK_RUNS = 5
CLI_RUNS = 3
IMPORT_RUNS = 3
#: From the issue: on the 2-core machine, for 5,000 questions.
CHECK_TARGET = 3.0
IMPORT_TARGET = 10.0
BASELINE = "banks.yaml_load"
ROOT = Path(__file__).resolve().parent.parent
APP_CONFIG = {"SECRET_KEY": "bench-only-not-a-secret"}


class BenchError(Exception):
    """The benchmark did not measure what it says (the bank failed to check...)."""


def run(context: Context) -> list[Figure]:
    questions = 500 if context.quick else QUESTIONS
    check_runs, cli_runs, import_runs = (
        (1, 1, 1) if context.quick else (CHECK_RUNS, CLI_RUNS, IMPORT_RUNS)
    )
    folder = generate_bank.write_bank(context.scratch, questions)
    size = (folder / "bank.yaml").stat().st_size
    print(
        f"banks: generated {questions} questions, {size / 1e6:.1f} MB of YAML "
        f"in {folder}",
        flush=True,
    )
    figures = [
        measure_yaml_load(folder / "bank.yaml", check_runs),
        measure_check(folder, questions, check_runs),
        measure_check_cli(folder, cli_runs),
    ]
    sqlite_files = iter(context.scratch / f"import-{i}.db" for i in range(100))
    figures += measure_import(
        "sqlite",
        lambda: sqlite_database(next(sqlite_files)),
        folder,
        questions,
        import_runs,
    )
    with services.postgres() as server:
        if server.url is None:
            print(f"banks: PostgreSQL skipped: {server.reason}", flush=True)
            figures += _skipped_imports("postgresql", server.reason)
        else:
            print(f"banks: using {server.reason}", flush=True)
            admin_url = server.url
            figures += measure_import(
                "postgresql",
                lambda: services.throwaway_database(admin_url, "banks"),
                folder,
                questions,
                import_runs,
            )
    return figures


# --- files only --------------------------------------------------------------------


def measure_yaml_load(bank_file: Path, runs: int) -> Figure:
    def once() -> float:
        gc.disable()
        try:
            seconds, _ = timed(
                lambda: yaml.load(
                    bank_file.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader
                )
            )
        finally:
            gc.enable()
        return seconds

    value, values = median_seconds(once, runs)
    return Figure(BASELINE, value, "s", runs=values)


def measure_check(folder: Path, questions: int, runs: int) -> Figure:
    def once() -> float:
        seconds, (docs, problems) = timed(lambda: _load_and_check(folder))
        if problems:
            raise BenchError(f"the generated bank has problems: {problems[:3]}")
        found = sum(len(bank.questions) for bank in docs.banks)
        if found != questions:
            raise BenchError(f"checked {found} questions, expected {questions}")
        return seconds

    value, values = median_seconds(once, runs)
    return Figure(
        "banks.check", value, "s", CHECK_TARGET, baseline=BASELINE, runs=values
    )


def _load_and_check(folder: Path):
    docs = load_paths([folder])
    return docs, check(docs)


def measure_check_cli(folder: Path, runs: int) -> Figure:
    command = [sys.executable, "-m", "flask", "--app", "quizapp"]
    command += ["banks", "check", str(folder)]

    def once() -> float:
        # Our own interpreter and fixed arguments: nothing comes from outside.
        seconds, done = timed(
            lambda: subprocess.run(  # noqa: S603
                command,
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=False,
            )
        )
        if done.returncode != 0:
            raise BenchError(f"flask banks check failed:\n{done.stderr[-2000:]}")
        return seconds

    value, values = median_seconds(once, runs)
    return Figure(
        "banks.check_cli", value, "s", CHECK_TARGET, baseline=BASELINE, runs=values
    )


# --- into a database ---------------------------------------------------------------


def measure_import(
    dialect: str,
    new_database: Callable[[], contextlib.AbstractContextManager[str]],
    folder: Path,
    questions: int,
    runs: int,
) -> list[Figure]:
    """Cold import and re-import, each run into a new, empty, migrated database."""
    cold: list[float] = []
    again: list[float] = []
    for _ in range(runs):
        with new_database() as url:
            app = create_app({**APP_CONFIG, "DATABASE_URL": url})
            try:
                migrate_quietly(app)
                gc.collect()
                cold.append(_import(app, folder, expect_added=questions))
                gc.collect()
                again.append(_import(app, folder, expect_added=0))
            finally:
                with app.app_context():
                    db.engine.dispose()
    return [
        Figure(
            f"banks.import_cold.{dialect}",
            statistics.median(cold),
            "s",
            IMPORT_TARGET,
            baseline=BASELINE,
            runs=cold,
        ),
        Figure(
            f"banks.reimport.{dialect}",
            statistics.median(again),
            "s",
            IMPORT_TARGET,
            baseline=BASELINE,
            runs=again,
        ),
    ]


def _import(app: Flask, folder: Path, expect_added: int) -> float:
    """Seconds for ``import_paths`` + commit, as ``flask banks import`` does it."""
    with app.app_context():

        def sync():
            report, problems = import_paths([folder])
            db.session.commit()
            return report, problems

        seconds, (report, problems) = timed(sync)
        if problems or report is None:
            raise BenchError(f"the import failed: {problems[:3]}")
        added = sum(bank.added for bank in report.banks)
        if added != expect_added or (expect_added == 0 and report.changed):
            raise BenchError(f"expected {expect_added} added, got {report.lines()}")
        stored = db.session.scalar(select(func.count()).select_from(Question))
        if stored != sum(bank.added + bank.unchanged for bank in report.banks):
            raise BenchError(f"{stored} questions in the database after the import")
    return seconds


def migrate_quietly(app: Flask) -> None:
    """``flask db upgrade``, without Alembic's log lines in the benchmark's output."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    captured = io.StringIO()
    try:
        with app.app_context(), contextlib.redirect_stderr(captured):
            flask_migrate.upgrade()
            db.engine.dispose()  # the timed import opens its own connection
    except Exception:
        print(captured.getvalue(), file=sys.stderr)
        raise
    finally:
        # migrations/env.py reconfigures logging from alembic.ini: put ours back.
        root.handlers[:] = handlers
        root.setLevel(level)
        for name in ("alembic", "flask_migrate"):
            logging.getLogger(name).setLevel(logging.WARNING)


@contextlib.contextmanager
def sqlite_database(path: Path) -> Iterator[str]:
    try:
        yield f"sqlite:///{path}"
    finally:
        path.unlink(missing_ok=True)


def _skipped_imports(dialect: str, reason: str) -> list[Figure]:
    return [
        Figure(name, None, "s", IMPORT_TARGET, baseline=BASELINE, note=reason)
        for name in (f"banks.import_cold.{dialect}", f"banks.reimport.{dialect}")
    ]
