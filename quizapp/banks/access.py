"""Who may see a question version (and so its images).

Staff see every version. Other features add rules with :func:`grant_view` (delivery:
a candidate sees the versions in their own attempts), so this module does not
depend on them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from quizapp.accounts.models import STAFF_ROLES
from quizapp.banks.models import QuestionVersion

ViewRule = Callable[[Any, QuestionVersion], bool]
_rules: list[ViewRule] = []


def grant_view(rule: ViewRule) -> ViewRule:
    """Register ``rule(user, version) -> bool`` as another way to see a version."""
    _rules.append(rule)
    return rule


def may_view_version(user: Any, version: QuestionVersion) -> bool:
    if not user.is_authenticated:
        return False
    if user.has_role(*STAFF_ROLES):
        return True
    return any(rule(user, version) for rule in _rules)
