"""Read-only queries behind the account pages."""

from __future__ import annotations

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import or_

from quizapp.accounts.models import User, UserRole
from quizapp.extensions import db

PAGE_SIZE = 50
#: Past this page the offset would overflow the database's integer.
LAST_PAGE = 2**31 // PAGE_SIZE


def account_page(
    search: str = "", role: str | None = None, status: str | None = None, page: int = 1
) -> Pagination:
    """One page of accounts, newest first, filtered by a name or e-mail fragment,
    a role and a status (active, deactivated, deletion requested and not yet
    answered, anonymised). Roles come in one extra query for the page."""
    query = db.select(User).order_by(User.created_at.desc(), User.id.desc())
    if search.strip():
        term = search.strip().lower()  # (% and _ in it match themselves)
        query = query.where(
            or_(
                User.email.contains(term, autoescape=True),
                db.func.lower(User.name).contains(term, autoescape=True),
            )
        )
    if role:
        query = query.where(
            User.id.in_(db.select(UserRole.user_id).where(UserRole.role == role))
        )
    if status == "active":
        query = query.where(User.is_active.is_(True))
    elif status == "deactivated":
        query = query.where(User.is_active.is_(False))
    elif status == "deletion_requested":
        query = query.where(
            User.deletion_requested_at.is_not(None), User.anonymised_at.is_(None)
        )
    elif status == "anonymised":
        query = query.where(User.anonymised_at.is_not(None))
    page = min(max(page, 1), LAST_PAGE)
    return db.paginate(query, page=page, per_page=PAGE_SIZE, error_out=False)
