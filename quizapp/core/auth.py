"""The policy layer every view goes through: who may reach a page.

Every view declares one rule, checked at start-up by :func:`check_access_rules`, so
a new page cannot ship without one:

- :func:`public`: anyone (sign-in, sign-up, the front page);
- :func:`signed_in`: any signed-in account; anonymous visitors go to sign-in;
- :func:`role_required`: accounts holding one of the roles; others get 403,
  anonymous visitors go to sign-in.

Objects that belong to someone else answer 404, the same as missing ones, so ids
cannot be probed; feature views check ownership when they load the object.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, abort, flash, redirect, request
from flask_login import current_user, login_required
from flask_login.utils import login_url

from quizapp.extensions import login_manager

F = TypeVar("F", bound=Callable[..., Any])

#: Attribute on a view holding its rule: "public", "signed_in" or a tuple of roles.
ACCESS_RULE = "access_rule"


def public(view: F) -> F:
    """Anyone may reach this view, signed in or not."""
    setattr(view, ACCESS_RULE, "public")
    return view


def signed_in(view: F) -> F:
    """Any signed-in account may reach this view.

    :raise 401: (redirect to sign-in) for anonymous users.
    """
    wrapper = login_required(view)
    setattr(wrapper, ACCESS_RULE, "signed_in")
    return wrapper  # type: ignore[return-value]


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

        setattr(wrapper, ACCESS_RULE, tuple(roles))
        return wrapper  # type: ignore[return-value]

    return decorator


def unauthorized():
    """Anonymous visitors: JSON endpoints answer 401, pages send them to sign-in
    (and back here afterwards)."""
    from quizapp.core.errors import wants_json

    if wants_json(request):
        abort(401)
    flash(login_manager.login_message, login_manager.login_message_category)
    return redirect(login_url(login_manager.login_view, request.url))


def is_safe_next(target: str | None) -> bool:
    """True for a same-site path such as ``/attempts/3``; False for anything that
    could send the user to another host (``//evil``, ``https://…``, ``\\evil``)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def check_access_rules(app: Flask) -> None:
    """:raise RuntimeError: naming every view that declares no access rule."""
    missing = sorted(
        endpoint
        for endpoint, view in app.view_functions.items()
        if endpoint != "static" and getattr(view, ACCESS_RULE, None) is None
    )
    if missing:
        raise RuntimeError(
            "views without an access rule (@public, @signed_in or @role_required): "
            + ", ".join(missing)
        )
