"""The policy layer every view goes through: who may reach a page, and whose object.

- Anonymous visitors of a protected page are sent to sign-in (Flask-Login).
- A signed-in user without the role gets 403.
- An object that exists but belongs to someone else is 404, the same as a missing
  one, so ids cannot be probed.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import abort
from flask_login import current_user

from quizapp.extensions import login_manager

F = TypeVar("F", bound=Callable[..., Any])


def role_required(*roles: str) -> Callable[[F], F]:
    """Allow a view to users holding at least one of ``roles``.

    :raise 401: (redirect to sign-in) for anonymous users.
    :raise 403: for users holding none of the roles.
    """
    if not roles:
        raise ValueError("role_required needs at least one role")

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        wrapper.required_roles = roles  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator


def is_safe_next(target: str | None) -> bool:
    """True for a same-site path such as ``/attempts/3``; False for anything that
    could send the user to another host (``//evil``, ``https://…``, ``\\evil``)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc
