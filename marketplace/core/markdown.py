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


def render_markdown(source):
    """Render user Markdown to sanitised HTML (headings start at h2: the page owns h1)."""
    if not source:
        return ""
    html = _md.render(source)
    html = html.replace("<h1>", "<h2>").replace("</h1>", "</h2>")
    return sanitise_html(html)


def as_markup(html):
    """Mark HTML that came from ``render_markdown`` as safe for templates."""
    return Markup(html or "")
