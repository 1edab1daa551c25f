"""Headers every page carries."""

from __future__ import annotations

import pytest

from tests.factories import make_user


def test_pages_carry_a_strict_content_security_policy_and_friends(client):
    response = client.get("/sign-in")

    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "camera=()" in response.headers["Permissions-Policy"]
    assert response.headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in response.headers


def test_no_page_has_an_inline_script_or_style(app, client, auth):
    make_user(email="ada@example.org")
    pages = [
        client.get("/").get_data(as_text=True),
        client.get("/sign-up").get_data(as_text=True),
    ]
    auth.sign_in("ada@example.org")
    pages.append(client.get("/").get_data(as_text=True))

    for html in pages:
        assert "<script>" not in html
        assert "<style" not in html
        assert " style=" not in html
        assert "onclick=" not in html


class TestBehindHttps:
    @pytest.fixture
    def app_config(self):
        return {"BASE_URL": "https://quiz.example.org"}

    def test_cookies_are_secure_and_hsts_is_sent(self, app, auth):
        make_user(email="ada@example.org")

        response = auth.sign_in("ada@example.org")

        cookie = response.headers["Set-Cookie"]
        assert "Secure" in cookie
        assert "HttpOnly" in cookie
        assert "SameSite=Lax" in cookie
        assert "max-age=31536000" in response.headers["Strict-Transport-Security"]
