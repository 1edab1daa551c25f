"""Hostile input shared by the hostile-input tests: a corpus of cross-site
scripting payloads, SQL-injection strings and over-long values, and a world whose
every person- or instructor-controlled text is one of those payloads.

Every script payload, if it ever ran, would set ``window.__xss`` (or open a
dialog); every element it would inject carries an ``on*`` attribute, a
``javascript:`` or ``data:`` address, or is an ``<img src=x>``, ``<iframe>``,
``<svg>``, ``<details>``, ``<style>`` or ``<script>``: what
``tests/browser/test_hostile_input.py`` looks for in the DOM.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import yaml
from sqlalchemy import func, select

from quizapp.accounts.models import Role, User
from quizapp.banks import sync
from quizapp.banks.models import Programme, Quiz
from quizapp.bootcamp import certificates, judging
from quizapp.bootcamp.models import Certificate
from quizapp.core import clock
from quizapp.delivery import services as delivery
from quizapp.delivery.models import Attempt
from quizapp.extensions import db
from quizapp.programmes import partners
from quizapp.programmes import services as programmes
from quizapp.programmes.models import FINALISTS, SHORTLIST, Company, Opening
from tests.factories import make_finished_attempt, make_user

MARKER = "__xss"

#: Script-bearing payloads: each sets ``window.__xss`` if it ever runs.
XSS = (
    "<script>window.__xss=1</script>",
    '<img src=x onerror="window.__xss=2">',
    '"><svg onload=window.__xss=3>',
    "'><details open ontoggle=window.__xss=4>",
    "[click](javascript:window.__xss=5)",
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    '<a href="javascript:window.__xss=6">link</a>',
    "</textarea></title><script>window.__xss=7</script>",
    '" autofocus onfocus="window.__xss=8" x="',
    "</style><style>body{display:none}</style>",
    '<iframe src="javascript:window.__xss=9"></iframe>',
    "javascript:window.__xss=10",
    "<IMG SRC=JaVaScRiPt:window.__xss=11>",
    "<<script>script>window.__xss=12<</script>/script>",
)
#: Text that must come out as itself: template syntax, Markdown raw HTML, a CSS
#: breakout, unicode direction overrides and invisible characters.
TRICKS = (
    "{{7*7}} {% print(7*7) %} ${7*7} #{7*7}",
    "<b>bold?</b> <u onclick=window.__xss=13>u</u>",
    "a');}</style><svg/onload=window.__xss=14>",
    "admin\u202egnp.exe\u202c \u200b\ufeff",
    # Fraktur letters, a snowman, a rocket, Hebrew.
    "\U0001d518\U0001d52b\U0001d526 \u2603 \U0001f680 \u05e2\u05d1\u05e8\u05d9\u05ea",
)
#: Every text payload, in order.
CORPUS = XSS + TRICKS

#: For searches and filters: each must be matched literally, never as SQL or as a
#: LIKE pattern.
SQL = (
    "' OR 1=1 --",
    '"; DROP TABLE users; --',
    "%",
    "_",
    "\\",
    "\\%",
    "'; SELECT pg_sleep(5); --",
    "1) UNION SELECT email, password_hash FROM users --",
    "\u202e%\u202c",
    "日本語'\"",
)
#: A NUL byte: refused by PostgreSQL in a text value, so a search must not pass it.
NUL = "a\x00b"


def long_text(size: int) -> str:
    """``size`` characters, far beyond any field's limit when ``size`` is large."""
    return ("<script>window.__xss=99</script>" * (size // 32 + 1))[:size]


def fit(payload: str, limit: int, tag: str = "") -> str:
    """``payload`` prefixed with ``tag`` (to tell rows apart), cut to ``limit``."""
    return (tag + payload)[:limit]


# -- A world of hostile text -----------------------------------------------------

PROGRAMME = "hp"
QUIZ = "hq"  # the screening quiz: a real attempt, result and review
MODULE_QUIZ = "hm"  # the module's quiz: an attempt in progress
PASSWORD = "correct horse battery"


def _question_bank() -> dict:
    """A bank whose every text field is a payload."""
    text = iter(CORPUS * 8)

    def t() -> str:
        return next(text)

    def choices(right: int, count: int = 3) -> list[dict]:
        return [
            {"text": t(), "correct": i == right, "feedback": t()} for i in range(count)
        ]

    return {
        "bank": "hostile",
        "title": "<script>window.__xss=20</script> bank",
        "description": t(),
        "questions": [
            {
                "id": "single",
                "type": "single",
                "prompt": " ".join(CORPUS),
                "choices": choices(0),
                "explanation": " ".join(CORPUS),
            },
            {
                "id": "multiple",
                "type": "multiple",
                "prompt": t(),
                "choices": choices(1),
                "explanation": t(),
            },
            {"id": "tf", "type": "true_false", "prompt": t(), "answer": True},
            {
                "id": "ordering",
                "type": "ordering",
                "prompt": t(),
                "items": [t(), t(), t()],
            },
            {
                "id": "matching",
                "type": "matching",
                "prompt": t(),
                "pairs": [{"left": t(), "right": t()}, {"left": t(), "right": t()}],
                "distractors": [t()],
            },
            {
                "id": "text",
                "type": "text",
                "prompt": t(),
                "accept": ["<script>window.__xss=21</script>"],
            },
        ],
    }


def _quiz(slug: str, title: str, keys: list[str]) -> dict:
    return {
        "quiz": slug,
        "title": title,
        "description": " ".join(XSS[:6]),
        "attempts": 0,
        "show_results": "immediately",
        "pass_mark": "10%",
        "shuffle_questions": False,
        "shuffle_choices": False,
        "sections": [
            {"title": XSS[2], "questions": [f"hostile/{k}" for k in keys]},
        ],
    }


def _programme() -> dict:
    return {
        "programme": PROGRAMME,
        "title": "<img src=x onerror=window.__xss=22> programme",
        "description": XSS[0],
        "screening_quiz": QUIZ,
        "shortlist_size": 10,
        "finalist_count": 10,
        "modules": [
            {
                "slug": "taught",
                "title": '"><svg onload=window.__xss=23> module',
                "description": XSS[4],
                "assessments": [MODULE_QUIZ],
            },
            {
                "slug": "project",
                "title": "Project <script>window.__xss=24</script>",
                "project": True,
                "rubric": [
                    {
                        "criterion": '<img src=x onerror="window.__xss=25">',
                        "points": 10,
                        "description": XSS[6],
                    }
                ],
            },
        ],
    }


def write_content(folder: Path, revised: bool = False) -> Path:
    """The hostile bank, quizzes and programme as files under ``folder``;
    ``revised``: the single-choice question's second version, whose right answer
    is another choice (a regrade to apply)."""
    bank = _question_bank()
    if revised:
        for n, choice in enumerate(bank["questions"][0]["choices"]):
            choice["correct"] = n == 1
    files = {
        "hostile/bank.yaml": bank,
        f"quizzes/{QUIZ}.yaml": _quiz(
            QUIZ,
            "Screening <script>window.__xss=26</script>",
            ["single", "multiple", "tf", "ordering", "matching", "text"],
        ),
        f"quizzes/{MODULE_QUIZ}.yaml": _quiz(
            MODULE_QUIZ, "Module '\"><svg onload=window.__xss=27>", ["single", "tf"]
        ),
        f"programmes/{PROGRAMME}.yaml": _programme(),
    }
    for name, content in files.items():
        path = folder / "hostile-content" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(content, allow_unicode=True, sort_keys=False))
    return folder / "hostile-content"


@dataclass
class World:
    programme: Programme
    quiz: Quiz
    module_quiz: Quiz
    candidates: list[User]
    admin: User
    organiser: User
    judge: User
    partner: User
    company: Company
    opening: Opening
    finished: Attempt  # candidates[0]'s attempt at the screening quiz, with items
    running: Attempt  # candidates[0]'s attempt at the module quiz, in progress
    certificate: Certificate


def _staff(role: str, n: int) -> User:
    return make_user(
        email=f"{role}@example.org", roles=(role,), name=fit(CORPUS[n], 120, "S ")
    )


def build_world(folder: Path, candidates: int = len(CORPUS)) -> World:
    """Import the hostile content and fill every list with hostile text.

    Candidate ``i`` (``c<i>@example.org``) has ``CORPUS[i]`` in their name and
    school; each is shortlisted and a finalist with a reason that is a payload,
    and shares their profile. Candidate 0 has taken the screening quiz for real
    (a result and a review to show), is in the middle of the module quiz, has a
    judged project (a payload as the judge's comment) and a certificate;
    candidate 1 has an accommodation whose reason is a payload. The single-choice
    question has a second version, so the screening quiz has a regrade to apply.
    """
    _report, problems = sync.import_paths([write_content(folder)])
    assert not problems, [str(p) for p in problems]
    db.session.commit()
    programme = db.session.scalar(select(Programme).where(Programme.slug == PROGRAMME))
    quiz = db.session.scalar(select(Quiz).where(Quiz.slug == QUIZ))
    module_quiz = db.session.scalar(select(Quiz).where(Quiz.slug == MODULE_QUIZ))
    quiz.leaderboard_public = True
    admin = _staff(Role.admin, 0)
    organiser = _staff(Role.organiser, 1)
    judge = _staff(Role.instructor, 2)
    now = clock.now()
    finished_at = now - timedelta(days=1)
    people = []
    for i in range(candidates):
        payload = CORPUS[i % len(CORPUS)]
        person = make_user(
            email=f"c{i}@example.org",
            name=fit(payload, 120, f"C{i} "),
            school=fit(payload, 200, f"School {i} "),
        )
        people.append(person)
        if i:
            make_finished_attempt(person, quiz, 90 - i, finished_at=finished_at)
            make_finished_attempt(person, module_quiz, 80, finished_at=finished_at)
    ada = people[0]
    finished = delivery.start_attempt(ada, quiz, now - timedelta(hours=2))
    db.session.flush()
    for item in finished.items:
        delivery.save_response(
            finished,
            item,
            _answer(item),
            now - timedelta(hours=1),
            delivery.Origin(
                "form", None, "127.0.0.1", "<script>window.__xss=28</script>"
            ),
        )
    delivery.submit_attempt(finished, now - timedelta(hours=1))
    db.session.commit()
    _report, problems = sync.import_paths([write_content(folder, revised=True)])
    assert not problems, [str(p) for p in problems]
    db.session.commit()
    for i, person in enumerate(people):
        reason = fit(CORPUS[-1 - i % len(CORPUS)], 500)
        programmes.add_by_hand(programme, SHORTLIST, person, reason, organiser)
    programmes.set_published(programme, SHORTLIST, True, organiser)
    db.session.commit()
    project = next(m for m in programme.modules if m.is_project)
    criterion = project.rubric[0]["criterion"]
    for person in people[:2]:  # candidate 1 completes too: a certificate to issue
        judging.submit_review(
            programme,
            project,
            person,
            judge,
            {criterion: "7"},
            " ".join(CORPUS),
            now=now,
        )
    db.session.commit()
    running = delivery.start_attempt(ada, module_quiz, now)
    db.session.commit()
    make_finished_attempt(ada, module_quiz, 90, finished_at=finished_at, number=2)
    certificate = certificates.issue(programme, ada, organiser, now=now)
    db.session.commit()
    for i, person in enumerate(people):
        programmes.add_by_hand(programme, FINALISTS, person, CORPUS[i], organiser)
    programmes.set_published(programme, FINALISTS, True, organiser)
    db.session.flush()
    for person in people:
        programmes.set_consent(programme, person, True)
    company = partners.add_company(
        programme, fit(XSS[1], 200, "Acme "), "https://acme.example/", organiser
    )
    opening = partners.add_opening(
        company, fit(XSS[2], 200, "Intern "), "internship", " ".join(XSS), organiser
    )
    partner = _staff(Role.partner, 3)
    partners.link_partner(company, partner, organiser)
    partners.mark_interest(opening, ada, fit(XSS[3], 500), partner)
    delivery.grant_accommodation(
        people[1 % len(people)],
        quiz=quiz,
        extra_minutes=30,
        reason=fit(XSS[7], 300),
        actor=organiser,
        now=now,
    )
    programmes.set_window(quiz, None, None, organiser, reason=XSS[8])
    db.session.commit()
    return World(
        programme,
        quiz,
        module_quiz,
        people,
        admin,
        organiser,
        judge,
        partner,
        company,
        opening,
        finished,
        running,
        certificate,
    )


def _answer(item):
    from quizapp import grading

    return grading.correct_response(item.version.content, item.params)


def row_counts() -> dict[str, int]:
    """Rows in every table: a refused request must leave them as they were."""
    return {
        table.name: db.session.scalar(select(func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    }
