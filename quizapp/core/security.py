"""Response headers that hold on every page, and what no request may carry."""

from __future__ import annotations

import re

from flask import Flask, Response, abort, request

#: No inline script or style anywhere: all of it is served from /static.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


NUL_REFUSED = "Text cannot contain NUL characters (U+0000)."
#: The JSON escape of U+0000, ``\u0000``, whose backslash is not itself escaped
#: (the text ``\u0000``, typed by a person, is sent as ``\\u0000`` and is fine).
JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def _has_nul() -> bool:
    if "\x00" in request.path:
        return True
    fields = [*request.args.lists(), *request.form.lists()]
    if any("\x00" in value for _name, values in fields for value in values):
        return True
    return request.is_json and JSON_NUL.search(request.get_data()) is not None


def register_security_headers(app: Flask) -> None:
    secure = app.config["SESSION_COOKIE_SECURE"]

    @app.before_request
    def refuse_nul():
        """PostgreSQL text and JSON cannot hold U+0000, and no person types one: a
        request carrying one in its address, a field or a JSON body is a 400
        before any view reads it (it was a 500 on PostgreSQL, fine on SQLite)."""
        if _has_nul():
            abort(400, NUL_REFUSED)

    @app.after_request
    def set_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=()"
        )
        if secure:
            headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )
        if response.mimetype == "text/html":
            # Pages carry personal data and answers: never from a shared cache.
            headers.setdefault("Cache-Control", "no-store")
        return response


def private_attachment(body: str | bytes, mimetype: str, name: str) -> Response:
    """A download of one person's data: saved as ``name``, kept by no cache."""
    return Response(
        body,
        mimetype=mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "private, no-store",
        },
    )
