"""Write a bank from the database back to YAML (``flask banks export``).

The output is what an instructor would have written: defaults left out, the bank's
tags and module not repeated on each question, multi-line text as ``|`` blocks, and
images copied into ``assets/``. Importing it again changes nothing, because the
canonical content it loads to is the content it came from.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from quizapp.banks.models import AssetBlob, Bank, Question
from quizapp.core.errors import DomainError
from quizapp.extensions import db

#: Question fields left out when they hold these values (``scoring``: per type).
QUESTION_DEFAULTS: dict[str, Any] = {
    "points": 1.0,
    "difficulty": None,
    "explanation": None,
    "params": {},
    "tolerance": None,
    "accept": [],
    "accept_regex": [],
    "case_sensitive": False,
    "distractors": [],
}
DEFAULT_SCORING = {"multiple": "partial", "ordering": "all_or_nothing"}
#: The same for the parts of a question: choices and blanks.
PART_DEFAULTS: dict[str, Any] = {
    "feedback": None,
    "correct": False,
    "accept": [],
    "accept_regex": [],
    "case_sensitive": False,
    "tolerance": None,
}
ORDER = ("id", "type", "difficulty", "points", "module", "tags", "params", "prompt")


class _Dumper(yaml.SafeDumper):
    pass


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def dump(data: Any) -> str:
    return yaml.dump(
        data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100, indent=2
    )


def _prune(value: Any) -> Any:
    """Leave out default-valued keys inside choices and blanks."""
    if isinstance(value, list):
        return [_prune(v) for v in value]
    if isinstance(value, dict):
        return {
            k: _prune(v)
            for k, v in value.items()
            if not (k in PART_DEFAULTS and v == PART_DEFAULTS[k])
        }
    return value


def question_yaml(content: dict[str, Any], bank: Bank) -> dict[str, Any]:
    """The file form of one canonical question."""
    out: dict[str, Any] = {}
    tags = [tag for tag in content["tags"] if tag not in bank.tags]
    for key in (*ORDER, *content):
        if key in out or key not in content:
            continue
        value = content[key]
        if key == "tags":
            value = tags
            if not value:
                continue
        elif key == "module":
            if value == bank.module:
                continue
        elif key == "scoring":
            if value == DEFAULT_SCORING.get(content["type"]):
                continue
        elif key in QUESTION_DEFAULTS and value == QUESTION_DEFAULTS[key]:
            continue
        out[key] = _prune(value)
    return out


def export_bank(slug: str, directory: Path) -> Path:
    """Write bank ``slug`` (live questions) into ``directory/<slug>/``; return it."""
    bank = db.session.scalar(
        select(Bank)
        .where(Bank.slug == slug)
        .options(selectinload(Bank.questions).selectinload(Question.current_version))
    )
    if bank is None:
        raise DomainError(f"no bank {slug!r} has been imported", field="bank")
    live = [q for q in bank.questions if q.retired_at is None and q.current_version]
    document: dict[str, Any] = {"bank": bank.slug, "title": bank.title}
    if bank.description:
        document["description"] = bank.description
    if bank.module:
        document["module"] = bank.module
    if bank.tags:
        document["tags"] = list(bank.tags)
    document["questions"] = [
        question_yaml(q.current_version.content, bank) for q in live
    ]
    folder = directory / bank.slug
    folder.mkdir(parents=True, exist_ok=True)
    assets = {
        path: digest for q in live for path, digest in q.current_version.assets.items()
    }
    for path, digest in sorted(assets.items()):
        blob = db.session.get(AssetBlob, digest)
        target = folder.joinpath(*PurePosixPath(path).parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(blob.data)
    target = folder / "bank.yaml"
    target.write_text(dump(document), encoding="utf-8")
    return target
