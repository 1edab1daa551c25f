"""Servers and databases the benchmarks use, started and stopped by the benchmarks.

:func:`postgres` hands out the local PostgreSQL cluster (127.0.0.1:5432, user
postgres, as on the development machines and CI), starting it if it is down and
stopping it again afterwards, so a run leaves the machine as it found it. When it
cannot be had, it says why and the PostgreSQL figures are recorded as skipped.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

HOST, PORT = "127.0.0.1", 5432
START_TIMEOUT = 30  # seconds


@dataclass
class Server:
    """A server to benchmark against: its URL, or None and the reason."""

    url: str | None
    reason: str


def _command(name: str, *args: str, timeout: float = 60) -> int | None:
    """Run a system tool; its exit code, or None if it is not installed."""
    path = shutil.which(name)
    if path is None:
        return None
    # Fixed arguments, no shell: nothing here comes from outside the program.
    done = subprocess.run(  # noqa: S603
        [path, *args], capture_output=True, timeout=timeout, check=False
    )
    return done.returncode


def _is_ready(port: int) -> bool:
    return _command("pg_isready", "-q", "-h", HOST, "-p", str(port), timeout=10) == 0


def _can_connect(url: str) -> str | None:
    """None if ``url`` answers a query, else the first line of the error."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        first = str(exc.orig or exc).strip().splitlines()
        return first[0] if first else type(exc).__name__
    finally:
        engine.dispose()
    return None


def _cluster_version() -> str | None:
    """The installed cluster version (``15``), from /etc/postgresql."""
    root = Path("/etc/postgresql")
    versions = sorted(p.name for p in root.iterdir()) if root.is_dir() else []
    return versions[-1] if versions else None


@contextmanager
def postgres(port: int = PORT, cluster: str = "main") -> Iterator[Server]:
    """The local PostgreSQL server; started here if it is down, stopped after.

    ``cluster`` is the Debian cluster name under /etc/postgresql/<version>/ that
    listens on ``port``.
    """
    admin_url = f"postgresql+psycopg://postgres@{HOST}:{port}/postgres"
    where = f"{HOST}:{port}"
    started: str | None = None
    if not _is_ready(port):
        version = _cluster_version()
        if version is None or shutil.which("pg_ctlcluster") is None:
            yield Server(
                None,
                f"no PostgreSQL answers on {where}, and there is no cluster to start "
                "(pg_ctlcluster, /etc/postgresql)",
            )
            return
        name = f"{version}/{cluster}"
        print(f"Starting PostgreSQL {name} for the benchmark...", flush=True)
        control = ("pg_ctlcluster", "--skip-systemctl-redirect", version, cluster)
        if _command(*control, "start") == 0:
            started = name
            deadline = time.monotonic() + START_TIMEOUT
            while not _is_ready(port) and time.monotonic() < deadline:
                time.sleep(0.2)
    try:
        problem = _can_connect(admin_url)
        if problem:
            yield Server(None, f"PostgreSQL on {where}: {problem}")
        else:
            how = f"started {started} for this run" if started else "already running"
            yield Server(admin_url, f"PostgreSQL on {where} ({how})")
    finally:
        if started:
            print(f"Stopping PostgreSQL {started} again.", flush=True)
            _command(*control, "stop")


@contextmanager
def throwaway_database(admin_url: str, label: str) -> Iterator[str]:
    """An empty database on the server of ``admin_url``, dropped on the way out."""
    name = f"quizapp_bench_{label}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = make_url(admin_url).set(database=name)
            yield url.render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(
                    text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                )
    finally:
        admin.dispose()


def machine_jiffies() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot, from /proc/stat."""
    first = Path("/proc/stat").read_text().split("\n", 1)[0]
    values = [int(v) for v in first.split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])  # guest time is already counted in user
    return total - idle, total


@contextmanager
def redis(port: int | None = None) -> Iterator[Server]:
    """A throwaway ``redis-server`` on 127.0.0.1 (a free port unless given), with
    nothing saved to disk, stopped after; its URL is ``redis://127.0.0.1:<port>/0``.
    """
    binary = shutil.which("redis-server")
    if binary is None:
        yield Server(None, "redis-server is not installed (apt-get install redis)")
        return
    if port is None:
        with socket.socket() as probe:
            probe.bind((HOST, 0))
            port = probe.getsockname()[1]
    # Fixed arguments, no shell.
    process = subprocess.Popen(  # noqa: S603
        [
            *(binary, "--bind", HOST, "--port", str(port), "--save", ""),
            *("--appendonly", "no", "--daemonize", "no", "--loglevel", "warning"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and process.poll() is None:
            with socket.socket() as probe:
                if probe.connect_ex((HOST, port)) == 0:
                    break
            time.sleep(0.02)
        if process.poll() is not None:
            yield Server(None, f"redis-server exited ({process.returncode})")
        else:
            yield Server(f"redis://{HOST}:{port}/0", f"Redis on {HOST}:{port}")
    finally:
        stop_process(process, 10)


def stop_process(process: subprocess.Popen, timeout: float = 30) -> None:
    """SIGTERM, then SIGKILL if ``process`` has not exited within ``timeout`` s."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
