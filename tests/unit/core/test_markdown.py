"""Question Markdown: what reaches the page, and what never does."""

from __future__ import annotations

import pytest

from quizapp.core.markdown import render, render_inline


@pytest.mark.parametrize(
    "source",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "<iframe src='https://evil.example'></iframe>",
        '<a href="#" onclick="alert(1)">x</a>',
        "<svg onload=alert(1)>",
        "<style>body{display:none}</style>",
    ],
)
def test_raw_html_is_shown_as_text_never_as_markup(source):
    html = str(render(f"Before {source} after"))

    assert "<script" not in html
    assert "<iframe" not in html
    assert "<svg" not in html
    assert "<style" not in html
    assert " onerror=" not in html.replace("&quot;", '"').split("&lt;")[0]
    assert "&lt;" in html  # the text is still there, escaped


def test_dangerous_link_schemes_are_not_links():
    html = str(
        render(
            "[click](javascript:alert(1)) [data](data:text/html,x) [ok](https://example.org)"
        )
    )

    assert 'href="javascript' not in html
    assert 'href="data' not in html
    assert '<a href="https://example.org" rel="noopener noreferrer">ok</a>' in html


def test_math_is_marked_up_for_katex_with_the_tex_escaped():
    html = str(render("Inline $a<b$ and display\n\n$$\\frac{1}{2}$$\n\nand \\$5."))

    assert '<span class="math inline">a&lt;b</span>' in html
    assert '<div class="math block">\n\\frac{1}{2}\n</div>' in html
    assert "and $5." in html


def test_fenced_code_is_highlighted_with_css_classes_not_styles():
    html = str(render("```python\ndef f(x):\n    return x\n```"))

    assert html.startswith('<pre class="highlight"><code>')
    assert '<span class="k">def</span>' in html
    assert "style=" not in html


def test_code_in_an_unknown_language_is_escaped_plain_text():
    html = str(render("```nosuchlang\n<b>x</b>\n```"))

    assert "&lt;b&gt;x&lt;/b&gt;" in html


def test_images_resolve_through_the_callback_and_unknown_ones_are_dropped():
    def resolve(reference: str) -> str | None:
        return "/q/1/assets/cm.svg" if reference == "assets/cm.svg" else None

    html = str(
        render("![matrix](assets/cm.svg) ![pixel](https://evil.example/p.png)", resolve)
    )

    assert '<img src="/q/1/assets/cm.svg" alt="matrix">' in html
    assert "evil.example" not in html
    assert "pixel" in html  # the alt text stays


def test_inline_rendering_has_no_paragraph():
    assert str(render_inline("**bold** $x$")) == (
        '<strong>bold</strong> <span class="math inline">x</span>'
    )


def test_empty_text_renders_nothing():
    assert render(None) == ""
    assert render_inline("") == ""
