"""The live preview: a draft question shown exactly as a candidate will see it.

The draft is a version that does not exist yet, so it goes through the same
:func:`quizapp.banks.presenters.present` (and ``_question_body.html``) as a saved
one, as an unsaved :class:`QuestionVersion`. Its images cannot use the asset route
of a saved version; their addresses are pointed at the editor's own image route.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from flask import url_for
from markupsafe import Markup

from quizapp import grading
from quizapp.banks.models import Bank, QuestionVersion
from quizapp.banks.presenters import QuestionView, answer_key, present
from quizapp.grading.expressions import ExpressionError

#: The id an unsaved version stands under while it is rendered.
DRAFT_ID = 0
MAX_SAMPLE = 1_000_000


@dataclass
class Preview:
    sample: int
    view: QuestionView | None = None
    #: The values drawn for this sample (empty for a question without params).
    values: dict[str, Any] = field(default_factory=dict)
    #: The rendered key, only when asked for.
    key: dict[str, Any] | None = None
    error: str | None = None


def draft_preview(
    bank: Bank,
    content: dict[str, Any],
    assets: dict[str, str],
    sample: int,
    with_key: bool = False,
) -> Preview:
    """Sample ``sample`` of the draft (seeded as the bank page's samples are)."""
    sample = min(max(sample, 1), MAX_SAMPLE)
    version = QuestionVersion(
        id=DRAFT_ID, content=content, assets=assets, points=content["points"]
    )
    seed = f"preview:{sample}"
    try:
        values = grading.draw_params(content["params"], seed)
    except ExpressionError as exc:
        return Preview(sample, error=f"params: cannot draw values: {exc}")
    view = present(version, values, seed)
    rewrite = _asset_rewriter(bank)
    view = replace(
        view,
        prompt=rewrite(view.prompt),
        options=[replace(o, html=rewrite(o.html)) for o in view.options],
        lefts=[replace(o, html=rewrite(o.html)) for o in view.lefts],
    )
    key = _rewrite_all(answer_key(version, values), rewrite) if with_key else None
    return Preview(sample, view, values, key)


def _asset_rewriter(bank: Bank):
    """Saved versions' image addresses -> the editor's image route, for the draft."""
    marker = "QZASSET"
    saved = url_for("banks.asset", version_id=DRAFT_ID, path=marker).split(marker)[0]
    draft = url_for("authoring.draft_asset", slug=bank.slug, path=marker)
    draft = draft.split(marker)[0]

    def rewrite(html: Markup) -> Markup:
        # Both prefixes are addresses we built; the HTML is already sanitised.
        return Markup(str(html).replace(f'src="{saved}', f'src="{draft}'))  # noqa: S704

    return rewrite


def _rewrite_all(value: Any, rewrite) -> Any:
    if isinstance(value, Markup):
        return rewrite(value)
    if isinstance(value, dict):
        return {k: _rewrite_all(v, rewrite) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_rewrite_all(v, rewrite) for v in value)
    return value
