"""Who may see a question version (and so its images).

Staff see every version. A candidate sees none through these pages; the pages that
show a candidate their own attempt grant access to the versions in it.
"""

from __future__ import annotations

from typing import Any

from quizapp.accounts.models import STAFF_ROLES
from quizapp.banks.models import QuestionVersion


def may_view_version(user: Any, version: QuestionVersion) -> bool:
    return bool(user.is_authenticated and user.has_role(*STAFF_ROLES))
