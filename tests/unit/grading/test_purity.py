"""The grading engine is pure: standard library only, no framework, no database."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

GRADING = Path(__file__).resolve().parents[3] / "quizapp" / "grading"
SOURCES = sorted(GRADING.rglob("*.py"))
FORBIDDEN = {"flask", "sqlalchemy", "werkzeug", "yaml", "pydantic"}


def imported_modules(source: str, package: str) -> list[str]:
    """Absolute names of the modules ``source``, a module of ``package``, imports."""
    parts = package.split(".")
    modules = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = parts[: len(parts) - node.level + 1] if node.level else []
            modules.append(".".join([*base, *filter(None, [node.module])]))
    return modules


def is_allowed(module: str) -> bool:
    root = module.split(".")[0]
    if root in FORBIDDEN or root.startswith("flask_"):
        return False
    return root != "quizapp" or (
        module == "quizapp.grading" or module.startswith("quizapp.grading.")
    )


def test_the_package_has_sources():
    assert {path.name for path in SOURCES} >= {"__init__.py", "graders.py"}


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: path.name)
def test_grading_imports_only_the_standard_library_and_itself(path):
    package = ".".join(["quizapp", "grading", *path.relative_to(GRADING).parent.parts])
    modules = imported_modules(path.read_text(encoding="utf-8"), package)

    assert [module for module in modules if not is_allowed(module)] == []


@pytest.mark.parametrize(
    ("source", "modules"),
    [
        ("import math, re", ["math", "re"]),
        ("from . import graders", ["quizapp.grading"]),
        ("from .expressions import Expression", ["quizapp.grading.expressions"]),
        ("from .. import db", ["quizapp"]),
        ("from ..core.clock import now", ["quizapp.core.clock"]),
        ("def f():\n    import flask", ["flask"]),
    ],
)
def test_imports_are_found_and_relative_ones_resolved(source, modules):
    assert imported_modules(source, "quizapp.grading") == modules


@pytest.mark.parametrize(
    ("module", "allowed"),
    [
        ("math", True),
        ("quizapp.grading", True),
        ("quizapp.grading.expressions", True),
        ("flask", False),
        ("flask_login", False),
        ("sqlalchemy.orm", False),
        ("werkzeug", False),
        ("yaml", False),
        ("pydantic", False),
        ("quizapp", False),
        ("quizapp.core.clock", False),
        ("quizapp.gradingx", False),
    ],
)
def test_the_purity_rule(module, allowed):
    assert is_allowed(module) is allowed
