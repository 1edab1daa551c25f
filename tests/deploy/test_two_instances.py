"""Two app instances behind nginx, sharing one PostgreSQL and one Redis.

The deployment of docs/operations.md, run for real: two gunicorn processes started
with ``deploy/gunicorn.conf.py`` on two ports (one worker each, to stay cheap), the
nginx site ``deploy/nginx/quizapp.conf`` in front of them (plain HTTP on a free
port, the TLS lines taken out), a throwaway ``redis-server`` for the rate limiter
and a fresh database on the PostgreSQL server of the run. It needs PostgreSQL, so
it runs in the PostgreSQL pass of scripts/run_tests.py and skips, saying why, in
the SQLite pass or when nginx (scripts/ensure-nginx, run by ``make test``) or
redis-server is missing.
"""

from __future__ import annotations

import http.client
import http.cookiejar
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import flask_migrate
import pytest
from sqlalchemy import select

from bench.services import redis
from quizapp.delivery.models import FINALIZED, AnswerEvent, Attempt
from quizapp.extensions import db
from tests.conftest import CSRF_INPUT, fresh_database, is_postgres, make_app
from tests.factories import make_quiz, make_user, right_answers
from tests.processes import GUNICORN_CONFIG, free_port, wait_for

pytestmark = pytest.mark.deploy

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "deploy" / "nginx" / "quizapp.conf"
PASSWORD = "correct horse battery"


def _nginx() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None
    )


def site_for_test(site: str, instances: list[int], port: int, static: Path) -> str:
    """deploy/nginx/quizapp.conf on plain HTTP: the upstream's two servers moved to
    ``instances``, the redirect server and the TLS lines taken out."""
    upstream = iter(instances)
    site = re.sub(
        r"server 127\.0\.0\.1:\d+", lambda _: f"server 127.0.0.1:{next(upstream)}", site
    )
    site = re.sub(r"server \{\s*listen 80;.*?\n\}\n", "", site, count=1, flags=re.S)
    site = re.sub(r"\s*listen \[::\]:443 ssl;|\s*http2 on;|\s*ssl_\w+ [^;]+;", "", site)
    site = site.replace("listen 443 ssl;", f"listen 127.0.0.1:{port};")
    return site.replace("/srv/quizapp/quizapp/static/", f"{static}/")


@dataclass
class Deployment:
    nginx: str
    a: str
    b: str
    app: object
    logs: dict[str, Path]


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    if not is_postgres():
        pytest.skip(
            "needs PostgreSQL (QUIZAPP_TEST_DATABASE_URL): runs in the PostgreSQL "
            "pass of scripts/run_tests.py"
        )
    nginx = _nginx()
    if nginx is None:
        pytest.skip("nginx is not installed (scripts/ensure-nginx installs it)")
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    scratch = tmp_path_factory.mktemp("deploy")
    url, drop = fresh_database(tmp_path_factory, "deploy")
    processes: list[subprocess.Popen] = []
    try:
        with redis() as store:
            if store.url is None:
                pytest.skip(f"no Redis: {store.reason}")
            app = make_app(url)
            with app.app_context():
                flask_migrate.upgrade()
            env = {k: v for k, v in os.environ.items() if not k.startswith("QUIZAPP_")}
            env |= {
                "QUIZAPP_ENV": "production",
                "QUIZAPP_SECRET_KEY": secrets.token_hex(32),
                "QUIZAPP_DATABASE_URL": url,
                "QUIZAPP_RATELIMIT_STORAGE_URL": store.url,
                "QUIZAPP_TRUSTED_PROXIES": "1",
                "WEB_CONCURRENCY": "1",
            }
            ports = [free_port(), free_port()]
            logs = {}
            for name, port in zip("ab", ports, strict=True):
                logs[name] = scratch / f"access-{name}.log"
                log = scratch / f"gunicorn-{name}.log"
                with log.open("wb") as output:
                    process = subprocess.Popen(
                        [
                            *(sys.executable, "-m", "gunicorn", "wsgi:app"),
                            *("-c", str(GUNICORN_CONFIG)),
                        ],
                        cwd=ROOT,
                        env=env
                        | {
                            "GUNICORN_BIND": f"127.0.0.1:{port}",
                            "GUNICORN_ACCESS_LOG": str(logs[name]),
                        },
                        stdout=output,
                        stderr=subprocess.STDOUT,
                    )
                processes.append(process)
            front = free_port()
            static = ROOT / "quizapp" / "static"
            site = site_for_test(SITE.read_text(), ports, front, static)
            (scratch / "nginx.conf").write_text(
                f"{'user root;' if os.geteuid() == 0 else ''}\n"
                f"daemon off;\npid {scratch}/nginx.pid;\n"
                f"error_log {scratch}/error.log;\n"
                "events { worker_connections 64; }\nhttp {\n"
                "include /etc/nginx/mime.types;\n"
                f"access_log {scratch}/nginx-access.log;\n"
                + "".join(
                    f"{kind}_temp_path {scratch}/{kind};\n"
                    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
                )
                + site
                + "}\n"
            )
            nginx_log = scratch / "nginx.out"
            with nginx_log.open("wb") as output:
                processes.append(
                    subprocess.Popen(
                        [nginx, "-c", str(scratch / "nginx.conf"), "-p", str(scratch)],
                        stdout=output,
                        stderr=subprocess.STDOUT,
                    )
                )
            for port, process, log in (
                (ports[0], processes[0], scratch / "gunicorn-a.log"),
                (ports[1], processes[1], scratch / "gunicorn-b.log"),
                (front, processes[2], nginx_log),
            ):
                wait_for(port, process, log)
            yield Deployment(
                f"http://127.0.0.1:{front}",
                f"http://127.0.0.1:{ports[0]}",
                f"http://127.0.0.1:{ports[1]}",
                app,
                logs,
            )
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        with_app = locals().get("app")
        if with_app is not None:
            with with_app.app_context():
                db.engine.dispose()
        drop()


