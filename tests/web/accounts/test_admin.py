"""The admin's account pages: who may reach them, and what each action changes."""

from __future__ import annotations

import re

import pytest

from quizapp.accounts.models import Role, User
from quizapp.core.audit import AuditEvent
from quizapp.extensions import db
from tests.conftest import Auth, Forms
from tests.factories import make_admin, make_user

#: Every staff page of this blueprint, with the method that reaches it.
STAFF_PAGES = [
    ("GET", "/admin/accounts"),
    ("GET", "/admin/accounts/new"),
    ("POST", "/admin/accounts/new"),
    ("GET", "/admin/accounts/{id}"),
    ("POST", "/admin/accounts/{id}/roles"),
    ("POST", "/admin/accounts/{id}/activation"),
]


@pytest.fixture
def admin(app, auth):
    user = make_admin(email="root@example.org", name="Root Admin")
    auth.sign_in("root@example.org")
    return user


@pytest.mark.parametrize(("method", "path"), STAFF_PAGES)
def test_staff_pages_send_anonymous_visitors_to_sign_in(app, forms, method, path):
    target = make_user()
    token = forms.token("/sign-in")

    response = forms.client.open(
        path.format(id=target.id), method=method, data={"csrf_token": token}
    )

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in?next=")


@pytest.mark.parametrize(("method", "path"), STAFF_PAGES)
@pytest.mark.parametrize("role", [Role.candidate, Role.instructor, Role.organiser])
def test_staff_pages_refuse_accounts_without_the_admin_role(
    app, auth, forms, method, path, role
):
    make_user(email="someone@example.org", roles=(role,))
    target = make_user()
    auth.sign_in("someone@example.org")
    token = forms.token("/account/password")

    response = forms.client.open(
        path.format(id=target.id), method=method, data={"csrf_token": token}
    )

    assert response.status_code == 403
    assert "Not allowed" in response.get_data(as_text=True)


def test_admin_lists_and_filters_accounts(admin, client):
    make_user(email="cand@example.org", name="Carla Candidate")
    make_user(
        email="inst@example.org", name="Ivan Instructor", roles=(Role.instructor,)
    )

    everyone = client.get("/admin/accounts").get_data(as_text=True)
    instructors = client.get("/admin/accounts?role=instructor").get_data(as_text=True)
    search = client.get("/admin/accounts?q=CARLA").get_data(as_text=True)

    assert "Carla Candidate" in everyone
    assert "Ivan Instructor" in everyone
    assert "Ivan Instructor" in instructors
    assert "Carla Candidate" not in instructors
    assert "Carla Candidate" in search
    assert "Ivan Instructor" not in search


def test_search_treats_sql_wildcards_as_text(admin, client):
    make_user(email="cand@example.org", name="Carla Candidate")

    html = client.get("/admin/accounts?q=%25").get_data(as_text=True)

    assert "No account matches these filters." in html


def test_admin_creates_a_staff_account_with_a_generated_password(admin, auth, forms):
    response = forms.post(
        "/admin/accounts/new",
        {"name": "Olu Organiser", "email": "olu@example.org", "roles": ["organiser"]},
        follow_redirects=True,
    )

    html = response.get_data(as_text=True)
    password = re.search(r"shown only now: (\S+)</div>", html).group(1)
    user = db.session.scalar(db.select(User).where(User.email == "olu@example.org"))
    assert user.role_names == {Role.organiser}
    auth.sign_out()
    assert auth.sign_in("olu@example.org", password).status_code == 302


def test_new_account_form_shows_errors_next_to_fields(admin, forms):
    make_user(email="taken@example.org")

    response = forms.post(
        "/admin/accounts/new",
        {"name": "X", "email": "taken@example.org", "roles": ["instructor"]},
    )

    assert response.status_code == 422
    assert "already exists" in response.get_data(as_text=True)
    none_chosen = forms.post(
        "/admin/accounts/new", {"name": "Y", "email": "y@example.org"}
    )
    assert "at least one role" in none_chosen.get_data(as_text=True)


def test_granting_and_revoking_a_role_is_recorded(admin, forms, client):
    user = make_user(email="cand@example.org")
    page = f"/admin/accounts/{user.id}"

    forms.post(f"{page}/roles", {"role": "instructor", "action": "grant"}, page=page)
    forms.post(f"{page}/roles", {"role": "candidate", "action": "revoke"}, page=page)

    db.session.refresh(user)
    assert user.role_names == {Role.instructor}
    actions = db.session.scalars(
        db.select(AuditEvent.action)
        .where(AuditEvent.target_id == user.id)
        .order_by(AuditEvent.id)
    ).all()
    assert actions[-2:] == ["account.role_granted", "account.role_revoked"]
    history = client.get(page).get_data(as_text=True)
    assert "role granted" in history
    assert "by Root Admin" in history


def test_the_last_admin_cannot_lose_the_role(admin, forms, client):
    page = f"/admin/accounts/{admin.id}"

    response = forms.post(
        f"{page}/roles",
        {"role": "admin", "action": "revoke"},
        page=page,
        follow_redirects=True,
    )

    assert "last active admin" in response.get_data(as_text=True)
    db.session.refresh(admin)
    assert admin.has_role(Role.admin)


def test_admin_cannot_deactivate_their_own_account(admin, forms):
    page = f"/admin/accounts/{admin.id}"

    response = forms.post(
        f"{page}/activation", {"action": "deactivate"}, page=page, follow_redirects=True
    )

    assert "cannot deactivate your own account" in response.get_data(as_text=True)
    db.session.refresh(admin)
    assert admin.is_active


def test_deactivating_an_account_blocks_it_and_reactivating_restores_it(
    admin, forms, app
):
    user = make_user(email="cand@example.org")
    page = f"/admin/accounts/{user.id}"

    forms.post(f"{page}/activation", {"action": "deactivate"}, page=page)
    db.session.refresh(user)
    assert not user.is_active
    candidate = Auth(Forms(app.test_client()))
    assert candidate.sign_in("cand@example.org").status_code == 403

    forms.post(f"{page}/activation", {"action": "activate"}, page=page)
    db.session.refresh(user)
    assert user.is_active
    assert candidate.sign_in("cand@example.org").status_code == 302


def test_role_change_without_csrf_is_rejected(admin, client):
    user = make_user()

    response = client.post(
        f"/admin/accounts/{user.id}/roles", data={"role": "admin", "action": "grant"}
    )

    assert response.status_code == 400
    db.session.refresh(user)
    assert not user.has_role(Role.admin)


def test_unknown_account_is_404(admin, client):
    assert client.get("/admin/accounts/999999").status_code == 404
