"""Run the whole suite on SQLite, then again on PostgreSQL when one answers.

    python scripts/run_tests.py [pytest arguments]

PostgreSQL is used when ``QUIZAPP_TEST_DATABASE_URL`` is set, or when a server
answers on 127.0.0.1:5432 as user postgres (database ``test``); each run creates its
own throwaway database on that server. Without one, the PostgreSQL run is skipped and
the summary says so, unless ``QUIZAPP_REQUIRE_POSTGRES=1`` (CI), which makes a skip
a failure. The last line totals both runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCAL_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@dataclass
class Outcome:
    name: str
    returncode: int
    passed: int = 0
    failed: int = 0
    skipped: int = 0

    def line(self) -> str:
        state = "ok" if self.returncode == 0 else f"FAILED (exit {self.returncode})"
        return (
            f"{self.name}: {self.passed} passed, {self.failed} failed, "
            f"{self.skipped} skipped: {state}"
        )


def postgres_url() -> tuple[str | None, str]:
    """The server to test against, or None with the reason."""
    url = os.environ.get("QUIZAPP_TEST_DATABASE_URL")
    if url:
        return url, "QUIZAPP_TEST_DATABASE_URL"
    try:
        import psycopg
    except ImportError:
        return None, "psycopg is not installed"
    try:
        psycopg.connect(
            "host=127.0.0.1 port=5432 user=postgres dbname=test", connect_timeout=3
        ).close()
    except psycopg.Error as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else exc
        return None, f"no PostgreSQL answered on 127.0.0.1:5432 ({first_line})"
    return LOCAL_POSTGRES, "the local server on 127.0.0.1:5432"


def run(name: str, args: list[str], env: dict[str, str], report: Path) -> Outcome:
    print(f"\n=== {name} ===", flush=True)
    command = [sys.executable, "-m", "pytest", f"--junitxml={report}", *args]
    returncode = subprocess.call(command, cwd=ROOT, env=env)
    outcome = Outcome(name, returncode)
    if report.exists():
        suites = ET.parse(report).getroot()  # noqa: S314  (our own pytest wrote it)
        for suite in suites.iter("testsuite"):
            tests = int(suite.get("tests", 0))
            failed = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
            skipped = int(suite.get("skipped", 0))
            outcome.failed += failed
            outcome.skipped += skipped
            outcome.passed += tests - failed - skipped
    # pytest's "no tests ran" (5) is a failure here: a suite that ran nothing proves
    # nothing.
    return outcome


def main(args: list[str]) -> int:
    base_env = {k: v for k, v in os.environ.items() if k != "QUIZAPP_TEST_DATABASE_URL"}
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory() as scratch:
        outcomes.append(run("SQLite", args, base_env, Path(scratch) / "sqlite.xml"))
        url, why = postgres_url()
        if url:
            print(f"\nPostgreSQL: using {why}", flush=True)
            env = {**base_env, "QUIZAPP_TEST_DATABASE_URL": url}
            outcomes.append(run("PostgreSQL", args, env, Path(scratch) / "pg.xml"))

    print("\n=== summary ===")
    for outcome in outcomes:
        print(outcome.line())
    failed = any(o.returncode != 0 for o in outcomes)
    if not url:
        print(f"PostgreSQL: skipped: {why}")
        if os.environ.get("QUIZAPP_REQUIRE_POSTGRES") == "1":
            print("PostgreSQL run required (QUIZAPP_REQUIRE_POSTGRES=1) but not done.")
            failed = True
    passed = sum(o.passed for o in outcomes)
    failures = sum(o.failed for o in outcomes)
    skipped = sum(o.skipped for o in outcomes)
    print(f"total: {passed} passed, {failures} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
