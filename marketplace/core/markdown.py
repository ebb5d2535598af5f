"""Markdown to safe HTML: raw HTML in the source is escaped, and the output is sanitised."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

if TYPE_CHECKING:
    from markdown_it.token import Token

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "breaks": True}).enable("table")

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "a",
    "h2", "h3", "h4", "h5", "h6", "hr", "table", "thead", "tbody", "tr", "th", "td",
}


def sanitise_html(html: str) -> str:
    """Keep only harmless tags; links get rel=noopener nofollow."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes={"a": {"href", "title"}, "th": {"align"}, "td": {"align"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener nofollow ugc",
    )


# The page owns h1 and the h2 section it puts the text in: the text's headings start at h3.
SECTION_LEVEL = 2


def _heading_levels(tokens: list[Token]) -> None:
    """Give the text's headings levels from h3 down that never skip one: the highest level the
    author used becomes h3, the next h4 …, and no heading is more than one below the heading
    before it (``## A`` then ``#### B`` is h3 then h4), so that the page's outline holds."""
    used = sorted({int(t.tag[1]) for t in tokens if t.type == "heading_open"})
    rank = {level: SECTION_LEVEL + 1 + i for i, level in enumerate(used)}
    previous = SECTION_LEVEL
    for i, token in enumerate(tokens):
        if token.type == "heading_open":
            level = min(rank[int(token.tag[1])], previous + 1, 6)
            token.tag = f"h{level}"
            previous = level
            closing = next(t for t in tokens[i + 1:] if t.type == "heading_close")
            closing.tag = token.tag


def render_markdown(source: str | None) -> str:
    """Render user Markdown to sanitised HTML, its headings below the page's own."""
    if not source:
        return ""
    env: dict[str, Any] = {}
    tokens = _md.parse(source, env)
    _heading_levels(tokens)
    return sanitise_html(_md.renderer.render(tokens, _md.options, env))


def as_markup(html: str) -> Markup:
    """Mark HTML that came from ``render_markdown`` as safe for templates."""
    return Markup(html or "")
