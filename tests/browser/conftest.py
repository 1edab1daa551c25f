"""Browser tests: Debian's Chromium, driven by Playwright, against the app served
from a thread on 127.0.0.1 with the run's test database."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import expect
from werkzeug.serving import make_server

from quizapp.extensions import db
from tests.conftest import make_app

CHROMIUM = Path("/usr/bin/chromium")

# Assertions wait up to 15 s (Playwright's default is 5): a page that needs a save,
# a redirect and a render can take longer than 5 s on a loaded 2-core CI machine,
# and a passing test still returns as soon as the page is right.
expect.set_options(timeout=15_000)
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def pytest_collection_modifyitems(config, items):
    if CHROMIUM.exists():
        return
    if os.environ.get("CI"):
        raise pytest.UsageError(
            f"{CHROMIUM} is missing on CI: run scripts/ensure-chromium first"
        )
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is missing (scripts/ensure-chromium)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


#: Chromium's flags for a root shell without a display (also tests/faults).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="session")
def live_app(database_url: str) -> Flask:
    """The app the browser talks to (its mail outbox, for one)."""
    return make_app(database_url)


@pytest.fixture(scope="session")
def live_server(live_app: Flask) -> Iterator[str]:
    app = live_app
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def base_url(live_server: str) -> str:
    return live_server


@pytest.fixture
def page(page, app):
    """Playwright's page, failing the test on a script error, a CSP violation or a
    missing file. (A 4xx page itself, such as a form sent back with errors, is fine.)"""
    errors: list[str] = []

    def on_console(message) -> None:
        if message.type == "error" and "Failed to load resource" not in message.text:
            errors.append(message.text)

    def on_response(response) -> None:
        if response.status >= 400 and response.request.resource_type != "document":
            errors.append(f"{response.status} {response.url}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("response", on_response)
    yield page
    assert errors == [], f"browser console errors: {errors}"


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
