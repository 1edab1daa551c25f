"""Validate, save and preview questions written in the browser; store uploaded images.

Validation is the bank checker's: the pydantic models of :mod:`quizapp.banks.schema`
with the loader's messages, then :func:`quizapp.banks.checker.check_question`, so the
editor refuses exactly what ``flask banks check`` refuses, with the same words.

Saving never changes a version: it adds version N+1 with source ``browser`` and
points the question at it, so attempts that point at version N keep it as it was.
The audit event it records (:data:`quizapp.banks.sync.EDITED`) carries what the
files held when the edit started, which is how an import later tells a change made
in git from one made here (see :mod:`quizapp.banks.sync`).
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select

from quizapp.banks import schema, sync
from quizapp.banks.checker import (
    ASSET_TYPES,
    MAX_ASSET_BYTES,
    asset_problem,
    check_question,
    image_paths,
    question_texts,
)
from quizapp.banks.loader import QUESTION

# The loader's own translation of pydantic errors, so the messages are the same.
from quizapp.banks.loader import _message as pydantic_message
from quizapp.banks.loader import _real_loc as file_loc
from quizapp.banks.models import AssetBlob, Bank, Question, QuestionVersion
from quizapp.banks.yamlsource import Loc
from quizapp.core import audit, clock
from quizapp.core.errors import DomainError
from quizapp.extensions import db

log = logging.getLogger(__name__)

Problems = list[tuple[Loc, str]]
#: Where an uploaded image is named: ``assets/<name>-<first 12 hex of sha256>.<ext>``.
UPLOADED = re.compile(r"assets/[A-Za-z0-9._-]*?-([0-9a-f]{12})\.[a-z]+")
HASH_PREFIX = 12
EXTENSIONS = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/gif": "gif",
    "image/webp": "webp",
    "image/svg+xml": "svg",
}
#: Never a folder: asset_problem then checks only the name rules, ending with
#: "not in the bank's folder" when they pass; the catalogue decides the rest.
_NOWHERE = Path("/nonexistent/quizapp-authoring")
_SVG_DANGER = re.compile(
    rb"<\s*script|<\s*foreignObject|\bon[a-z]+\s*=|javascript:|<!ENTITY", re.I
)


class InvalidQuestion(DomainError):
    """The question breaks the bank rules; ``problems`` say where and why."""

    status = 422

    def __init__(self, problems: Problems):
        super().__init__("The question has problems: see the fields marked.")
        self.problems = problems


@dataclass(frozen=True)
class Saved:
    question: Question
    #: The new version; None when the content was the current version's already.
    version: QuestionVersion | None


def header_of(bank: Bank) -> schema.BankHeader:
    """The bank's defaults (module, tags) as the file header holds them."""
    return schema.BankHeader(
        bank=bank.slug,
        title=bank.title,
        description=bank.description,
        module=bank.module,
        tags=list(bank.tags),
        questions=[],
    )


# --- images ---------------------------------------------------------------------------


def bank_assets(bank: Bank) -> dict[str, str]:
    """``{reference: sha256}`` of every image the bank's versions use (newest wins)."""
    known: dict[str, str] = {}
    rows = db.session.scalars(
        select(QuestionVersion.assets)
        .join(Question, Question.id == QuestionVersion.question_id)
        .where(Question.bank_id == bank.id)
        .order_by(QuestionVersion.id)
    )
    for assets in rows:
        known.update(assets or {})
    return known


def resolve_asset(reference: str, known: dict[str, str]) -> str | None:
    """The sha256 of the image ``reference`` names in a bank, or None."""
    if reference in known:
        return known[reference]
    match = UPLOADED.fullmatch(reference)
    if match is None:
        return None
    digests = list(
        db.session.scalars(
            select(AssetBlob.sha256)
            .where(AssetBlob.sha256.startswith(match.group(1)))
            .limit(2)
        )
    )
    if len(digests) != 1:
        return None
    suffix = PurePosixPath(reference).suffix.lower()
    blob = db.session.get(AssetBlob, digests[0])
    return digests[0] if ASSET_TYPES.get(suffix) == blob.media_type else None


