"""The intake: candidates take the screening quiz at once, at several concurrencies.

Starts what it measures: a throwaway database ``quizapp_bench_load_<random>`` on the
local PostgreSQL (durable defaults), a throwaway ``redis-server`` for the rate
limiter, and quizapp under gunicorn with ``deploy/gunicorn.conf.py`` (its default 4
sync workers) and ``QUIZAPP_ENV=production``. :mod:`bench.load_seed` imports the
sample programme and creates the accounts (not timed). Then, for each number of
candidates in :data:`LEVELS`, a fresh set of accounts runs the scenario of
:mod:`bench.locustfile` once, with Locust's ``FastHttpUser`` in one process on the
same machine, plus :data:`ORGANISERS` organisers:

* candidates arrive at :data:`SPAWN_RATE` a second (1,000 in 60 s), each signs in
  and opens the dashboard;
* once all are in, the window opens: each opens the intro and presses Start at a
  random moment of the next ``N / SPAWN_RATE`` seconds (1,000 in 60 s: the start
  spike);
* each then works through the 24 questions, saving about every 5 s;
* the run ends when every candidate has submitted.

Figures per level ``load.c<N>.*``: the save's p50 / p95 / p99 and the start's p95
(ms, Locust's), failed requests (anything but a 200 after redirects), saves per
second over the saving phase, lost answers (acknowledged saves with no
answer_events row), the largest resident size of a gunicorn worker (sampled every
second), and the question page's, dashboard's and leaderboard's p95. The targets
are on the 1,000 level. ``load.max_candidates`` is the largest level whose save p95
stayed under 150 ms with no failed request.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import create_engine, text

from bench import load_seed, services
from bench.autosave import ROOT, _children, gunicorn, wait_until_quiet
from bench.figures import Context, Figure

#: Concurrent candidates per run (each level gets its own accounts).
LEVELS = (100, 250, 500, 1000)
QUICK_LEVELS = (20,)
#: Candidates arriving (signing in and pressing Start) per second.
SPAWN_RATE = 1000 / 60
ORGANISERS = 3
#: Mean think time between a candidate's actions, seconds (a save every ~5 s).
THINK, QUICK_THINK = 5.0, 0.3
#: Seconds a run may last at most beyond the arrivals (24 questions at ~6.7 s).
RUN_MARGIN = 400
#: Seconds for Locust to start its users' first requests.
LOCUST_START = 5
#: Before each level, wait up to this long for other processes to calm down.
QUIET_WAIT = 20.0
LOCUSTFILE = Path(__file__).resolve().with_name("locustfile.py")
#: The issue's targets, on the 1,000 level.
TARGET_LEVEL = 1000
SAVE_P95, SAVE_P99, START_P95, WORKER_MB = 150, 400, 500, 150


@dataclass
class Level:
    """One Locust run at ``candidates``."""

    candidates: int
    stats: dict[str, dict]
    errors: list[dict]
    receipts: list[tuple[int, str]]
    lost: int
    worker_rss_mb: float
    seconds: float
    locust_cpu: float

    def stat(self, name: str, key: str) -> float | None:
        row = self.stats.get(name)
        return None if row is None or not row["count"] else float(row[key])

    @property
    def failures(self) -> int:
        return sum(row["failures"] for row in self.stats.values())

    @property
    def requests(self) -> int:
        return sum(row["count"] for row in self.stats.values())

    @property
    def saves_per_second(self) -> float | None:
        row = self.stats.get("save")
        if not row or not row["count"]:
            return None
        span = max(1.0, row["last_at"] - row["first_at"])
        return row["count"] / span

    def line(self) -> str:
        return (
            f"  {self.candidates} candidates: save p50 {self.stat('save', 'p50')} "
            f"p95 {self.stat('save', 'p95')} p99 {self.stat('save', 'p99')} ms, "
            f"start p95 {self.stat('start', 'p95')} ms, "
            f"{self.saves_per_second or 0:.1f} saves/s, {self.requests} requests, "
            f"{self.failures} failed, {self.lost} lost, worker RSS max "
            f"{self.worker_rss_mb:.0f} MB, {self.seconds:.0f} s, Locust CPU "
            f"{self.locust_cpu:.0f} s"
        )


def levels_to_run(quick: bool) -> tuple[int, ...]:
    """:data:`LEVELS`, or ``BENCH_LOAD_LEVELS`` (e.g. ``100,1000``) when set: fewer
    levels when the full run (about 30 min) does not fit."""
    chosen = os.environ.get("BENCH_LOAD_LEVELS")
    if chosen:
        return tuple(int(level) for level in chosen.split(","))
    return QUICK_LEVELS if quick else LEVELS


def run(context: Context) -> list[Figure]:
    levels = levels_to_run(context.quick)
    if shutil.which("redis-server") is None:
        return _skipped(levels, "redis-server is not installed")
    with services.postgres() as server, services.redis() as redis:
        if server.url is None or redis.url is None:
            reason = server.reason if server.url is None else redis.reason
            print(f"load: skipped: {reason}", flush=True)
            return _skipped(levels, reason)
        print(f"load: using {server.reason} and {redis.reason}", flush=True)
        with services.throwaway_database(server.url, "load") as url:
            return _measure(context, url, redis.url, levels)


def _measure(context: Context, url: str, redis_url: str, levels) -> list[Figure]:
    total = sum(levels)
    created = load_seed.seed(url, total, ORGANISERS)
    print(f"load: seeded {created['candidates']} candidates", flush=True)
    env = {
        "QUIZAPP_ENV": "production",
        "QUIZAPP_SECRET_KEY": secrets.token_hex(32),
        "QUIZAPP_DATABASE_URL": url,
        "QUIZAPP_RATELIMIT_STORAGE_URL": redis_url,
        # Every candidate signs in from 127.0.0.1: a campus behind one address.
        "QUIZAPP_LOGIN_LIMIT_PER_IP": "100000 per 15 minutes",
    }
    results = []
    with gunicorn("wsgi:app", env, context.scratch / "gunicorn.log") as app:
        first = 1
        for candidates in levels:
            if not context.quick:
                wait_until_quiet(QUIET_WAIT)
            level = drive(context, app, url, first, candidates)
            print(level.line(), flush=True)
            results.append(level)
            first += candidates
    return _figures(results)


def drive(context: Context, app, url: str, first: int, candidates: int) -> Level:
    """One Locust run of ``candidates`` seeded accounts from number ``first``."""
    out = context.scratch / f"locust-{candidates}.json"
    think = QUICK_THINK if context.quick else THINK
    arrivals = candidates / SPAWN_RATE
    # Everyone has signed in before the window opens; then they press Start
    # spread over as many seconds as they took to arrive (1,000 in 60 s).
    opens_at = time.time() + LOCUST_START + arrivals
    limit = int(LOCUST_START + 2 * arrivals + RUN_MARGIN * (think / THINK) + 30)
    env = os.environ | {
        "BENCH_LOAD_OUT": str(out),
        "BENCH_LOAD_FIRST": str(first),
        "BENCH_LOAD_CANDIDATES": str(candidates),
        "BENCH_LOAD_THINK": str(think),
        "BENCH_LOAD_OPENS_AT": f"{opens_at:.3f}",
        "BENCH_LOAD_START_WINDOW": f"{arrivals:.3f}",
        "BENCH_LOAD_ORGANISERS": str(ORGANISERS),
        "BENCH_LOAD_PASSWORD": load_seed.PASSWORD,
    }
    command = [
        *(sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless"),
        *("--host", app.url, "--users", str(candidates + ORGANISERS)),
        *("--spawn-rate", f"{SPAWN_RATE:.3f}", "--run-time", f"{limit}s"),
        *("--stop-timeout", "60", "--only-summary", "--loglevel", "WARNING"),
        "--exit-code-on-error",
        "0",
    ]
    sampler = _RssSampler(app.process.pid)
    sampler.start()
    before = _children_cpu()
    started = time.monotonic()
    log = context.scratch / f"locust-{candidates}.log"
    with log.open("wb") as output:
        # Our interpreter and fixed arguments.
        process = subprocess.Popen(  # noqa: S603
            command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT
        )
        _stop_when_done(process, out, candidates, limit)
    seconds = time.monotonic() - started
    sampler.stop()
    if not out.exists():
        raise RuntimeError(f"Locust wrote no results:\n{log.read_text()[-3000:]}")
    data = json.loads(out.read_text(encoding="utf-8"))
    receipts = [(int(a), at) for a, at in data["receipts"]]
    return Level(
        candidates,
        data["stats"],
        data["errors"],
        receipts,
        count_lost(url, receipts),
        sampler.peak_mb,
        seconds,
        _children_cpu() - before,
    )


def _stop_when_done(process, out: Path, candidates: int, limit: int) -> None:
    """Wait for Locust; once every candidate has submitted (its ``submit`` count,
    in the progress file the locustfile keeps), stop it early with SIGTERM, on which
    it writes its results."""
    progress = out.with_suffix(".done")
    deadline = time.monotonic() + limit + 120
    while process.poll() is None and time.monotonic() < deadline:
        time.sleep(1)
        with contextlib.suppress(OSError, ValueError):
            if int(progress.read_text() or 0) >= candidates:
                process.send_signal(signal.SIGTERM)
                break
    try:
        process.wait(timeout=120)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def count_lost(url: str, receipts: list[tuple[int, str]]) -> int:
    """Acknowledged saves (attempt id, ``saved_at``) without their answer_events
    row: what a 200 promised and the database does not have."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT attempt_id, at FROM answer_events"))
            stored = {(attempt_id, _iso(at)) for attempt_id, at in rows}
    finally:
        engine.dispose()
    return sum(1 for attempt_id, at in receipts if (attempt_id, at) not in stored)


