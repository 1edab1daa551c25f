"""Accounts and the roles they hold."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from quizapp.core import clock
from quizapp.extensions import db


class Role(StrEnum):
    candidate = "candidate"
    instructor = "instructor"
    organiser = "organiser"
    #: A partner company's recruiter (see :mod:`quizapp.programmes`).
    partner = "partner"
    admin = "admin"

    @property
    def label(self) -> str:
        return self.value.capitalize()


#: Roles an admin grants; candidate accounts come from sign-up.
STAFF_ROLES = (Role.instructor, Role.organiser, Role.admin)

#: The fixed list behind the discipline field, so leaderboards can filter on it.
DISCIPLINES = (
    "Computer science / IT",
    "Engineering",
    "Mathematics / statistics",
    "Physics / chemistry",
    "Life sciences / medicine",
    "Business / economics",
    "Social sciences",
    "Arts / humanities / design",
    "Other",
)

GRADUATION_YEAR_MIN = 1950
GRADUATION_YEAR_MAX = 2100


#: A sign-in lasts at most this long, however active, before the password is asked
#: again (the session cookie's own expiry, ``SESSION_HOURS``, ends an idle one).
SIGN_IN_MAX_AGE = timedelta(days=30)


def new_sign_in_token() -> str:
    return secrets.token_urlsafe(32)


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("email = lower(email)", name="email_lowercase"),
        CheckConstraint(
            f"graduation_year IS NULL OR graduation_year BETWEEN "
            f"{GRADUATION_YEAR_MIN} AND {GRADUATION_YEAR_MAX}",
            name="graduation_year_range",
        ),
        CheckConstraint(
            "anonymised_at IS NULL OR NOT is_active", name="anonymised_inactive"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stored lower-cased and trimmed; unique.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    #: Argon2id hash in PHC format.
    password_hash: Mapped[str] = mapped_column(String(255))
    #: School or employer (candidates).
    school: Mapped[str | None] = mapped_column(String(200))
    discipline: Mapped[str | None] = mapped_column(String(64))
    graduation_year: Mapped[int | None]
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    last_sign_in_at: Mapped[datetime | None]
    #: When the person asked for their account to be deleted (None: no request,
    #: or withdrawn); an admin answers by anonymising (see quizapp.privacy).
    deletion_requested_at: Mapped[datetime | None]
    #: When name, e-mail and profile were replaced (the attempts stay, nameless).
    #: An anonymised account never signs in again.
    anonymised_at: Mapped[datetime | None]

    roles: Mapped[list[UserRole]] = relationship(
        back_populates="user",
        cascade="all, delete-orphan",
        lazy="selectin",
        foreign_keys="UserRole.user_id",
        order_by="UserRole.role",
    )

    #: The token of the sign-in this object was loaded through (or just made by);
    #: Flask-Login keeps it in the session cookie instead of the account's id.
    sign_in_token = None  # (not a column: set per request)

    def get_id(self) -> str | None:
        return self.sign_in_token

    @property
    def role_names(self) -> frozenset[str]:
        return frozenset(r.role for r in self.roles)

    def has_role(self, *roles: str) -> bool:
        return not self.role_names.isdisjoint(roles)

    @property
    def is_anonymised(self) -> bool:
        return self.anonymised_at is not None

    @property
    def has_pending_deletion_request(self) -> bool:
        return self.deletion_requested_at is not None and self.anonymised_at is None

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class SignIn(db.Model):
    """One browser's signed-in session, kept on the server so that signing out ends
    it for good: a copy of the session cookie taken before sign-out is worthless.

    Changing the password or deactivating the account deletes them all.
    """

    __tablename__ = "sign_ins"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(
        String(64), unique=True, default=new_sign_in_token
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    #: Where it was made from, shown to the account holder.
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(200))


class UserRole(db.Model):
    __tablename__ = "user_roles"
    __table_args__ = (
        CheckConstraint(
            "role IN ({})".format(", ".join(f"'{r.value}'" for r in Role)),
            name="role_known",
        ),
    )

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(20), primary_key=True)
    granted_at: Mapped[datetime] = mapped_column(default=clock.now)
    granted_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )

    user: Mapped[User] = relationship(back_populates="roles", foreign_keys=[user_id])


def count_active_admins() -> int:
    """How many active accounts hold the admin role."""
    return db.session.scalar(
        db.select(func.count())
        .select_from(User)
        .join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == Role.admin, User.is_active.is_(True))
    )