def sniff(data: bytes) -> str | None:
    """The image type of ``data`` by its first bytes (never by its name), or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith((b"<?xml", b"<svg", b"<!--")) and b"<svg" in head:
        return "image/svg+xml"
    return None


def _size(limit: int) -> str:
    return f"{limit / 2**20:g} MB" if limit >= 2**20 else f"{limit / 2**10:g} KB"


def store_upload(filename: str, data: bytes) -> str:
    """Keep an uploaded image (once per content); return its bank reference.

    :raise DomainError: (field ``image``) for an empty or too large file, one that
        is not a PNG, JPEG, GIF, WebP or SVG image by its content, or an SVG that
        carries script, event handlers or entities.
    """
    if not data:
        raise DomainError("choose an image file first", field="image")
    if len(data) > MAX_ASSET_BYTES:
        raise DomainError(
            f"the image is larger than {_size(MAX_ASSET_BYTES)}", field="image"
        )
    media_type = sniff(data)
    if media_type is None:
        raise DomainError(
            "this is not a PNG, JPEG, GIF, WebP or SVG image (by its content)",
            field="image",
        )
    if media_type == "image/svg+xml" and _SVG_DANGER.search(data):
        raise DomainError(
            "this SVG holds script, event handlers or entities; export it as plain "
            "SVG or PNG",
            field="image",
        )
    digest = hashlib.sha256(data).hexdigest()
    if db.session.get(AssetBlob, digest) is None:
        db.session.add(
            AssetBlob(sha256=digest, media_type=media_type, size=len(data), data=data)
        )
        log.info("image %s uploaded (%s, %d bytes)", digest, media_type, len(data))
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", PurePosixPath(filename).stem).strip("-")
    return (
        f"assets/{stem[:40] or 'image'}-{digest[:HASH_PREFIX]}.{EXTENSIONS[media_type]}"
    )


# --- validation -----------------------------------------------------------------------


def validate(
    bank: Bank, data: dict[str, Any], question: Question | None = None
) -> tuple[Any, dict[str, str], Problems]:
    """``(model, assets, problems)`` of question ``data`` for ``bank``.

    ``question`` is the one being edited (None: a new one, whose id must be free).
    ``model`` is None when the data does not validate; ``assets`` maps each image
    reference to its sha256.
    """
    problems: Problems = []
    if question is None and data.get("id"):
        taken = db.session.scalar(
            select(Question.id).where(
                Question.bank_id == bank.id, Question.key == data["id"]
            )
        )
        if taken is not None:
            problems.append(
                (("id",), f"the id {data['id']!r} is already used in this bank")
            )
    try:
        model = QUESTION.validate_python(data)
    except ValidationError as exc:
        return None, {}, problems + _translate(exc, data)
    problems += check_question(model, None)
    assets: dict[str, str] = {}
    known = bank_assets(bank)
    for loc, text in question_texts(model):
        for reference in image_paths(text):
            message = asset_problem(_NOWHERE, reference)
            digest = resolve_asset(reference, known)
            if digest is not None and message and message.endswith("bank's folder"):
                assets[reference] = digest
            elif message:
                problems.append((loc, f"{message} (upload it first)"))
    return (None if problems else model), assets, problems


def _translate(exc: ValidationError, data: dict[str, Any]) -> Problems:
    out: dict[Loc, str] = {}
    for error in exc.errors(include_url=False):
        loc = file_loc(data, tuple(error["loc"]))
        if error["type"] == "union_tag_invalid":
            loc = (*loc, "type")
        out.setdefault(loc, pydantic_message(error))
    return list(out.items())


def canonical(bank: Bank, model: Any, assets: dict[str, str]) -> tuple[dict, str]:
    """The canonical content of ``model`` and its content hash, as an import makes
    them, so exporting and importing it again finds it unchanged."""
    content = sync.canonical_question(header_of(bank), model)
    return content, sync.content_hash({"content": content, "assets": assets})


# --- saving ---------------------------------------------------------------------------


def save_question(
    bank: Bank, data: dict[str, Any], actor: Any, question: Question | None = None
) -> Saved:
    """Create a question in ``bank``, or give ``question`` a new version.

    :raise InvalidQuestion: the data breaks a bank rule (nothing is written).
    :raise DomainError: the question is retired, or the content is that of an older
        version of it.
    """
    if question is not None:
        if question.retired_at is not None:
            raise DomainError(
                "this question is retired (it left the bank's file); restore it in "
                "the file and import it before editing it here"
            )
        data = {**data, "id": question.key}
    model, assets, problems = validate(bank, data, question)
    if model is None:
        raise InvalidQuestion(problems)
    content, digest = canonical(bank, model, assets)
    now = clock.now()
    current = question.current_version if question is not None else None
    if current is not None and current.content_hash == digest:
        return Saved(question, None)
    if question is None:
        position = db.session.scalar(
            select(func.max(Question.position)).where(Question.bank_id == bank.id)
        )
        question = Question(
            bank_id=bank.id, key=model.id, position=(position or 0) + 1, created_at=now
        )
        db.session.add(question)
        db.session.flush()
    base_hash = _files_hash(question, current)
    older = next((v for v in question.versions if v.content_hash == digest), None)
    if older is not None:
        raise DomainError(
            f"this is exactly version {older.number}; to go back to it, change the "
            "bank's file and import it"
        )
    version = sync.new_version(
        content,
        assets,
        digest,
        max((v.number for v in question.versions), default=0) + 1,
        now,
        source="browser",
    )
    version.question_id = question.id
    db.session.add(version)
    db.session.flush()
    question.current_version_id = version.id
    bank.updated_at = now
    audit.record(
        sync.EDITED,
        "question",
        question.id,
        actor,
        version=version.number,
        base_hash=base_hash,
        bank=bank.slug,
    )
    db.session.flush()
    db.session.expire(question, ["current_version", "versions"])
    log.info("question %s/%s saved as v%d", bank.slug, question.key, version.number)
    return Saved(question, version)


def _files_hash(question: Question, current: QuestionVersion | None) -> str | None:
    """What the files held when this edit started (None: not in the files yet)."""
    if current is None:
        return None
    edit = sync.browser_edits([question]).get(question.id)
    if edit is None or edit.in_files:
        return current.content_hash
    return edit.base_hash
