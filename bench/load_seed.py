"""Seed a database for the load scenario: the sample programme and its accounts.

    python -m bench.load_seed postgresql+psycopg://postgres@127.0.0.1/quizapp_load \\
        --candidates 1000 --organisers 3

Migrates the database to head, imports ``question_banks/`` (the sample banks, the
``dtt-demo`` programme and its 24-question screening quiz ``dtt-screening``), and
creates ``candidate<N>@load.example.org`` (N from 1) and
``organiser<N>@load.example.org``, all with the password :data:`PASSWORD`. Accounts
that exist are kept, so seeding again with a larger count only adds the missing ones.

The accounts share one Argon2 hash made with the production cost (the ``OWASP``
profile), so every sign-in under load pays a real verify and no re-hash; they are
written in one multi-row INSERT per table, not through the account service one by
one (which would hash 1,000 times and audit each).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sqlalchemy import insert, select

from bench.banks import BenchError, migrate_quietly
from quizapp import create_app
from quizapp.accounts import passwords
from quizapp.accounts.models import Role, User, UserRole
from quizapp.banks import sync
from quizapp.core import clock
from quizapp.extensions import db

PASSWORD = "bench-only battery staple horse"  # noqa: S105
CONTENT = Path(__file__).resolve().parent.parent / "question_banks"
DOMAIN = "load.example.org"


def seed(url: str, candidates: int, organisers: int) -> dict[str, int]:
    """Migrate, import the sample content and add the missing accounts; the
    number of accounts of each kind created."""
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-seed-only"})
    migrate_quietly(app)
    with app.app_context():
        try:
            _, problems = sync.import_paths([CONTENT])
            if problems:
                raise BenchError(f"the sample content does not check: {problems[:3]}")
            db.session.commit()
            password_hash = passwords.hash_password(PASSWORD)
            created = {
                "candidates": _add_accounts(
                    "candidate", candidates, Role.candidate, password_hash
                ),
                "organisers": _add_accounts(
                    "organiser", organisers, Role.organiser, password_hash
                ),
            }
            db.session.commit()
            return created
        finally:
            db.engine.dispose()


def _add_accounts(kind: str, count: int, role: str, password_hash: str) -> int:
    emails = [f"{kind}{n}@{DOMAIN}" for n in range(1, count + 1)]
    existing = set(db.session.scalars(select(User.email).where(User.email.in_(emails))))
    missing = [email for email in emails if email not in existing]
    if not missing:
        return 0
    now = clock.now()
    ids = db.session.scalars(
        insert(User).returning(User.id),
        [
            {
                "email": email,
                "name": email.split("@")[0].title(),
                "password_hash": password_hash,
                "is_active": True,
                "created_at": now,
            }
            for email in missing
        ],
    ).all()
    db.session.execute(
        insert(UserRole),
        [{"user_id": user_id, "role": role, "granted_at": now} for user_id in ids],
    )
    return len(ids)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database_url")
    parser.add_argument("--candidates", type=int, default=1000)
    parser.add_argument("--organisers", type=int, default=3)
    args = parser.parse_args(argv)
    created = seed(args.database_url, args.candidates, args.organisers)
    print(
        f"seeded: {created['candidates']} candidates, {created['organisers']} "
        f"organisers added (password {PASSWORD!r})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
