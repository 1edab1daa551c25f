"""Demo applicants for ``flask demo``: candidates who took the screening quiz, so a
laptop demo has a leaderboard, charts and someone to shortlist.

Each applicant gets a real attempt (the quiz's own draw, order and variants) in
which they answer each question correctly with a probability set by their skill, and
submit after a plausible time; nothing here bypasses the grading engine.
"""

from __future__ import annotations

import logging
import random
from datetime import timedelta

from sqlalchemy import select

from quizapp import grading
from quizapp.accounts import passwords
from quizapp.accounts.models import DISCIPLINES, Role, User, UserRole
from quizapp.banks.models import Programme
from quizapp.core import clock
from quizapp.delivery import services
from quizapp.delivery.models import SUBMITTED
from quizapp.extensions import db

FIRST = ["Aisha", "Ben", "Chen", "Dara", "Elif", "Farid", "Grace", "Hana", "Ivan"]
FIRST += ["Jun", "Kavya", "Leon", "Mei", "Nadia", "Omar", "Priya", "Ravi", "Sofia"]
LAST = ["Ahmad", "Becker", "Chua", "Das", "Evans", "Fong", "Goh", "Hassan", "Ito"]
LAST += ["Kaur", "Lim", "Ng", "Ong", "Tan", "Wong", "Yusof", "Zhang"]
SCHOOLS = ("Demo Polytechnic", "Demo University", "Institute of Demo Technology")
EMAIL = "applicant-{:03}@demo.example"
#: Every demo applicant's password (public: demo data).
PASSWORD = "demo-applicant-2026"  # noqa: S105  (public demo data)


def load_applicants(programme_slug: str, count: int, seed: int = 2026) -> int:
    """Create ``count`` applicants who took the programme's screening quiz two days
    ago; those that exist are kept. Returns how many were created."""
    programme = db.session.scalar(
        select(Programme).where(Programme.slug == programme_slug)
    )
    if programme is None or programme.screening_quiz is None or count <= 0:
        return 0
    quiz = programme.screening_quiz
    rng = random.Random(seed)  # noqa: S311  (repeatable demo data, not secrets)
    password_hash = passwords.hash_password(PASSWORD)
    existing = set(
        db.session.scalars(
            select(User.email).where(User.email.like("applicant-%@demo.example"))
        )
    )
    created = 0
    start = clock.now() - timedelta(days=2)
    # One INFO line per attempt started and finalized would bury the demo's output.
    quiet = logging.getLogger(services.__name__)
    level = quiet.level
    quiet.setLevel(logging.WARNING)
    try:
        for n in range(1, count + 1):
            skill = min(0.97, max(0.1, rng.gauss(0.55, 0.18)))
            minutes = rng.uniform(8, 29)
            if EMAIL.format(n) in existing:
                continue
            user = User(
                email=EMAIL.format(n),
                name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                password_hash=password_hash,
                school=rng.choice(SCHOOLS),
                discipline=rng.choice(DISCIPLINES),
                graduation_year=rng.randint(2018, 2026),
                roles=[UserRole(role=Role.candidate)],
                created_at=start - timedelta(days=7, minutes=n),
            )
            db.session.add(user)
            db.session.flush()
            began = start + timedelta(minutes=n)
            attempt = services.start_attempt(user, quiz, began, "192.0.2.1", "demo")
            for item in services.items_of(attempt):
                if rng.random() < skill:
                    item.response = grading.correct_response(
                        item.version.content, item.params
                    )
                    item.saved_at = began + timedelta(minutes=minutes / 2)
            services.finalize_attempt(
                attempt, SUBMITTED, began + timedelta(minutes=minutes)
            )
            created += 1
    finally:
        quiet.setLevel(level)
    return created
