"""Import checked files into the database: a plan of adds, changes and retirements,
applied in the caller's transaction.

:func:`import_paths` loads and checks everything first; if any file has a problem,
nothing is written and the problems are returned. Otherwise it syncs and returns a
:class:`SyncReport`. The caller commits (or rolls back), so a run is all-or-nothing.
Importing the same files twice changes nothing and says so.

Questions edited in the browser (:mod:`quizapp.authoring`) are not overwritten by an
import. For a question whose current version has source ``browser``, and which no
import has yet seen in the files (see :class:`BrowserEdit`):

* the files hold the browser version (it was exported and committed): accepted, no
  new version, and remembered, so later file changes are ordinary changes again;
* the files still hold what the browser edit started from: the browser version stays;
* anything else (the files changed too, or dropped the question): the whole import is
  refused with a problem naming the question (:func:`browser_conflicts`).

A question created in the browser and not yet in the files is kept, not retired.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from quizapp.banks import schema
from quizapp.banks.checker import (
    ASSET_TYPES,
    Catalogue,
    QuestionInfo,
    check,
    effective_module,
    effective_tags,
    image_paths,
    question_texts,
)
from quizapp.banks.loader import BankDoc, Documents, ProgrammeDoc, QuizDoc, load_paths
from quizapp.banks.models import (
    AssetBlob,
    Bank,
    ModuleAssessment,
    Programme,
    ProgrammeModule,
    Question,
    QuestionVersion,
    Quiz,
)
from quizapp.banks.yamlsource import Problem
from quizapp.core import audit, clock, signals
from quizapp.core.audit import AuditEvent
from quizapp.extensions import db


@dataclass
class BankChanges:
    slug: str
    added: int = 0
    changed: int = 0
    retired: int = 0
    restored: int = 0
    unchanged: int = 0
    details_changed: bool = False

    @property
    def any(self) -> bool:
        return bool(
            self.added
            or self.changed
            or self.retired
            or self.restored
            or self.details_changed
        )

    def __str__(self) -> str:
        parts = [
            f"{self.added} added",
            f"{self.changed} changed",
            f"{self.retired} retired",
        ]
        if self.restored:
            parts.append(f"{self.restored} restored")
        parts.append(f"{self.unchanged} unchanged")
        if self.details_changed:
            parts.append("bank details updated")
        return f"bank {self.slug}: " + ", ".join(parts)


@dataclass
class SyncReport:
    banks: list[BankChanges] = field(default_factory=list)
    #: ``(kind, slug, "added" | "changed" | "unchanged")`` for quizzes and programmes.
    others: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(b.any for b in self.banks) or any(
            o[2] != "unchanged" for o in self.others
        )

    def lines(self) -> list[str]:
        out = [str(b) for b in self.banks]
        out += [f"{kind} {slug}: {state}" for kind, slug, state in self.others]
        out.append("Imported." if self.changed else "Nothing changed.")
        return out


def content_hash(data: Any) -> str:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def canonical_question(header: schema.BankHeader, question: Any) -> dict[str, Any]:
    """The question as the grading engine and the database hold it."""
    data = question.model_dump(mode="json", by_alias=True)
    data["tags"] = effective_tags(header, question)
    data["module"] = effective_module(header, question)
    data["points"] = float(question.points)
    return data


def live_questions() -> dict[str, tuple[int, QuestionInfo]]:
    """``{bank/id: (current version id, what pools filter on)}`` of every question
    that is not retired: what a quiz may draw from, in one query."""
    rows = db.session.execute(
        select(
            Bank.slug,
            Question.key,
            QuestionVersion.id,
            QuestionVersion.tags,
            QuestionVersion.difficulty,
            QuestionVersion.module,
        )
        .join(Question, Question.bank_id == Bank.id)
        .join(QuestionVersion, QuestionVersion.id == Question.current_version_id)
        .where(Question.retired_at.is_(None))
    )
    return {
        f"{slug}/{key}": (version_id, QuestionInfo(frozenset(tags), difficulty, module))
        for slug, key, version_id, tags, difficulty, module in rows
    }


def catalogue_of(questions: dict[str, tuple[int, QuestionInfo]]) -> Catalogue:
    """A :class:`Catalogue` of the banks holding ``questions`` (see live_questions)."""
    catalogue = Catalogue()
    for ref, (_, info) in questions.items():
        slug, key = ref.split("/", 1)
        catalogue.banks.setdefault(slug, {})[key] = info
    return catalogue


def catalogue_from_db() -> Catalogue:
    """What references may point at besides the files being imported."""
    catalogue = catalogue_of(live_questions())
    for slug in db.session.scalars(select(Bank.slug)):
        catalogue.banks.setdefault(slug, {})
    for slug, path, sections in db.session.execute(
        select(Quiz.slug, Quiz.source_path, Quiz.sections)
    ):
        catalogue.quizzes.add(slug)
        catalogue.stored_quizzes[slug] = (path or f"quiz {slug}", sections)
    return catalogue


def import_paths(
    paths: Iterable[str | Path], actor: Any = None
) -> tuple[SyncReport | None, list[Problem]]:
    """Check ``paths`` and, if clean, sync them into the session (not committed).

    Questions changed both in the files and in the browser are problems too
    (:func:`browser_conflicts`), so such an import writes nothing.
    """
    docs = load_paths(paths)
    problems = check(docs, catalogue_from_db()) + browser_conflicts(docs)
    if problems:
        return None, sorted(set(problems))
    return apply(docs, actor), []


# --- questions edited in the browser ---------------------------------------------

#: Audit action of a browser save (:mod:`quizapp.authoring`); its details hold the
#: new ``version`` number and ``base_hash``, the content hash the files held when the
#: edit started (None for a question created in the browser).
EDITED = "question.edited"
#: Audit action of an import that found the files holding a browser ``version``.
IN_FILES = "question.in_files"


@dataclass(frozen=True)
class BrowserEdit:
    """A question whose current version was written in the browser."""

    version: QuestionVersion
    #: What the files held when the browser edit started; None: made in the browser.
    base_hash: str | None
    #: An import has since found the files holding this very version.
    in_files: bool
    author: str
    at: datetime | None

    @property
    def only_in_browser(self) -> bool:
        """Created in the browser and never seen in the files: not retired."""
        return not self.in_files and self.base_hash is None

    def describe(self) -> str:
        when = f" on {self.at:%Y-%m-%d %H:%M} UTC" if self.at else ""
        return f"version {self.version.number} by {self.author}{when}"


def browser_edits(questions: Iterable[Question]) -> dict[int, BrowserEdit]:
    """``{question id: BrowserEdit}`` for those of ``questions`` whose current version
    came from the browser, with its audit trail (one query)."""
    currents = {
        q.id: v
        for q in questions
        if (v := _current(q)) is not None and v.source == "browser"
    }
    if not currents:
        return {}
    events = db.session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.target_type == "question",
            AuditEvent.target_id.in_(currents),
            AuditEvent.action.in_((EDITED, IN_FILES)),
        )
        .order_by(AuditEvent.id)
    )
    edited: dict[int, AuditEvent] = {}
    seen: set[int] = set()
    for event in events:
        version = currents[event.target_id]
        if event.details.get("version") != version.number:
            continue
        if event.action == EDITED:
            edited[event.target_id] = event
        else:
            seen.add(event.target_id)
    out = {}
    for question_id, version in currents.items():
        event = edited.get(question_id)
        if event is not None:
            base = event.details.get("base_hash")
            author = event.actor.name if event.actor else "someone"
            at = event.at
        else:  # no trail (written by other code): the latest version from the files
            base = max(
                (v for v in version.question.versions if v.source == "yaml"),
                key=lambda v: v.number,
                default=None,
            )
            base, author, at = (base.content_hash if base else None), "someone", None
        out[question_id] = BrowserEdit(version, base, question_id in seen, author, at)
    return out


def _current(question: Question) -> QuestionVersion | None:
    """The current version, from the loaded ``versions`` (no query per question)."""
    return next(
        (v for v in question.versions if v.id == question.current_version_id), None
    )


def file_digest(doc: BankDoc, model: Any, cache: dict[Path, str]) -> str:
    """The content hash an import would give ``model`` of ``doc`` (no writes)."""
    assets = {}
    for _, text in question_texts(model):
        for reference in image_paths(text):
            path = doc.folder.joinpath(*PurePosixPath(reference).parts)
            if path not in cache:
                cache[path] = hashlib.sha256(path.read_bytes()).hexdigest()
            assets[reference] = cache[path]
    content = canonical_question(doc.header, model)
    return content_hash({"content": content, "assets": assets})


def browser_conflicts(docs: Documents) -> list[Problem]:
    """Questions the files changed (or dropped) while the browser changed them too.

    Never raises for content: each conflict is a problem at the question's line.
    """
    problems: list[Problem] = []
    cache: dict[Path, str] = {}
    for doc in docs.banks:
        bank = db.session.scalar(
            select(Bank)
            .where(Bank.slug == doc.header.bank)
            .options(selectinload(Bank.questions).selectinload(Question.versions))
        )
        if bank is None:
            continue
        questions = {question.key: question for question in bank.questions}
        edits = browser_edits(questions.values())
        if not edits:
            continue
        in_file: set[str] = set()
        for position, model in doc.questions:
            in_file.add(model.id)
            question = questions.get(model.id)
            edit = edits.get(question.id) if question else None
            if edit is None or edit.in_files:
                continue
            try:
                digest = file_digest(doc, model, cache)
            except OSError:
                continue  # a missing image: the checker reports it
            if digest in (edit.version.content_hash, edit.base_hash):
                continue
            problems.append(
                doc.source.problem(
                    ("questions", position),
                    f"{model.id}: changed both in the files and in the browser "
                    f"({edit.describe()}); {_merge_hint(bank.slug)}",
                )
            )
        for key, question in questions.items():
            edit = edits.get(question.id)
            if key in in_file or edit is None or edit.in_files or edit.only_in_browser:
                continue
            if question.retired_at is None:
                problems.append(
                    doc.source.problem(
                        ("questions",),
                        f"{key}: removed from the files but changed in the browser "
                        f"({edit.describe()}); {_merge_hint(bank.slug)}",
                    )
                )
    return problems


def _merge_hint(slug: str) -> str:
    return (
        f"export the bank (flask banks export {slug} -o <folder>), merge its "
        "version of the question into this file and import again, or undo the "
        "file's change to keep the browser's version"
    )


def apply(docs: Documents, actor: Any = None) -> SyncReport:
    report = SyncReport()
    blobs = _Blobs()
    for bank in docs.banks:
        report.banks.append(_sync_bank(bank, blobs, actor))
    db.session.flush()
    for quiz in docs.quizzes:
        report.others.append(("quiz", quiz.model.quiz, _sync_quiz(quiz, actor)))
    db.session.flush()
    for programme in docs.programmes:
        report.others.append(
            ("programme", programme.model.programme, _sync_programme(programme, actor))
        )
    db.session.flush()
    return report


class _Blobs:
    """Reads each image once and stores each distinct content once."""

    def __init__(self) -> None:
        self.digests: dict[Path, str] = {}
        self.known: set[str] = set()

    def add(self, folder: Path, reference: str) -> str:
        path = folder.joinpath(*PurePosixPath(reference).parts)
        if path in self.digests:
            return self.digests[path]
        data = path.read_bytes()
        digest = self.digests[path] = hashlib.sha256(data).hexdigest()
        if digest not in self.known:
            self.known.add(digest)
            if db.session.get(AssetBlob, digest) is None:
                media_type = ASSET_TYPES[PurePosixPath(reference).suffix.lower()]
                db.session.add(
                    AssetBlob(
                        sha256=digest, media_type=media_type, size=len(data), data=data
                    )
                )
        return digest


def _sync_bank(doc: BankDoc, blobs: _Blobs, actor: Any) -> BankChanges:
    header = doc.header
    changes = BankChanges(header.bank)
    bank = db.session.scalar(
        select(Bank)
        .where(Bank.slug == header.bank)
        .options(selectinload(Bank.questions).selectinload(Question.versions))
    )
    now = clock.now()
    is_new = bank is None
    if bank is None:
        bank = Bank(slug=header.bank, created_at=now, updated_at=now)
        db.session.add(bank)
    details = {
        "title": header.title,
        "description": header.description,
        "module": header.module,
        "tags": list(header.tags),
        "source_path": doc.source.path,
    }
    for name, value in details.items():
        if getattr(bank, name) != value:
            setattr(bank, name, value)
            if name != "source_path" and not is_new:
                changes.details_changed = True
    if is_new:
        db.session.flush()  # its id, for the questions
    existing = {question.key: question for question in bank.questions}
    edits = browser_edits(existing.values()) if not is_new else {}
    seen: set[str] = set()
    pointers: list[dict[str, int]] = []
    new_versions: list[tuple[Question, QuestionVersion]] = []
    for position, model in doc.questions:
        seen.add(model.id)
        content = canonical_question(header, model)
        assets = {
            reference: blobs.add(doc.folder, reference)
            for _, text in question_texts(model)
            for reference in image_paths(text)
        }
        digest = content_hash({"content": content, "assets": assets})
        question = existing.get(model.id)
        if question is None:
            question = Question(
                bank_id=bank.id, key=model.id, position=position, created_at=now
            )
            db.session.add(question)
            new_versions.append(
                (question, new_version(content, assets, digest, 1, now))
            )
            changes.added += 1
            continue
        if question.position != position:
            question.position = position
        if question.retired_at is not None:
            question.retired_at = None
            changes.restored += 1
        current = next(
            (v for v in question.versions if v.id == question.current_version_id), None
        )
        edit = edits.get(question.id)
        if current is not None and current.content_hash == digest:
            if edit is not None and not edit.in_files:
                audit.record(
                    IN_FILES, "question", question.id, actor, version=current.number
                )
            changes.unchanged += 1
            continue
        if edit is not None and not edit.in_files and digest == edit.base_hash:
            changes.unchanged += 1  # the files are as the edit found them: keep it
            continue
        same = next((v for v in question.versions if v.content_hash == digest), None)
        if same is not None:
            pointers.append({"id": question.id, "current_version_id": same.id})
        else:
            number = max((v.number for v in question.versions), default=0) + 1
            new_versions.append(
                (question, new_version(content, assets, digest, number, now))
            )
        changes.changed += 1
    for key, question in existing.items():
        edit = edits.get(question.id)
        if edit is not None and edit.only_in_browser:
            continue  # made in the browser, not exported yet: not a removal
        if key not in seen and question.retired_at is None:
            question.retired_at = now
            changes.retired += 1
    db.session.flush()  # ids for new questions
    for question, version in new_versions:
        version.question_id = question.id
        db.session.add(version)
    db.session.flush()  # ids for new versions
    pointers += [{"id": q.id, "current_version_id": v.id} for q, v in new_versions]
    if pointers:
        db.session.execute(update(Question), pointers)
    if changes.any:
        bank.updated_at = now
        audit.record(
            "bank.imported",
            "bank",
            bank.id,
            actor,
            added=changes.added,
            changed=changes.changed,
            retired=changes.retired,
            restored=changes.restored,
        )
    return changes


def new_version(
    content: dict[str, Any],
    assets: dict[str, str],
    digest: str,
    number: int,
    now: Any,
    source: str = "yaml",
) -> QuestionVersion:
    """A new, not yet added, version row of canonical ``content``."""
    return QuestionVersion(
        number=number,
        content_hash=digest,
        content=content,
        assets=assets,
        type=content["type"],
        difficulty=content["difficulty"],
        module=content["module"],
        tags=content["tags"],
        points=content["points"],
        source=source,
        created_at=now,
    )


def _sync_quiz(doc: QuizDoc, actor: Any) -> str:
    model = doc.model
    sections = [
        section.model_dump(mode="json", by_alias=True, exclude_none=True)
        for section in model.sections
    ]
    values = {
        "title": model.title,
        "description": model.description,
        "time_limit_seconds": schema.duration_seconds(model.time_limit)
        if model.time_limit
        else None,
        "source_opens_at": model.opens.astimezone(UTC) if model.opens else None,
        "source_closes_at": model.closes.astimezone(UTC) if model.closes else None,
        "max_attempts": model.attempts,
        "grading": model.grading,
        "pass_mark": schema.percent(model.pass_mark) if model.pass_mark else None,
        "shuffle_questions": model.shuffle_questions,
        "shuffle_choices": model.shuffle_choices,
        "show_results": model.show_results,
        "sections": sections,
    }
    digest = content_hash(model.model_dump(mode="json", by_alias=True))
    quiz = db.session.scalar(select(Quiz).where(Quiz.slug == model.quiz))
    if quiz is None or quiz.window_set_at is None:
        # An organiser's window (set in the browser) wins over the files'.
        values["opens_at"] = values["source_opens_at"]
        values["closes_at"] = values["source_closes_at"]
    quiz, state = _upsert(
        quiz, Quiz, model.quiz, values, digest, doc.source.path, actor
    )
    if state == "changed":
        signals.quiz_changed.send(quiz, quiz=quiz)
        if quiz.window_set_at is not None:
            return "changed (the window an organiser set is kept)"
    return state


def _upsert(
    row: Any,
    cls: type,
    slug: str,
    values: dict[str, Any],
    digest: str,
    path: str,
    actor: Any,
) -> tuple[Any, str]:
    """Create or update a quiz or programme row; ``(row, added|changed|unchanged)``."""
    now = clock.now()
    if row is not None and row.content_hash == digest:
        if row.source_path != path:
            row.source_path = path
        return row, "unchanged"
    state = "added" if row is None else "changed"
    if row is None:
        row = cls(slug=slug, created_at=now)
        db.session.add(row)
    for name, value in values.items():
        setattr(row, name, value)
    row.content_hash, row.source_path, row.updated_at = digest, path, now
    db.session.flush()
    kind = "quiz" if cls is Quiz else "programme"
    audit.record(f"{kind}.imported", kind, row.id, actor, state=state)
    return row, state


def _sync_programme(doc: ProgrammeDoc, actor: Any) -> str:
    model = doc.model
    quizzes = {quiz.slug: quiz for quiz in db.session.scalars(select(Quiz))}
    values = {
        "title": model.title,
        "description": model.description,
        "screening_quiz_id": quizzes[model.screening_quiz].id
        if model.screening_quiz
        else None,
        "shortlist_size": model.shortlist_size,
        "finalist_count": model.finalists,
    }
    digest = content_hash(model.model_dump(mode="json", by_alias=True))
    existing = db.session.scalar(
        select(Programme).where(Programme.slug == model.programme)
    )
    programme, state = _upsert(
        existing, Programme, model.programme, values, digest, doc.source.path, actor
    )
    if state != "unchanged":
        _sync_modules(programme, model.modules, quizzes)
        signals.programme_changed.send(programme, programme=programme)
    return state


def _sync_modules(
    programme: Programme, modules: list[schema.Module], quizzes: dict[str, Quiz]
) -> None:
    """Modules keep their rows (and ids) by slug; gone ones are deleted."""
    by_slug = {module.slug: module for module in programme.modules}
    kept = []
    for position, spec in enumerate(modules):
        module = by_slug.pop(spec.slug, None) or ProgrammeModule(slug=spec.slug)
        module.title = spec.title
        module.description = spec.description
        module.position = position
        module.is_project = spec.project
        module.rubric = [c.model_dump(mode="json") for c in spec.rubric]
        module.assessments = [
            ModuleAssessment(quiz_id=quizzes[slug].id, position=i)
            for i, slug in enumerate(dict.fromkeys(spec.assessments))
        ]
        kept.append(module)
    programme.modules = kept
