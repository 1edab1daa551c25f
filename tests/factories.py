"""Build accounts and other rows for tests, committed so every client sees them."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from sqlalchemy import event, select

from quizapp import grading
from quizapp.accounts import services
from quizapp.accounts.models import Role, User
from quizapp.banks import sync
from quizapp.banks.models import Quiz
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


# --- quizzes and attempts ------------------------------------------------------------

#: A bank with one question of every type (tests/data/banks/delivery/every-type).
EVERY_TYPE_BANK = Path(__file__).parent / "data" / "banks" / "delivery"
EVERY_TYPE_KEYS = (
    "single-capital",
    "multiple-primes",
    "tf-sky",
    "numeric-product",
    "text-activation",
    "blanks-regression",
    "ordering-pipeline",
    "matching-tasks",
)


def make_quiz(
    folder: Path,
    slug: str = "every-type-quiz",
    *,
    time_limit: str | None = "10m",
    opens: datetime | None = None,
    closes: datetime | None = None,
    attempts: int = 1,
    grading: str = "highest",
    pass_mark: str | None = "50%",
    show_results: str = "immediately",
    shuffle: bool = True,
    keys: tuple[str, ...] = EVERY_TYPE_KEYS,
    programme: bool = False,
    modules: tuple[str, ...] = (),
) -> Quiz:
    """Import a quiz of fixed questions from the every-type bank and return it.

    ``folder`` is a scratch folder (``tmp_path``); ``programme=True`` also imports a
    programme ``<slug>-programme`` whose screening quiz this is, with a module per
    quiz slug in ``modules`` (already imported; each the module's one assessment)
    and a project module.
    """
    lines = [
        f"quiz: {slug}",
        f"title: Quiz {slug}",
        "description: A quiz **for tests**.",
        f"attempts: {attempts}",
        f"grading: {grading}",
        f"show_results: {show_results}",
        f"shuffle_questions: {str(shuffle).lower()}",
        f"shuffle_choices: {str(shuffle).lower()}",
    ]
    if time_limit:
        lines.append(f"time_limit: {time_limit}")
    if opens:
        lines.append(f"opens: {opens.isoformat()}")
    if closes:
        lines.append(f"closes: {closes.isoformat()}")
    if pass_mark:
        lines.append(f"pass_mark: {pass_mark}")
    refs = ", ".join(f"every-type/{key}" for key in keys)
    lines += ["sections:", "  - title: Everything", f"    questions: [{refs}]"]
    content = folder / f"content-{slug}"
    (content / "quizzes").mkdir(parents=True, exist_ok=True)
    (content / "quizzes" / f"{slug}.yaml").write_text("\n".join(lines) + "\n")
    if programme:
        (content / "programmes").mkdir(exist_ok=True)
        (content / "programmes" / f"{slug}-programme.yaml").write_text(
            f"programme: {slug}-programme\ntitle: Programme of {slug}\n"
            f"screening_quiz: {slug}\nshortlist_size: 10\nfinalist_count: 5\n"
            "modules:\n"
            + "".join(
                f"  - slug: module-{m}\n    title: Module {m}\n    assessments: [{m}]\n"
                for m in modules
            )
            + "  - slug: project\n    title: Project\n"
            "    project: true\n"
            "    rubric:\n      - {criterion: Work, points: 10}\n"
        )
    _report, problems = sync.import_paths([EVERY_TYPE_BANK, content])
    assert not problems, [str(p) for p in problems]
    db.session.commit()
    return db.session.scalar(select(Quiz).where(Quiz.slug == slug))


def right_answers(attempt) -> dict[int, object]:
    """``{position: a response that earns full marks}`` for every item."""
    return {
        item.position: grading.correct_response(item.version.content, item.params)
        for item in attempt.items
    }


def make_finished_attempt(
    user: User,
    quiz: Quiz,
    percent: float,
    *,
    seconds: float = 600.0,
    finished_at: datetime,
    number: int | None = None,
    max_score: float = 10.0,
    passed: bool | None = None,
):
    """A finalized attempt with the given result and no items (ranking and progress
    tests), announced as finalizing does.

    ``passed`` defaults to the quiz's pass mark applied to ``percent``.
    """
    from datetime import timedelta

    from sqlalchemy import func

    from quizapp.delivery.models import FINALIZED, SUBMITTED, Attempt

    if number is None:
        number = 1 + (
            db.session.scalar(
                select(func.count()).where(
                    Attempt.user_id == user.id, Attempt.quiz_id == quiz.id
                )
            )
            or 0
        )
    if passed is None and quiz.pass_mark is not None:
        passed = percent + 1e-9 >= quiz.pass_mark
    attempt = Attempt(
        user_id=user.id,
        quiz_id=quiz.id,
        number=number,
        status=FINALIZED,
        seed=f"seed-{user.id}-{number}",
        started_at=finished_at - timedelta(seconds=seconds),
        deadline_at=None,
        finished_at=finished_at,
        finish_reason=SUBMITTED,
        seconds_used=seconds,
        score=round(max_score * percent / 100, 6),
        max_score=max_score,
        passed=passed,
    )
    db.session.add(attempt)
    db.session.flush()
    from quizapp.core.signals import attempt_finalized

    # What finalizing sends: the standings and the bootcamp progress follow.
    attempt_finalized.send(attempt, attempt=attempt)
    db.session.commit()
    return attempt


@contextmanager
def counted_queries():
    """Collect the SQL statements run inside the block (query-count tests)."""
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
