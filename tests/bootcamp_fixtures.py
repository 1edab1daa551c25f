"""A small bootcamp for tests: two module quizzes, a programme whose modules are
"Module bc-m1", "Module bc-m2" and a judged "Project" (rubric: Framing 10,
Method 20), and a cohort of three shortlisted participants (the shortlist
published)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import select

from quizapp.accounts.models import User
from quizapp.banks import sync
from quizapp.banks.models import Programme, ProgrammeModule, Quiz
from quizapp.bootcamp import certificates, progress
from quizapp.bootcamp.models import Certificate, ProjectReview
from quizapp.extensions import db
from quizapp.programmes.models import (
    BY_HAND,
    SELECTED,
    SHORTLIST,
    Company,
    Consent,
    Interest,
    Opening,
    Selection,
)
from tests.factories import (
    EVERY_TYPE_BANK,
    EVERY_TYPE_KEYS,
    make_finished_attempt,
    make_quiz,
    make_user,
)

PROGRAMME = "bc"
WHEN = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)

PROGRAMME_YAML = """\
programme: bc
title: Bootcamp for tests
screening_quiz: bc-scr
shortlist_size: 10
finalist_count: 5
modules:
  - slug: module-one
    title: Module one
    assessments: [bc-m1]
  - slug: module-two
    title: Module two
    assessments: [bc-m2]
  - slug: project
    title: Project
    project: true
    rubric:
      - {criterion: Framing, points: 10, description: "A clear question."}
      - {criterion: Method, points: 20}
"""


@dataclass
class Bootcamp:
    programme: Programme
    screening: Quiz
    m1: Quiz
    m2: Quiz
    participants: list[User]

    @property
    def project(self) -> ProgrammeModule:
        return next(m for m in self.programme.modules if m.is_project)

    def pass_modules(self, user: User, percent: float = 80.0) -> None:
        """Finished, passing attempts at both module quizzes (pass mark 50%)."""
        for quiz in (self.m1, self.m2):
            make_finished_attempt(user, quiz, percent, finished_at=WHEN)

    def review(
        self,
        user: User,
        points: tuple[float, float] = (8.0, 15.0),
        judge: User | None = None,
        at: datetime = WHEN,
    ) -> ProjectReview:
        """A judge's review of ``user``'s project (Framing, Method), with the
        progress refresh that submitting one does."""
        row = ProjectReview(
            programme_id=self.programme.id,
            module_slug=self.project.slug,
            participant_id=user.id,
            judge_id=judge.id if judge else None,
            criteria=[
                {"criterion": "Framing", "points": points[0], "max": 10},
                {"criterion": "Method", "points": points[1], "max": 20},
            ],
            points=sum(points),
            max_points=30.0,
            submitted_at=at,
            updated_at=at,
        )
        db.session.add(row)
        db.session.flush()
        progress.refresh([self.project], [user.id])
        db.session.commit()
        return row

    def complete(self, user: User, reviewed_at: datetime = WHEN) -> None:
        """Pass both taught modules and have one judge score the project."""
        self.pass_modules(user)
        self.review(user, at=reviewed_at)


def make_bootcamp(
    folder: Path, participants: int = 3, m1_keys: tuple[str, ...] = EVERY_TYPE_KEYS
) -> Bootcamp:
    """``m1_keys``: the questions of module one's quiz (every type by default)."""
    m1 = make_quiz(folder, "bc-m1", time_limit=None, attempts=0, keys=m1_keys)
    m2 = make_quiz(folder, "bc-m2", time_limit=None, attempts=0)
    screening = make_quiz(folder, "bc-scr")
    content = folder / "content-bc-programme" / "programmes"
    content.mkdir(parents=True)
    (content / "bc.yaml").write_text(PROGRAMME_YAML)
    _report, problems = sync.import_paths([EVERY_TYPE_BANK, content.parent])
    assert not problems, [str(p) for p in problems]
    db.session.commit()
    programme = db.session.scalar(select(Programme).where(Programme.slug == PROGRAMME))
    users = []
    for n in range(participants):
        user = make_user(name=f"Participant {n + 1}", email=f"p{n + 1}@example.org")
        make_finished_attempt(user, screening, 90 - n, finished_at=WHEN)
        db.session.add(
            Selection(
                programme_id=programme.id,
                stage=SHORTLIST,
                user_id=user.id,
                status=SELECTED,
                source=BY_HAND,
                reason="test cohort",
            )
        )
        users.append(user)
    programme.shortlist_published_at = WHEN
    db.session.commit()
    return Bootcamp(programme, screening, m1, m2, users)


#: When :func:`make_certificate` issues.
ISSUED = datetime(2026, 6, 3, 10, 0, tzinfo=UTC)


def make_certificate(
    email: str | None = None, completed_on: date = date(2026, 6, 1)
) -> Certificate:
    """A certificate as :func:`certificates.issue` leaves it, without a bootcamp
    behind it (revoking, the PDF and the pages read only its own record): issued
    to "Participant 1" for programme ``bc`` at :data:`ISSUED`."""
    owner = make_user(email=email, name="Participant 1")
    programme = Programme(slug="bc", title="Bootcamp for tests", content_hash="0" * 64)
    db.session.add(programme)
    db.session.flush()
    certificate = Certificate(
        code=certificates.new_code(),
        programme_id=programme.id,
        user_id=owner.id,
        recipient_name=owner.name,
        programme_title=programme.title,
        modules=["Module one", "Module two", "Project"],
        completed_on=completed_on,
        issued_at=ISSUED,
    )
    db.session.add(certificate)
    db.session.commit()
    return certificate


def consent_and_interest(programme: Programme, person: User) -> Interest:
    """``person`` agrees to share their profile, and a partner company ("Acme",
    opening "Data intern") notes its interest in them; committed."""
    company = Company(programme_id=programme.id, name="Acme")
    opening = Opening(company=company, title="Data intern", kind="internship")
    db.session.add_all([company, opening])
    db.session.flush()
    interest = Interest(opening_id=opening.id, user_id=person.id, note="Strong")
    db.session.add(interest)
    db.session.add(Consent(programme_id=programme.id, user_id=person.id))
    db.session.commit()
    return interest
