"""Who may do what in the bootcamp."""

from __future__ import annotations

from quizapp.accounts.models import Role
from quizapp.programmes.access import ORGANISERS, STAFF_READERS

#: Score mini-projects against the rubric.
JUDGES = (Role.instructor, Role.admin)

__all__ = ["JUDGES", "ORGANISERS", "STAFF_READERS"]
