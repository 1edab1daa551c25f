"""Changing a password: checks, and that other browsers are signed out."""

from __future__ import annotations

from tests.factories import PASSWORD, make_user

NEW = "granite lantern orbit 42"


def change(forms, current, new, confirm=None):
    return forms.post(
        "/account/password",
        {"current_password": current, "new_password": new, "confirm": confirm or new},
    )


def test_wrong_current_password_is_shown_next_to_the_field(app, auth, forms):
    make_user(email="ada@example.org")
    auth.sign_in("ada@example.org")

    response = change(forms, "not my password", NEW)

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="current_password-error"' in html
    assert "not your current password" in html


def test_weak_new_password_is_refused(app, auth, forms):
    make_user(email="ada@example.org")
    auth.sign_in("ada@example.org")

    response = change(forms, PASSWORD, "1234567890")

    assert response.status_code == 422
    assert 'id="new_password-error"' in response.get_data(as_text=True)


def test_new_password_works_old_one_does_not_and_other_browsers_are_out(
    app, auth, forms, client
):
    make_user(email="ada@example.org")
    laptop = app.test_client()
    laptop_auth = type(auth)(type(forms)(laptop))
    laptop_auth.sign_in("ada@example.org")
    auth.sign_in("ada@example.org")

    response = change(forms, PASSWORD, NEW)

    assert response.status_code == 302
    assert client.get("/account/password").status_code == 200  # this browser stays
    assert laptop.get("/account/password").status_code == 302  # the other is out
    auth.sign_out()
    assert auth.sign_in("ada@example.org", PASSWORD).status_code == 401
    assert auth.sign_in("ada@example.org", NEW).status_code == 302
