"""A candidate's browser over plain HTTP: one session cookie, the page's CSRF token,
and the autosave calls of quizapp/static/js/attempt.js.

Requests can be sent and their answers read separately, so a test can do something
(kill the worker serving it) while one is in flight.
"""

from __future__ import annotations

import http.client
import json
import re
import urllib.parse
from dataclasses import dataclass
from http.cookies import SimpleCookie

from tests.conftest import CSRF_INPUT
from tests.factories import PASSWORD

TIMEOUT = 10  # seconds


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: str

    def json(self):
        return json.loads(self.body)


class Candidate:
    def __init__(self, base_url: str) -> None:
        parts = urllib.parse.urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port
        self.cookies: dict[str, str] = {}
        self.csrf = ""

    # --- HTTP ---------------------------------------------------------------------

    def send(
        self, method: str, path: str, form: dict | None = None, json_body=None
    ) -> http.client.HTTPConnection:
        """Send a request; read its answer with :meth:`receive`."""
        headers = {"Accept": "application/json" if json_body is not None else "*/*"}
        body = None
        if json_body is not None:
            body = json.dumps(json_body)
            headers |= {"Content-Type": "application/json", "X-CSRFToken": self.csrf}
        elif form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        connection = http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT)
        connection.request(method, path, body, headers)
        return connection

    def receive(self, connection: http.client.HTTPConnection) -> Reply:
        """The answer to what :meth:`send` sent; raises OSError (or
        http.client.HTTPException) when the connection broke."""
        try:
            response = connection.getresponse()
            body = response.read().decode()
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or ():
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return Reply(response.status, response.headers, body)

    def get(self, path: str) -> Reply:
        return self.receive(self.send("GET", path))

    def post(self, path: str, form: dict | None = None, json_body=None) -> Reply:
        return self.receive(self.send("POST", path, form, json_body))

    # --- what a candidate does ------------------------------------------------------

    def token(self, path: str) -> str:
        match = CSRF_INPUT.search(self.get(path).body)
        assert match, f"no CSRF token on {path}"
        self.csrf = match.group(1)
        return self.csrf

    def sign_in(self, email: str) -> None:
        form = {"email": email, "password": PASSWORD}
        reply = self.post("/sign-in", form | {"csrf_token": self.token("/sign-in")})
        assert reply.status == 302, reply.body[:500]

    def start(self, slug: str) -> int:
        """Start the quiz; return the attempt's id (the page's token is kept for
        the autosave calls)."""
        token = self.token(f"/quizzes/{slug}")
        reply = self.post(f"/quizzes/{slug}/start", {"csrf_token": token})
        assert reply.status == 302, reply.body[:500]
        landed = reply.headers["Location"]
        attempt_id = int(re.search(r"/attempts/(\d+)/q/1", landed)[1])
        self.token(f"/attempts/{attempt_id}/q/1")
        return attempt_id

    def send_answer(
        self, attempt_id: int, position: int, response
    ) -> http.client.HTTPConnection:
        return self.send(
            "POST",
            f"/api/attempts/{attempt_id}/answers/{position}",
            json_body={"response": response, "flagged": False},
        )

    def save(self, attempt_id: int, position: int, response) -> Reply:
        """One autosave call, answered."""
        return self.receive(self.send_answer(attempt_id, position, response))