def _iso(at: datetime) -> str:
    return at.isoformat()


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class _RssSampler(threading.Thread):
    """The largest resident size (MB) of any gunicorn worker, sampled each second."""

    def __init__(self, master: int) -> None:
        super().__init__(daemon=True)
        self.master = master
        self.peak_mb = 0.0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(1.0):
            for pid in _children(self.master):
                with contextlib.suppress(OSError, ValueError, IndexError):
                    status = Path(f"/proc/{pid}/status").read_text()
                    line = next(x for x in status.splitlines() if x.startswith("VmRSS"))
                    self.peak_mb = max(self.peak_mb, int(line.split()[1]) / 1024)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


# --- figures ----------------------------------------------------------------------


def _level_rows(candidates: int) -> list[tuple[str, str, float | None, str]]:
    """(name, unit, target, what it reads) of one level; targets on the 1,000."""
    on = candidates == TARGET_LEVEL
    prefix = f"load.c{candidates}"
    return [
        (f"{prefix}.save.p50", "ms", None, "save:p50"),
        (f"{prefix}.save.p95", "ms", SAVE_P95 if on else None, "save:p95"),
        (f"{prefix}.save.p99", "ms", SAVE_P99 if on else None, "save:p99"),
        (f"{prefix}.start.p95", "ms", START_P95 if on else None, "start:p95"),
        (f"{prefix}.question_page.p95", "ms", None, "question:p95"),
        (f"{prefix}.dashboard.p95", "ms", None, "dashboard:p95"),
        (f"{prefix}.leaderboard.p95", "ms", None, "leaderboard:p95"),
        (f"{prefix}.sign_in.p95", "ms", None, "sign-in:p95"),
        (f"{prefix}.saves_per_s", "saves/s", None, "saves_per_second"),
        (f"{prefix}.failed_requests", "requests", 0, "failures"),
        (f"{prefix}.lost_answers", "saves", 0, "lost"),
        (f"{prefix}.worker_rss_max", "MB", WORKER_MB, "worker_rss_mb"),
    ]


def _value(level: Level, what: str) -> float | None:
    if ":" in what:
        name, key = what.split(":")
        return level.stat(name, key)
    return getattr(level, what)


def _figures(levels: list[Level]) -> list[Figure]:
    figures = []
    for level in levels:
        for name, unit, target, what in _level_rows(level.candidates):
            figures.append(Figure(name, _value(level, what), unit, target))
    passing = [
        level.candidates
        for level in levels
        if level.failures == 0
        and (level.stat("save", "p95") or float("inf")) < SAVE_P95
    ]
    best = max(passing, default=0)
    figures.append(
        Figure("load.max_candidates", best, "candidates", TARGET_LEVEL, at_least=True)
    )
    return figures


def _skipped(levels, reason: str) -> list[Figure]:
    rows = [row for candidates in levels for row in _level_rows(candidates)]
    figures = [
        Figure(name, None, unit, target, note=reason) for name, unit, target, _ in rows
    ]
    figures.append(Figure("load.max_candidates", None, "candidates", note=reason))
    return figures
