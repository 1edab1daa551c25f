"""Where one autosave spends its time, in one process, on the local PostgreSQL.

    python -m bench.profile_autosave [--saves 400] [--save DIR]

Not part of ``make bench``: it explains the ``autosave.*`` figures rather than
measuring them. It builds the benchmark's quiz and one candidate in a throwaway
database (the same setup as :mod:`bench.autosave`), signs in through Flask's test
client and then, for ``POST /api/attempts/<id>/answers/<position>``:

* prints every SQL statement of one save, counted with SQLAlchemy's
  ``before_cursor_execute`` event, plus the pool check-outs (each costs a
  ``pool_pre_ping`` round trip that no statement event sees) and the commits;
* counts the round trips to PostgreSQL per save from libpq's own protocol trace
  (``PQtrace``: every simple ``Query`` and every extended-protocol ``Sync`` the
  client sends waits for the server), so BEGIN, COMMIT, ROLLBACK and the pings
  are in it too;
* times ``--saves`` saves in a loop: wall time per save and the part of it inside
  the database driver (between the cursor events);
* prints cProfile's top functions over those saves (``--save DIR`` writes the
  ``.prof`` file, for snakeviz or ``python -m pstats``).

No gunicorn and no network here: HTTP parsing and the socket are not in it, which
is what ``autosave.save.app_cpu_per_request`` adds on top.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import event

from bench import services
from bench.autosave import (
    PASSWORD,
    SEED_CONFIG,
    USER_AGENT,
    BenchError,
    _csrf_token,
    _save_path,
    seed,
)
from bench.banks import migrate_quietly
from quizapp import create_app
from quizapp.extensions import db


class Statements:
    """SQL statements, pool check-outs and commits, and the time in the driver."""

    def __init__(self) -> None:
        self.sql: list[str] = []
        self.checkouts = 0
        self.commits = 0
        self.driver = 0.0
        self._start = 0.0

    def reset(self) -> None:
        self.__init__()

    def listen(self, engine: Any) -> None:
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)
        event.listen(engine, "commit", self._commit)
        event.listen(engine.pool, "checkout", self._checkout)

    def _before(self, conn, cursor, statement, *args: Any) -> None:
        self.sql.append(" ".join(statement.split()))
        self._start = time.perf_counter()

    def _after(self, *args: Any) -> None:
        self.driver += time.perf_counter() - self._start

    def _commit(self, *args: Any) -> None:
        self.commits += 1

    def _checkout(self, *args: Any) -> None:
        self.checkouts += 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saves", type=int, default=400)
    parser.add_argument("--save", type=Path, help="folder for autosave.prof")
    parser.add_argument(
        "--no-cprofile",
        action="store_true",
        help="skip cProfile (when sampling this process with py-spy instead)",
    )
    args = parser.parse_args(argv)
    with services.postgres() as server:
        if server.url is None:
            raise SystemExit(f"PostgreSQL is needed: {server.reason}")
        with (
            services.throwaway_database(server.url, "profile") as url,
            tempfile.TemporaryDirectory(prefix="quizapp-profile-") as scratch,
        ):
            app = create_app({**SEED_CONFIG, "DATABASE_URL": url})
            try:
                migrate_quietly(app)
                (candidate,) = seed(app, Path(scratch), 1)
                profile(app, candidate, args.saves, args.save, not args.no_cprofile)
            finally:
                with app.app_context():
                    db.engine.dispose()
    return 0


def profile(
    app: Any, candidate: Any, saves: int, folder: Path | None, cprofile: bool
) -> None:
    client = app.test_client()
    headers = {"User-Agent": USER_AGENT}
    token = _csrf_token(client.get("/sign-in", headers=headers).text)
    form = {"email": candidate.email, "password": PASSWORD, "csrf_token": token}
    if client.post("/sign-in", data=form, headers=headers).status_code != 302:
        raise BenchError("sign-in failed")
    page = client.get(f"/attempts/{candidate.attempt_id}/q/1", headers=headers)
    headers |= {"X-CSRFToken": _csrf_token(page.text)}

    def save(number: int) -> None:
        position, body = candidate.answers[number % len(candidate.answers)]
        answer = client.post(
            _save_path(candidate, position),
            data=body,
            content_type="application/json",
            headers=headers,
        )
        if answer.status_code != 200:
            raise BenchError(f"save failed: {answer.status_code} {answer.text}")

    for number in range(len(candidate.answers)):  # every position once: warm
        save(number)
    with app.app_context():
        engine = db.engine
    statements = Statements()
    statements.listen(engine)

    print("One save (position 1):")
    save(0)
    for number, sql in enumerate(statements.sql, start=1):
        print(f"  {number}. {sql[:160]}{'...' if len(sql) > 160 else ''}")
    print(
        f"  = {len(statements.sql)} statements, {statements.checkouts} pool "
        f"check-out(s) (one pre-ping each), {statements.commits} commit(s)\n"
    )

    trips, messages = round_trips(engine, lambda: [save(n) for n in range(8)])
    print(
        f"Round trips to PostgreSQL per save (libpq trace of 8 saves): "
        f"{trips / 8:.1f}; one save's, from a COMMIT to the next:"
    )
    print("  " + "\n  ".join(messages))
    print()

    statements.reset()
    kinds: Counter[str] = Counter()
    start, cpu = time.perf_counter(), time.process_time()
    for number in range(saves):
        save(number)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    kinds.update(sql.split()[0] for sql in statements.sql)
    print(
        f"{saves} saves over every position: {1000 * wall / saves:.2f} ms each "
        f"({1000 * cpu / saves:.2f} ms of this process's CPU), of which "
        f"{1000 * statements.driver / saves:.2f} ms inside the driver; per "
        f"save {len(statements.sql) / saves:.1f} statements "
        f"({', '.join(f'{k} {n / saves:.1f}' for k, n in kinds.most_common())}), "
        f"{statements.checkouts / saves:.1f} check-outs, "
        f"{statements.commits / saves:.1f} commits\n"
    )

    if not cprofile:
        return
    profiler = cProfile.Profile()
    profiler.enable()
    for number in range(saves):
        save(number)
    profiler.disable()
    for order in ("tottime", "cumulative"):
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats(order).print_stats(25)
        print(f"cProfile, {saves} saves, by {order}:")
        print(_trim(text.getvalue()))
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        profiler.dump_stats(folder / "autosave.prof")
        print(f"wrote {folder / 'autosave.prof'}")


def round_trips(engine: Any, action: Any) -> tuple[int, list[str]]:
    """Run ``action`` on new connections traced by libpq: (round trips, one
    save's round trips in short form)."""
    from psycopg import pq

    engine.dispose()
    with tempfile.TemporaryFile("w+") as trace:

        def on_connect(dbapi_connection: Any, record: Any) -> None:
            dbapi_connection.pgconn.trace(trace.fileno())
            dbapi_connection.pgconn.set_trace_flags(
                pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE
            )

        event.listen(engine, "connect", on_connect)
        try:
            action()
            engine.dispose()  # the connections are closed, so no longer traced
        finally:
            event.remove(engine, "connect", on_connect)
        trace.seek(0)
        # "F<TAB>length<TAB>Query<TAB> "BEGIN"": what the client (frontend) sent.
        sent = [line.rstrip("\n").split("\t") for line in trace]
    sent = [fields for fields in sent if fields[0] == "F" and len(fields) > 2]
    waits = sum(1 for fields in sent if fields[2] in ("Query", "Sync"))
    # One cycle from the first COMMIT to the second: a save in the steady state
    # (what follows one save's COMMIT up to the next one's), with a round trip
    # per line: a simple Query, or Parse/Bind/Execute up to a Sync.
    shown: list[str] = []
    commits = 0
    parsed = ""
    for fields in sent:
        kind, text = fields[2], fields[3].strip() if len(fields) > 3 else ""
        if kind == "Parse":
            parsed = " ".join(text.split()[1:4])
        elif kind == "Sync":
            shown.append(f"{parsed or 'a prepared statement'} ... (extended protocol)")
            parsed = ""
        elif kind == "Query":
            shown.append(f"Query {text}")
            if text == '"COMMIT"':
                commits += 1
                if commits == 1:
                    shown = []
                elif commits == 2:
                    break
    return waits, shown


def _trim(report: str) -> str:
    """pstats' table without its preamble."""
    lines = report.splitlines()
    start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
    return "\n".join(lines[start:])


if __name__ == "__main__":
    raise SystemExit(main())
