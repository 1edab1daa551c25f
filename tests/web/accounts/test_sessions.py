"""Sign-ins live on the server: signing out, changing the password or being
deactivated ends them, and a copy of the session cookie is worth nothing after."""

from __future__ import annotations

from quizapp.accounts.models import SignIn
from quizapp.extensions import db
from tests.factories import make_admin, make_user

COOKIE = "quizapp_session"


def _cookie(client) -> str:
    return client.get_cookie(COOKIE).value


def _replay(app, cookie: str):
    """What a thief holding ``cookie`` sees on a private page."""
    thief = app.test_client()
    thief.set_cookie(COOKIE, cookie)
    return thief.get("/account/password")


def test_sign_in_records_the_browser_and_address(app, auth, client):
    user = make_user(email="ada@example.org")

    client.environ_base["HTTP_USER_AGENT"] = "Mozilla/5.0 (X11; Linux) Firefox/140"
    auth.sign_in("ada@example.org")

    sign_in = db.session.scalars(db.select(SignIn)).one()
    assert (sign_in.user_id, sign_in.ip) == (user.id, "127.0.0.1")
    assert sign_in.user_agent.endswith("Firefox/140")


def test_a_cookie_copied_before_sign_out_no_longer_signs_in(app, auth, client):
    make_user(email="ada@example.org")
    auth.sign_in("ada@example.org")
    stolen = _cookie(client)
    assert _replay(app, stolen).status_code == 200

    auth.sign_out()

    assert db.session.scalar(db.select(db.func.count()).select_from(SignIn)) == 0
    response = _replay(app, stolen)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in")


def test_signing_out_one_browser_leaves_the_others_signed_in(app, auth, client):
    make_user(email="ada@example.org")
    auth.sign_in("ada@example.org")
    laptop = _cookie(client)
    client.delete_cookie(COOKIE)
    auth.sign_in("ada@example.org")

    auth.sign_out()

    assert _replay(app, laptop).status_code == 200


def test_a_password_change_ends_the_other_sign_ins_and_keeps_this_one(
    app, auth, client, forms
):
    make_user(email="ada@example.org")
    auth.sign_in("ada@example.org")
    other_browser = _cookie(client)
    client.delete_cookie(COOKIE)
    auth.sign_in("ada@example.org")

    forms.post(
        "/account/password",
        {
            "current_password": "correct horse battery",
            "new_password": "a brand new passphrase",
            "confirm": "a brand new passphrase",
        },
    )

    assert _replay(app, other_browser).status_code == 302
    assert client.get("/account/password").status_code == 200
    assert db.session.scalar(db.select(db.func.count()).select_from(SignIn)) == 1


def test_deactivation_ends_the_sign_ins_at_once(app, auth, client, forms):
    make_user(email="ada@example.org")
    auth.sign_in("ada@example.org")
    candidate_cookie = _cookie(client)
    client.delete_cookie(COOKIE)
    admin = make_admin(email="root@example.org")
    user_id = db.session.scalar(
        db.select(SignIn.user_id).where(SignIn.user_id != admin.id)
    )
    auth.sign_in("root@example.org")

    forms.post(
        f"/admin/accounts/{user_id}/activation",
        {"action": "deactivate"},
        page=f"/admin/accounts/{user_id}",
    )

    assert _replay(app, candidate_cookie).status_code == 302
    assert db.session.scalars(db.select(SignIn.user_id)).all() == [admin.id]
