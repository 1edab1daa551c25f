"""What a person does: sign up, fix a mistake, sign out and in; grant a role."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from quizapp.core import mail
from tests.browser.conftest import screenshot
from tests.factories import make_admin, make_user

pytestmark = pytest.mark.browser


def fill_sign_up(page: Page, password: str) -> None:
    page.get_by_label("Full name").fill("Grace Hopper")
    page.get_by_label("E-mail").fill("grace@example.org")
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("Repeat the password").fill(password)
    page.get_by_label("School or employer").fill("Yale University")
    page.get_by_label("Discipline").select_option("Mathematics / statistics")
    page.get_by_label("Graduation year").fill("2027")


def test_candidate_signs_up_fixes_a_weak_password_signs_out_and_in(page: Page):
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto("/")
    screenshot(page, "landing")

    page.get_by_role("link", name="Create a candidate account").first.click()
    fill_sign_up(page, "password123")
    page.get_by_role("button", name="Create account").click()

    password = page.get_by_label("Password", exact=True)
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#password-error")).to_contain_text("too easy to guess")
    expect(page.get_by_label("School or employer")).to_have_value("Yale University")
    screenshot(page, "sign-up-errors")

    password.fill("compiler moth cobol navy")
    page.get_by_label("Repeat the password").fill("compiler moth cobol navy")
    page.get_by_role("button", name="Create account").click()

    expect(page.get_by_role("heading", name="Hello, Grace Hopper")).to_be_visible()
    expect(page.get_by_text("Your account is ready")).to_be_visible()
    screenshot(page, "dashboard")

    page.get_by_role("button", name="Grace Hopper").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()

    page.get_by_label("E-mail").fill("grace@example.org")
    page.get_by_label("Password").fill("compiler moth cobol navy")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Hello, Grace Hopper")).to_be_visible()


def test_sign_up_fits_a_phone_and_the_menu_opens(page: Page):
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto("/sign-up")

    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"page is {width}px wide on a 360px screen"
    screenshot(page, "sign-up-phone")

    page.get_by_role("button", name="Show navigation").click()
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Sign in")).to_be_visible()


def test_wrong_password_shows_one_message(page: Page, app):
    make_user(email="ada@example.org")
    page.goto("/sign-in")

    page.get_by_label("E-mail").fill("ada@example.org")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("alert")).to_contain_text("do not match an account")


def test_admin_grants_a_role_and_sees_it_in_the_history(page: Page, app):
    make_admin(email="root@example.org", name="Root Admin")
    make_user(email="ines@example.org", name="Ines Instructor")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto("/sign-in")
    page.get_by_label("E-mail").fill("root@example.org")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()

    page.get_by_role("link", name="Accounts", exact=True).click()
    screenshot(page, "admin-accounts")
    page.get_by_role("link", name="Ines Instructor").click()
    page.get_by_role("button", name="Grant instructor").click()

    expect(
        page.get_by_text("Role instructor granted to Ines Instructor.")
    ).to_be_visible()
    expect(page.get_by_role("button", name="Revoke instructor")).to_be_visible()
    expect(page.get_by_text("role granted")).to_be_visible()
    screenshot(page, "admin-account")


def test_a_forgotten_password_is_reset_through_the_link_in_the_mail(
    page: Page, live_app
):
    make_user(email="ada@example.org", name="Ada Lovelace")
    with live_app.app_context():
        mail.outbox().clear()
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto("/sign-in")

    page.get_by_role("link", name="Forgotten your password?").click()
    page.get_by_label("E-mail").fill("ada@example.org")
    page.get_by_role("button", name="Send me a link").click()

    expect(page.get_by_role("alert").first).to_contain_text("we have sent it a link")
    with live_app.app_context():
        (message,) = mail.outbox()
    link = re.search(r"https?://\S+(/password/reset/\S+)", message.body).group(1)
    page.goto(link)
    expect(page.get_by_text("ada@example.org")).to_be_visible()
    page.get_by_label("New password", exact=True).fill("analytical engine notes")
    page.get_by_label("Repeat the new password").fill("analytical engine notes")
    screenshot(page, "password-reset")
    page.get_by_role("button", name="Set the new password").click()

    expect(page.get_by_role("alert").first).to_contain_text("Sign in with it")
    page.get_by_label("E-mail").fill("ada@example.org")
    page.get_by_label("Password").fill("analytical engine notes")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Hello, Ada Lovelace")).to_be_visible()

    page.goto(link)  # used once
    expect(page.get_by_role("alert").first).to_contain_text("already been used")
    page.goto("/account/data")
    expect(page.get_by_role("heading", name="Your data", exact=True)).to_be_visible()
    screenshot(page, "your-data")
