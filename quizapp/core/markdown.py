"""Markdown for question text: CommonMark, math, highlighted code, sanitised.

* Raw HTML in the source is shown as text, never passed through (``html=False``), and
  the output goes through nh3 with a short allow-list anyway: no script, no event
  handlers, no styles, no iframes, only http(s) and mailto links.
* ``$…$`` and ``$$…$$`` become ``<span class="math inline">`` / ``<div class="math
  block">`` holding the escaped TeX; the vendored KaTeX typesets them in the page
  (``static/js/math.js``). Write ``\\$`` for a literal dollar sign.
* Fenced code with a language is highlighted by Pygments into CSS classes
  (``static/css/pygments.css``), so no inline styles are needed under our CSP.
* Images resolve through ``asset_url(reference)``; an image it does not know is
  dropped, leaving its alt text, so a page never fetches from outside the app.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

import nh3
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from markupsafe import Markup, escape
from mdit_py_plugins.dollarmath import dollarmath_plugin
from pygments import highlight as pygments_highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

AssetUrl = Callable[[str], str | None]

TAGS = {
    "a", "blockquote", "br", "code", "del", "div", "em", "h1", "h2", "h3", "h4", "h5",
    "h6", "hr", "img", "li", "ol", "p", "pre", "s", "span", "strong", "table", "tbody",
    "td", "th", "thead", "tr", "ul",
}  # fmt: skip
ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "code": {"class"},
    "pre": {"class"},
    "span": {"class"},
    "div": {"class"},
    "ol": {"start"},
}
URL_SCHEMES = {"http", "https", "mailto"}
FORMATTER = HtmlFormatter(nowrap=True)


@lru_cache(maxsize=64)
def _lexer(language: str) -> Any:
    try:
        return get_lexer_by_name(language)
    except ClassNotFound:
        return None


def _highlight(code: str, language: str, attrs: str) -> str:
    lexer = _lexer(language.strip().lower()) if language.strip() else None
    body = pygments_highlight(code, lexer, FORMATTER) if lexer else str(escape(code))
    return f'<pre class="highlight"><code>{body}</code></pre>\n'


def _image(
    self: RendererHTML,
    tokens: Sequence[Token],
    idx: int,
    options: OptionsDict,
    env: EnvType,
) -> str:
    token = tokens[idx]
    alt = self.renderInlineAsText(token.children or [], options, env)
    resolve: AssetUrl | None = env.get("asset_url")
    url = resolve(unquote(str(token.attrGet("src") or ""))) if resolve else None
    if not url:
        return str(escape(alt))
    title = token.attrGet("title")
    title_attr = f' title="{escape(title)}"' if title else ""
    return f'<img src="{escape(url)}" alt="{escape(alt)}"{title_attr}>'


def _build() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "highlight": _highlight})
    md.enable(["table", "strikethrough"])
    md.use(dollarmath_plugin, allow_digits=False, double_inline=True)
    md.add_render_rule("image", _image)
    return md


MD = _build()


def _clean(html: str) -> Markup:
    return Markup(  # noqa: S704 - nh3 has just sanitised it
        nh3.clean(html, tags=TAGS, attributes=ATTRIBUTES, url_schemes=URL_SCHEMES)
    )


def render(text: str | None, asset_url: AssetUrl | None = None) -> Markup:
    """``text`` as sanitised block HTML (paragraphs, lists, code, display math)."""
    if not text:
        return Markup("")
    if "![" not in text:
        return _render_cached(text, inline=False)
    return _clean(MD.render(text, {"asset_url": asset_url}))


def render_inline(text: str | None, asset_url: AssetUrl | None = None) -> Markup:
    """``text`` as sanitised inline HTML, for choices and items (no paragraphs)."""
    if not text:
        return Markup("")
    if "![" not in text:
        return _render_cached(text, inline=True)
    return _clean(MD.renderInline(text, {"asset_url": asset_url}))


@lru_cache(maxsize=4096)
def _render_cached(text: str, inline: bool) -> Markup:
    """Rendering is a pure function of the text unless it has an image (every
    CommonMark image starts with ``![``; raw HTML is off), whose URL depends on the
    question version: such texts are rendered each time. Every question page renders
    the same prompts and choices again, and markdown-it, Pygments and nh3 were a
    fifth of the question page's time under load (docs/performance.md)."""
    html = MD.renderInline(text, {}) if inline else MD.render(text, {})
    return _clean(html)
