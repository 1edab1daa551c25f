"""Build accounts and other rows for tests, committed so every client sees them."""

from __future__ import annotations

from quizapp.accounts import services
from quizapp.accounts.models import Role, User
from quizapp.extensions import db

PASSWORD = "correct horse battery"
_counter = iter(range(1, 1_000_000))


def make_user(
    email: str | None = None,
    roles: tuple[str, ...] = (Role.candidate,),
    password: str = PASSWORD,
    name: str | None = None,
    active: bool = True,
    **fields,
) -> User:
    n = next(_counter)
    email = email or f"user{n}@example.org"
    user, _ = services.create_account(email, name or f"User {n}", roles, password)
    if Role.candidate in roles:
        fields = {
            "school": "Example Polytechnic",
            "discipline": "Engineering",
            "graduation_year": 2025,
            **fields,
        }
    for key, value in fields.items():
        setattr(user, key, value)
    user.is_active = active
    db.session.commit()
    return user


def make_admin(**kwargs) -> User:
    return make_user(roles=(Role.admin,), **kwargs)
