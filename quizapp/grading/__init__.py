"""The pure grading engine: safe expressions, seeded variants, one grader per type.

Standard library only: no Flask, no database, no other quizapp package.
"""

from .expressions import FUNCTIONS, Expression, ExpressionError, parse_expression
from .graders import (
    GRADERS,
    Grade,
    correct_response,
    grade,
    matching_options,
    resolve_number,
)
from .variants import PLACEHOLDER, check_params, draw_params, shuffled, substitute

__all__ = [
    "FUNCTIONS",
    "GRADERS",
    "PLACEHOLDER",
    "Expression",
    "ExpressionError",
    "Grade",
    "check_params",
    "correct_response",
    "draw_params",
    "grade",
    "matching_options",
    "parse_expression",
    "resolve_number",
    "shuffled",
    "substitute",
]
