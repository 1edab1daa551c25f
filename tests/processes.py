"""Real processes for tests: gunicorn with the deployment's settings, its workers,
and a private PostgreSQL cluster that a test may stop and start.

Used by tests/deploy (two instances behind nginx) and tests/faults (crashes and
outages). Every process started here is ended by the context manager that started
it, whether the test passed or not.
"""

from __future__ import annotations

import glob
import http.client
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GUNICORN_CONFIG = ROOT / "deploy" / "gunicorn.conf.py"
START_TIMEOUT = 20  # seconds


def missing(reason: str) -> None:
    """A tool the test needs is not installed: skip, except on CI (``CI`` set),
    where the test must not pass by not running."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (required on CI)")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(port: int, process: subprocess.Popen, log: Path) -> None:
    """Return once something answers HTTP on ``port``; fail with the end of
    ``log`` if ``process`` exits first or nothing answers in time."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{process.args[2:4]} exited:\n{log.read_text()[-2000:]}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/sign-in")
            connection.getresponse().read()
            connection.close()
            return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"nothing answered on port {port}:\n{log.read_text()[-2000:]}")


def end(processes: list[subprocess.Popen]) -> None:
    """Terminate ``processes`` and wait for them; kill those that linger."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def children(pid: int) -> set[int]:
    """The pids of ``pid``'s child processes (from /proc: Linux only)."""
    found: set[int] = set()
    for path in glob.glob(f"/proc/{pid}/task/*/children"):
        try:
            found.update(int(child) for child in Path(path).read_text().split())
        except FileNotFoundError:  # the thread ended meanwhile
            continue
    return found


def _established_sockets(port: int) -> set[str]:
    """Inodes of the TCP connections accepted on local ``port`` (IPv4)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, state, inode = fields[1], fields[3], fields[9]
        if int(local.rsplit(":", 1)[1], 16) == port and state == "01":
            inodes.add(inode)
    return inodes


def _sockets_of(pid: int) -> set[str]:
    inodes = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except FileNotFoundError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[len("socket:[") : -1])
    except FileNotFoundError:  # the process ended
        pass
    return inodes


@dataclass
class Gunicorn:
    """A gunicorn master started with deploy/gunicorn.conf.py."""

    url: str
    port: int
    process: subprocess.Popen
    log: Path

    def workers(self) -> set[int]:
        return children(self.process.pid)

    def wait_for_workers(self, count: int, timeout: float = 15) -> set[int]:
        """The workers, once there are ``count`` of them."""
        deadline = time.monotonic() + timeout
        while len(workers := self.workers()) != count:
            if time.monotonic() > deadline:
                pytest.fail(f"workers {workers}:\n{self.log.read_text()[-2000:]}")
            time.sleep(0.05)
        return workers

    def busy_worker(self, timeout: float = 2) -> int | None:
        """The worker holding an accepted connection (serving a request), or None
        if none does within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            established = _established_sockets(self.port)
            for pid in self.workers():
                if _sockets_of(pid) & established:
                    return pid
            time.sleep(0.001)
        return None


@contextmanager
def gunicorn(
    database_url: str, scratch: Path, workers: int = 1, **settings: str
) -> Iterator[Gunicorn]:
    """Serve the app as production does: gunicorn, deploy/gunicorn.conf.py,
    ``QUIZAPP_ENV=production``, on a free port of 127.0.0.1.

    :param settings: more ``QUIZAPP_*`` settings, without the prefix.
    """
    port = free_port()
    log = scratch / f"gunicorn-{port}.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUIZAPP_")}
    env |= {
        "QUIZAPP_ENV": "production",
        "QUIZAPP_SECRET_KEY": secrets.token_hex(32),
        "QUIZAPP_DATABASE_URL": database_url,
        "WEB_CONCURRENCY": str(workers),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
    }
    env |= {f"QUIZAPP_{key}": value for key, value in settings.items()}
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "wsgi:app", "-c", str(GUNICORN_CONFIG)],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(port, process, log)
        yield Gunicorn(f"http://127.0.0.1:{port}", port, process, log)
    finally:
        end([process])


def kill(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)


# --- a private PostgreSQL cluster ---------------------------------------------------


def postgres_bin() -> Path | None:
    """The newest installed PostgreSQL's bin folder with initdb and pg_ctl."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda path: int(Path(path).parts[-3]),
    )
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb and shutil.which("pg_ctl") else None


class PrivatePostgres:
    """A PostgreSQL cluster of the test's own, on a free port of 127.0.0.1, that
    the test may stop and start (never the machine's shared one: other tests use
    it). PostgreSQL refuses to run as root, so as root it runs as ``postgres``."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.port = free_port()
        # Under /tmp and owned by the server's user: pytest's own temporary
        # folders are private to root.
        self.root = Path(tempfile.mkdtemp(prefix="quizapp-pg-", dir="/tmp"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            self.as_user = ["runuser", "-u", "postgres", "--"]
            shutil.chown(self.root, "postgres", "postgres")

    def init(self) -> None:
        self._run(
            "initdb",
            *("-D", str(self.data), "--auth=trust", "-U", "postgres"),
            "--no-sync",
        )

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c full_page_writes=off"
        )
        self._run(
            "pg_ctl",
            *("-D", str(self.data), "-l", str(self.log), "-w", "-o", options),
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: ``fast`` ends every session and shuts down cleanly."""
        self._run("pg_ctl", "-D", str(self.data), "-w", "-m", mode, "stop")

    def is_running(self) -> bool:
        status = subprocess.run(
            [
                *self.as_user,
                str(self.bindir / "pg_ctl"),
                "-D",
                str(self.data),
                "status",
            ],
            capture_output=True,
            check=False,
        )
        return status.returncode == 0

    def close(self) -> None:
        try:
            if self.data.exists() and self.is_running():
                self.stop("immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def _run(self, tool: str, *args: str) -> None:
        result = subprocess.run(
            [*self.as_user, str(self.bindir / tool), *args],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            server_log = self.log.read_text()[-2000:] if self.log.exists() else ""
            raise RuntimeError(
                f"{tool} {' '.join(args)} failed:\n{result.stdout}{result.stderr}"
                f"{server_log}"
            )


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    """A started :class:`PrivatePostgres`, removed with its files afterwards;
    skips (fails on CI) when PostgreSQL's server programs are not installed."""
    bindir = postgres_bin()
    if bindir is None:
        missing("PostgreSQL's initdb and pg_ctl are not installed")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        missing("runuser is needed to run PostgreSQL as postgres")
    cluster = PrivatePostgres(bindir)
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        cluster.close()
