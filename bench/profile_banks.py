"""Where checking and importing the generated bank spend their time.

    python -m bench.profile_banks [--questions 5000] [--save DIR]

Not part of ``make bench``: it explains the figures rather than measuring them.
One run each, printed as

* the phases of an import (load, check, apply, commit) with the time spent inside
  the database driver, on SQLite and on PostgreSQL when it is there;
* the time Python's cyclic garbage collector takes in each phase (from
  ``gc.callbacks``), and the same import with the collector paused, for comparison;
* cProfile's top functions for ``load_paths`` + ``check`` (``--save DIR`` also writes
  the ``.prof`` files, for snakeviz or ``python -m pstats``).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import pstats
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import event

from bench import generate_bank, services
from bench.banks import APP_CONFIG, BenchError, migrate_quietly, sqlite_database
from quizapp import create_app
from quizapp.banks import sync
from quizapp.banks.checker import check
from quizapp.banks.loader import load_paths
from quizapp.extensions import db


@dataclass
class Clock:
    """Seconds per phase: wall, in the garbage collector, inside the driver."""

    wall: dict[str, float] = field(default_factory=dict)
    gc: dict[str, float] = field(default_factory=dict)
    sql: dict[str, float] = field(default_factory=dict)
    phase: str = ""
    _gc_start: float = 0.0
    _sql_start: float = 0.0

    @contextmanager
    def __call__(self, phase: str) -> Iterator[None]:
        self.phase = phase
        start = time.perf_counter()
        try:
            yield
        finally:
            self.wall[phase] = time.perf_counter() - start

    def on_gc(self, stage: str, info: dict[str, Any]) -> None:
        if stage == "start":
            self._gc_start = time.perf_counter()
        else:
            spent = time.perf_counter() - self._gc_start
            self.gc[self.phase] = self.gc.get(self.phase, 0.0) + spent

    def before_sql(self, *args: Any) -> None:
        self._sql_start = time.perf_counter()

    def after_sql(self, *args: Any) -> None:
        spent = time.perf_counter() - self._sql_start
        self.sql[self.phase] = self.sql.get(self.phase, 0.0) + spent

    def table(self, title: str) -> str:
        lines = [f"{title}: {sum(self.wall.values()):.3f} s"]
        for phase, wall in self.wall.items():
            lines.append(
                f"  {phase:<16} {wall:7.3f} s   of which garbage collector "
                f"{self.gc.get(phase, 0.0):6.3f} s, database driver "
                f"{self.sql.get(phase, 0.0):6.3f} s"
            )
        return "\n".join(lines)


def profile_import(url: str, folder: Path, paused: bool) -> Clock:
    """One cold import of ``folder`` into the empty database at ``url``, by phase."""
    app = create_app({**APP_CONFIG, "DATABASE_URL": url})
    migrate_quietly(app)
    clock = Clock()
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", clock.before_sql)
        event.listen(db.engine, "after_cursor_execute", clock.after_sql)
        gc.collect()
        gc.callbacks.append(clock.on_gc)
        if paused:
            gc.disable()
        try:
            # The steps of sync.import_paths, one by one.
            with clock("load_paths"):
                docs = load_paths([folder])
            with clock("check"):
                problems = check(docs, sync.catalogue_from_db())
            if problems:
                raise BenchError(f"the generated bank has problems: {problems[:3]}")
            with clock("apply"):
                sync.apply(docs)
            with clock("commit"):
                db.session.commit()
        finally:
            gc.enable()
            gc.callbacks.remove(clock.on_gc)
            db.session.remove()
            db.engine.dispose()
    return clock


def profile_check(folder: Path, save: Path | None) -> str:
    profile = cProfile.Profile()
    gc.collect()
    profile.enable()
    check(load_paths([folder]))
    profile.disable()
    if save:
        profile.dump_stats(save / "check.prof")
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out).strip_dirs()
    stats.sort_stats("tottime").print_stats(12)
    return out.getvalue()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--questions", type=int, default=generate_bank.DEFAULT_QUESTIONS
    )
    parser.add_argument("--save", type=Path, help="folder for .prof files")
    args = parser.parse_args(argv)
    if args.save:
        args.save.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="quizapp-profile-") as scratch:
        folder = generate_bank.write_bank(Path(scratch), args.questions)
        print(f"{args.questions} questions in {folder}\n")
        databases: list[tuple[str, Callable[[], AbstractContextManager[str]]]] = []
        files = iter(Path(scratch) / f"profile-{i}.db" for i in range(10))
        databases.append(("sqlite", lambda: sqlite_database(next(files))))
        with services.postgres() as server:
            if server.url:
                admin = server.url
                databases.append(
                    (
                        "postgresql",
                        lambda: services.throwaway_database(admin, "profile"),
                    )
                )
            else:
                print(f"PostgreSQL skipped: {server.reason}\n")
            for dialect, new_database in databases:
                for paused in (False, True):
                    with new_database() as url:
                        clock = profile_import(url, folder, paused)
                    how = "collector paused" if paused else "as shipped"
                    print(clock.table(f"cold import into {dialect}, {how}") + "\n")
        print("cProfile of load_paths + check, top functions by own time:")
        print(profile_check(folder, args.save))


if __name__ == "__main__":
    main()
