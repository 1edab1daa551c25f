"""A candidate may see the question versions of their own attempts (their images)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, select

from quizapp.banks.access import grant_view
from quizapp.banks.models import QuestionVersion
from quizapp.delivery.models import Attempt, AttemptItem
from quizapp.extensions import db


@grant_view
def in_own_attempt(user: Any, version: QuestionVersion) -> bool:
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    AttemptItem.version_id == version.id,
                    AttemptItem.attempt_id == Attempt.id,
                    Attempt.user_id == user.id,
                )
            )
        )
    )
