"""Markdown to safe HTML: raw HTML in the source is escaped, and the output is sanitised."""
import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "breaks": True}).enable("table")

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "a",
    "h2", "h3", "h4", "h5", "h6", "hr", "table", "thead", "tbody", "tr", "th", "td",
}


def sanitise_html(html):
    """Keep only harmless tags; links get rel=noopener nofollow."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes={"a": {"href", "title"}, "th": {"align"}, "td": {"align"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener nofollow ugc",
    )


# Markdown's headings move down two levels (# is h3, ## is h4, the rest h6): the page owns h1,
# and the h2 sections it puts the text in.
HEADING_SHIFT = 2


def render_markdown(source):
    """Render user Markdown to sanitised HTML, its headings below the page's own."""
    if not source:
        return ""
    env = {}
    tokens = _md.parse(source, env)
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]) + HEADING_SHIFT, 6)}"
    return sanitise_html(_md.renderer.render(tokens, _md.options, env))


def as_markup(html):
    """Mark HTML that came from ``render_markdown`` as safe for templates."""
    return Markup(html or "")
