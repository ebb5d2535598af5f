"""Incoming entries: what one item of a feed says, read from RSS/Atom bytes with feedparser.

Both readers (this one and ``ocds``) turn bytes into a list of ``Entry``; turning entries into
jobs is ``ingest``'s work. HTML from outside is sanitised here, once, with the same rules as
our own Markdown output.
"""
from __future__ import annotations

from typing import TYPE_CHECKING
import hashlib
import html
import io
import re
import xml.etree.ElementTree as ElementTree
import xml.sax
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import urljoin, urlsplit

from ..core.markdown import sanitise_html
from ..core.time import site_zone
from .rss2 import read_rss2

if TYPE_CHECKING:
    from collections.abc import Container, Iterable, Sequence
    from time import struct_time
    from typing import Any

# feedparser (a megabyte of modules) is imported when a feed is read, by the fetching command,
# not in every worker that serves pages.


def _harmless_bozo() -> tuple[type, ...]:
    """feedparser's complaints that do not make a feed unreadable: a charset that had to be
    guessed, a feed served as text/plain or text/html, a namespace prefix never declared."""
    import feedparser

    return feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType, feedparser.UndeclaredNamespace


MAX_HTML = 100_000
MAX_TEXT = 20_000


class FeedFormatError(Exception):
    """The bytes are not a feed we can read; ``message`` is shown on the source's page."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Entry:
    guid: str
    title: str
    link: str = ""
    html: str = ""              # sanitised
    text: str = ""              # plain text of ``html``
    summary: str = ""           # short plain text; defaults to the start of ``text``
    published: datetime | None = None
    questions_deadline: datetime | None = None
    bids_deadline: datetime | None = None
    budget_min: int | None = None
    budget_max: int | None = None
    currency: str | None = None
    location: str = ""
    buyer: str = ""             # who buys: the OCDS buyer, or the entry's (or feed's) author
    value: dict[str, Any] | None = None  # the value as published: {"min", "max", "currency"}
    keywords: str = ""          # categories, classification names: more text to find skills in
    skill_slugs: tuple[str, ...] = field(default_factory=tuple)  # skills known from codes (CPV)
    classified: bool = False    # it has codes (CPV): what it is about is known without its prose
    cancelled: bool = False
    # What the entry announces: "tender" (work open for bids), "award" (the buyer chose a
    # supplier: nothing left to bid for) or "planning" (work not open for bids yet).
    notice: str = "tender"
    # What the source sent for this entry, as a digest: the same digest at the next fetch means
    # nothing to read again (see ``raw_digest``).
    raw_hash: str | None = None


# Discourse ends every topic in its RSS with these lines: not part of the brief.
_DISCOURSE_FOOTER = re.compile(r"(?m)^(?:\d+ posts? - \d+ participants?|Read full topic)$")
# The same lines as Discourse writes them in HTML: paragraphs at the end of the description.
_DISCOURSE_FOOTER_HTML = re.compile(
    r"(?:\s*<p>\s*(?:(?:<small>\s*)?\d+ posts? - \d+ participants?(?:\s*</small>)?"
    r"|<a [^>]*>Read full topic</a>)\s*</p>)+\s*$"
)
_BLOCK_END = re.compile(r"(?i)<br\s*/?>|</(?:p|div|li|h[1-6]|tr|blockquote|pre|table|ul|ol)\s*>")
_TAG = re.compile(r"<[^>]*>")
_LOOKS_LIKE_HTML = re.compile(r"<(?:[a-zA-Z][a-zA-Z0-9]*|/[a-zA-Z][a-zA-Z0-9]*)(?:\s[^>]*)?/?>")


# A link whose address has no scheme: relative to the entry, not to our site.
_RELATIVE_HREF = re.compile(r"""(?i)(\shref\s*=\s*)(["'])(?![a-z][a-z0-9+.-]*:|#)([^"']*)\2""")


def clean_html(raw: str | None, base: str = "") -> str:
    """Sanitised HTML, its relative links made absolute against ``base`` (the entry's page)."""
    if base and raw:
        raw = _RELATIVE_HREF.sub(lambda m: f"{m[1]}{m[2]}{urljoin(base, m[3])}{m[2]}", raw)
    return sanitise_html(raw or "")[:MAX_HTML]


def html_to_text(raw: str | None, sanitised: bool = False) -> str:
    """Plain text of an HTML fragment: blocks become lines, scripts and tags disappear.
    ``sanitised``: ``raw`` came from ``clean_html`` already (sanitising twice costs time)."""
    if not raw:
        return ""
    # Sanitising drops <script>/<style> with their content; text without a "<" has no tags to
    # drop (most titles and names: three sanitisings an entry were a fifth of reading a feed).
    cleaned = raw if sanitised or "<" not in raw else sanitise_html(raw)
    text = _TAG.sub("", _BLOCK_END.sub("\n", cleaned))
    text = html.unescape(text)
    lines = [" ".join(line.split()) for line in text.splitlines()]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()[:MAX_TEXT]


def text_html(text: str) -> str:
    """HTML of plain text: paragraphs at blank lines, line breaks kept, every character escaped.
    A buyer's plain text is not Markdown (its "*", "#" or "1." mean nothing special), and
    rendering it as such cost more than the rest of an import together."""
    paragraphs = (p.strip() for p in _BLANK_LINES.split(text or ""))
    return "".join("<p>" + "<br>\n".join(html.escape(line.strip(), quote=False) for line in p.splitlines())
                   + "</p>\n" for p in paragraphs if p)


_BLANK_LINES = re.compile(r"\n\s*\n")


def safe_link(url: str) -> str:
    """``url`` if it is an http(s) address, else "" (a javascript: link must never reach a page)."""
    url = (url or "").strip()
    return url[:1000] if urlsplit(url).scheme in ("http", "https") else ""


def looks_like_html(text: str) -> bool:
    return bool(_LOOKS_LIKE_HTML.search(text or ""))


def shorten(text: str, limit: int) -> str:
    """``text`` cut at a word boundary to at most ``limit`` characters, with an ellipsis."""
    text = " ".join((text or "").split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0] or text[: limit - 1]
    return cut.rstrip(" ,.;:") + "…"


def _struct_to_utc(value: struct_time | None) -> datetime | None:
    if not value:
        return None
    return datetime(*value[:6])  # feedparser gives UTC struct_time


def parse_iso(value: object, end_of_day: bool = False) -> datetime | None:
    """An ISO 8601 date or datetime as naive UTC. A bare date is the start or the end (23:59) of
    that day where the site is (``TIMEZONE``): a UK buyer's "30 April" ends at 22:59 UTC in summer."""
    if not isinstance(value, str) or not value.strip():
        return None
    value = value.strip()
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if len(value) == 10:
        moment = moment.replace(hour=23, minute=59) if end_of_day else moment
        moment = moment.replace(tzinfo=site_zone())
    if moment.tzinfo is not None:
        try:
            moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
        except OverflowError:  # past the calendar's ends in UTC: as good as no date
            return None
    return moment.replace(microsecond=0)


def raw_digest(key: bytes, raw: bytes) -> str:
    """The digest of one entry as the source sent it (``raw``: bytes), under ``key``: what else
    decides the job it makes (the source's settings, the skills taxonomy). An entry whose
    digest is stored already is skipped before it is read: the same bytes make the same job."""
    return hashlib.sha256(key + b"\0" + raw).hexdigest()


def parse_rss(body: bytes | bytearray, content_type: str = "", url: str = "", key: bytes | None = None,
              known: Container[str] = frozenset()) -> Entries:
    """The entries of an RSS 0.9x/1.0/2.0 or Atom feed. Raises FeedFormatError.

    With ``key``, each entry carries its ``raw_hash``, and entries whose hash is in ``known``
    are left out and counted (``Entries.unchanged``); when all are, the entries are not read
    at all. Plain RSS 2.0 is read from the XML tree (``rss2``), anything else by feedparser."""
    root = _xml_tree(body)
    digests: Sequence[str | None] | None = _item_digests(root, key) if key is not None and root is not None \
        else None
    if digests and all(d in known for d in digests):
        return Entries(unchanged=len(digests))
    read = read_rss2(body, root, content_type, url) if root is not None else None
    feed, items = read if read is not None else _feedparser(body, content_type, url)
    base = feed.get("link") or url
    author = _author(feed)
    if digests is None or len(digests) != len(items):
        digests = [None] * len(items)  # not read alike: every entry is read
    entries, unchanged = [], 0
    for item, digest in zip(items, digests):
        if digest is not None and digest in known:
            unchanged += 1
            continue
        entry = _rss_entry(item, base, author)
        if entry is not None:
            entry.raw_hash = digest
        entries.append(entry)
    return Entries([e for e in entries if e is not None], dropped=entries.count(None), unchanged=unchanged)


def _feedparser(body: bytes | bytearray, content_type: str, url: str) -> tuple[Any, list[Any]]:
    """(the feed's dict, its entries' dicts) as feedparser reads them. Raises FeedFormatError."""
    headers = {"content-type": content_type or "application/xml", "content-location": url}
    # Bytes wrapped in a stream: feedparser would treat a bare string as a URL or a path.
    # feedparser neither sanitises nor resolves links here: ``clean_html`` does both, faster
    # (nh3, with the same rules as our own Markdown output).
    import feedparser

    parsed = feedparser.parse(io.BytesIO(body), response_headers=headers, sanitize_html=False,
                              resolve_relative_uris=False)
    if not parsed.get("version"):
        sent = " (the server sent a web page)" if "html" in (content_type or "").lower() else ""
        raise FeedFormatError(f"This is not an RSS or Atom feed{sent}.")
    if parsed.bozo and not _harmless(parsed.bozo_exception):
        problem = parsed.bozo_exception
        where = ""
        if hasattr(problem, "getLineNumber"):
            where = f" (line {problem.getLineNumber()})"
        raise FeedFormatError(f"The feed is not well-formed XML{where}: {problem}.")
    return parsed.feed, parsed.entries


def _xml_tree(body: bytes | bytearray) -> ElementTree.Element | None:
    """The feed's XML tree; None when the XML parser refuses it (feedparser's loose parser
    may still read it)."""
    try:
        return ElementTree.fromstring(body)
    except (ElementTree.ParseError, ValueError):
        return None


# The elements that are a feed's entries, in RSS 2.0, RSS 1.0 (and 0.90) and Atom.
_ITEM_TAGS = frozenset({"item", "{http://purl.org/rss/1.0/}item", "{http://my.netscape.com/rdf/simple/0.9/}item",
                        "{http://www.w3.org/2005/Atom}entry"})
# What a feed says outside its entries that its entries' jobs take: the address relative links
# start from, and the author named when an entry names none ("lastBuildDate" changes at every
# fetch of some feeds, and must not make every entry look new).
_HEAD_NAMES = frozenset({"link", "base", "author", "creator", "managingEditor", "name", "email"})


def _item_digests(root: ElementTree.Element, key: bytes) -> list[str]:
    """The ``raw_digest`` of each entry of the feed, in the order feedparser reads them."""
    head, items = [], []

    def walk(node: ElementTree.Element) -> None:
        for child in node:
            if child.tag in _ITEM_TAGS:
                items.append(child)
                continue
            if child.tag.rsplit("}", 1)[-1] in _HEAD_NAMES:
                head.append((child.tag, sorted(child.attrib.items()), child.text))
            walk(child)

    walk(root)
    key = key + repr(head).encode()
    digests = []
    for item in items:
        parts = [(node.tag, sorted(node.attrib.items()), node.text, node.tail if node is not item else None)
                 for node in item.iter()]
        digests.append(raw_digest(key, repr(parts).encode()))
    return digests


def _harmless(problem: Exception) -> bool:
    # An undeclared namespace prefix (a <dc:creator> without xmlns:dc, common in forum and
    # blog feeds) stops the strict XML parser; feedparser's loose parser then reads the feed
    # whole, so nothing is lost.
    if isinstance(problem, _harmless_bozo()):
        return True
    return isinstance(problem, xml.sax.SAXParseException) and "unbound prefix" in str(problem)


class Entries(list[Entry]):
    """The usable entries of a feed; ``dropped`` counts the others, which had no title or no
    id (nothing to show, or nothing to know them by at the next fetch), ``unchanged`` those
    left out because they are as they were at the last fetch (see ``raw_digest``)."""

    def __init__(self, entries: Iterable[Entry] = (), dropped: int = 0, unchanged: int = 0) -> None:
        super().__init__(entries)
        self.dropped = dropped
        self.unchanged = unchanged


def _author(item: Any) -> str:  # a feedparser dict
    """An author's name (feedparser's ``author``, from <author>, <dc:creator> or Atom's
    <author><name>), without RSS's "address (Name)" form's address."""
    name = (item.get("author_detail") or {}).get("name") or item.get("author") or ""
    return shorten(html_to_text(name), 300)


def _rss_entry(item: Any, base: str, feed_author: str = "") -> Entry | None:
    title = html_to_text(item.get("title", ""))
    link = (item.get("link") or "").strip()
    link = safe_link(urljoin(base, link) if link and base else link)
    raw = ""
    if item.get("content"):
        raw = item["content"][0].get("value", "")
    raw = raw or item.get("summary", "")
    cleaned = clean_html(raw, link or base) if looks_like_html(raw) else ""
    cleaned = _DISCOURSE_FOOTER_HTML.sub("", cleaned)
    text = html_to_text(cleaned, sanitised=True) if cleaned else " ".join(raw.split())[:MAX_TEXT]
    text = _DISCOURSE_FOOTER.sub("", text).strip()
    guid = (item.get("id") or link or "").strip()
    if not title or not guid:
        return None  # nothing to show, or nothing to recognise it by next time
    summary_raw = item.get("summary", "") if item.get("content") else ""
    return Entry(
        guid=guid[:500],
        title=title,
        link=link,
        html=cleaned,
        text=text,
        summary=html_to_text(summary_raw),
        published=_struct_to_utc(item.get("published_parsed") or item.get("updated_parsed")),
        keywords=" ".join(t.get("term") or "" for t in item.get("tags", [])),
        buyer=_author(item) or feed_author,
    )