class Browser:
    """One candidate's browser: one cookie jar, whichever instance it talks to
    (cookies do not depend on the port)."""

    def __init__(self) -> None:
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar)
        )

    def get(self, url: str) -> tuple[int, str, str]:
        return self._open(urllib.request.Request(url))  # noqa: S310 (http only)

    def post(self, url: str, form: dict | None = None, json_body=None, csrf=None):
        headers = {}
        if json_body is not None:
            data = json.dumps(json_body).encode()
            headers = {"Content-Type": "application/json", "X-CSRFToken": csrf}
        else:
            data = urllib.parse.urlencode(form or {}).encode()
        request = urllib.request.Request(  # noqa: S310 (http only)
            url, data, headers, method="POST"
        )
        return self._open(request)

    def _open(self, request) -> tuple[int, str, str]:
        try:
            with self.opener.open(request, timeout=10) as response:
                return response.status, response.geturl(), response.read().decode()
        except urllib.error.HTTPError as error:
            with error:
                return error.code, error.geturl(), error.read().decode()


def token(html: str) -> str:
    match = CSRF_INPUT.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def sign_in(browser: Browser, base: str, email: str, password: str) -> int:
    _, _, page = browser.get(f"{base}/sign-in")
    status, _, _ = browser.post(
        f"{base}/sign-in",
        {"csrf_token": token(page), "email": email, "password": password},
    )
    return status


def test_an_attempt_started_on_one_instance_continues_on_the_other(
    deployment, tmp_path
):
    with deployment.app.app_context():
        make_quiz(tmp_path, "shared-quiz", time_limit="30m")
        make_user(email="cleo@example.org", password=PASSWORD)
    browser = Browser()
    a, b, front = deployment.a, deployment.b, deployment.nginx

    assert sign_in(browser, a, "cleo@example.org", PASSWORD) == 200
    _, _, intro = browser.get(f"{a}/quizzes/shared-quiz")
    status, landed, page = browser.post(
        f"{a}/quizzes/shared-quiz/start", {"csrf_token": token(intro)}
    )
    assert status == 200
    attempt_id = int(re.search(r"/attempts/(\d+)/q/1", landed).group(1))
    with deployment.app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        answers = right_answers(attempt)
        db.session.remove()
    csrf = token(page)

    receipts = []
    positions = sorted(answers)
    for index, position in enumerate(positions):
        # The first half straight to instance B, the rest through nginx, which
        # shares them out between both.
        base = b if index < len(positions) // 2 else front
        status, _, body = browser.post(
            f"{base}/api/attempts/{attempt_id}/answers/{position}",
            json_body={"response": answers[position], "flagged": False},
            csrf=csrf,
        )
        assert status == 200, body
        receipts.append((position, json.loads(body)["saved_at"]))
    _, _, review = browser.get(f"{front}/attempts/{attempt_id}/review")
    status, landed, _ = browser.post(
        f"{front}/attempts/{attempt_id}/submit", {"csrf_token": token(review)}
    )

    assert status == 200
    assert landed.endswith(f"/attempts/{attempt_id}/result")
    with deployment.app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        assert attempt.status == FINALIZED
        # Every answer counted: all of them right, whichever instance took it.
        assert all(item.is_answered for item in attempt.items)
        assert attempt.score == attempt.max_score
        stored = {
            (event.position, event.at.isoformat())
            for event in db.session.scalars(
                select(AnswerEvent).where(AnswerEvent.attempt_id == attempt_id)
            )
        }
        db.session.remove()
    assert set(receipts) <= stored  # every acknowledged save has its row
    # nginx really used both instances.
    for name in "ab":
        assert (
            f"/api/attempts/{attempt_id}/answers/" in deployment.logs[name].read_text()
        )


def test_the_sign_in_throttle_counts_across_both_instances(deployment):
    with deployment.app.app_context():
        make_user(email="mallory@example.org", password=PASSWORD)
    browser = Browser()
    a, b = deployment.a, deployment.b

    # LOGIN_LIMIT_PER_ACCOUNT is 5 failures per 15 minutes: 3 on A, 2 on B.
    failures = [
        sign_in(browser, base, "mallory@example.org", "wrong password")
        for base in (a, b, a, b, a)
    ]
    sixth_on_b = sign_in(browser, b, "mallory@example.org", PASSWORD)
    seventh_on_a = sign_in(browser, a, "mallory@example.org", PASSWORD)

    assert failures == [401] * 5
    assert sixth_on_b == 429
    assert seventh_on_a == 429
