"""A fast reader of plain RSS 2.0, for the feeds most sources send (Discourse, job boards).

feedparser reads a thousand forum posts in about 0.4 s, mostly in its SAX callbacks; the XML
tree the import parses anyway (for the entries' digests) holds the same text. This reader
gives the item fields ``entries._rss_entry`` uses, exactly as feedparser gives them, for a feed
made only of elements whose meaning to feedparser it knows. Anything else (Atom, RSS 1.0, an
element or attribute it does not know, markup that is not well-formed, another encoding)
returns None, and feedparser reads the feed: ``tests/feeds/test_rss2.py`` checks that both
give the same entries for every feed in ``tests/feeds/data`` and the benchmark's.
"""
from __future__ import annotations

import re
from xml.etree import ElementTree
from typing import Any
from urllib.parse import urljoin

CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"
DC_CREATOR = "{http://purl.org/dc/elements/1.1/}creator"
ATOM_LINK = "{http://www.w3.org/2005/Atom}link"
DISCOURSE = "{http://www.discourse.org/}"
XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"

# What feedparser keeps of a channel's or an item's children that the import reads; the others
# listed are read by feedparser into fields the import never looks at.
_CHANNEL_READ = {"link", "managingEditor", "author", DC_CREATOR}
_CHANNEL_IGNORED = {"title", "description", "language", "copyright", "lastBuildDate", "pubDate", "generator",
                    "docs", "ttl", "category", "webMaster", "image", "cloud", "rating", "skipHours", "skipDays",
                    ATOM_LINK}
_ITEM_READ = {"title", "link", "description", CONTENT, "guid", "pubDate", "category", "author", DC_CREATOR}
_ITEM_IGNORED = {"comments", "enclosure", "source"}
_ONCE = {"title", "link", "description", CONTENT, "guid", "pubDate", "author", DC_CREATOR}
# Characters that feedparser maps as Windows-1252, and author text from which it takes an address.
_ODD = re.compile("[\x80-\x9f]")
_URI_FIXER = re.compile("^([A-Za-z][A-Za-z0-9+-.]*://)(/*)(.*?)")
_CHARSET = re.compile(r"(?i)charset\s*=\s*[\"']?([\w.:-]+)")
_UTF8 = {"utf-8", "utf8"}
_UTF8_BYTES = {b"utf-8", b"utf8"}
_DECLARED = re.compile(rb"""(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?\sencoding\s*=\s*["']([^"']+)["']""")
_UTF16_32 = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")


class _Unsupported(Exception):
    """Something feedparser may read differently: it reads the feed."""


def read_rss2(body: bytes | bytearray, root: ElementTree.Element, content_type: str, url: str
              ) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    """(the feed's dict, [its items' dicts]) with feedparser's keys, of a plain RSS 2.0 feed in
    UTF-8 (``body``, parsed into ``root``); None when feedparser must read it."""
    if root.tag != "rss" or not root.get("version", "").startswith("2.") or len(root) != 1:
        return None
    # feedparser and the XML parser may choose different encodings: the HTTP header's, the
    # XML declaration's, a byte-order mark's. In UTF-8 throughout, they agree.
    charset = _CHARSET.search(content_type or "")
    declared = _DECLARED.match(body)
    if (charset and charset.group(1).lower() not in _UTF8) or body.startswith(_UTF16_32) or \
            (declared and declared.group(1).lower() not in _UTF8_BYTES):
        return None
    channel = root[0]
    try:
        _check_attributes(root)
        if channel.tag != "channel" or channel.attrib:
            raise _Unsupported
        feed: dict[str, Any] = {}
        items = []
        for child in channel:
            if child.tag == "item":
                items.append(_item(child, url))
            elif child.tag in _CHANNEL_READ:
                _read(feed, child, url, in_item=False)
            elif child.tag == ATOM_LINK:
                if child.get("rel") not in ("self", "hub"):
                    raise _Unsupported  # an alternate link would be the feed's link
            elif child.tag not in _CHANNEL_IGNORED and not child.tag.startswith(DISCOURSE):
                raise _Unsupported
        if sum(1 for _ in root.iter("item")) != len(items):
            raise _Unsupported  # an item elsewhere than in the channel
    except _Unsupported:
        return None
    return feed, items


def _check_attributes(root: ElementTree.Element) -> None:
    for node in root.iter():
        if "base" in node.attrib or XML_BASE in node.attrib:
            raise _Unsupported  # feedparser resolves links against it


def _item(node: ElementTree.Element, base: str) -> dict[str, Any]:
    if node.attrib:
        raise _Unsupported  # feedparser takes a link from some
    item: dict[str, Any] = {}
    seen: set[str] = set()
    tags: list[dict[str, Any]] = []
    for child in node:
        tag = child.tag
        if tag in _ONCE:
            if tag in seen:
                raise _Unsupported
            seen.add(tag)
        if tag == "category":
            if child.attrib:
                raise _Unsupported
            term = _text(child)
            if term and all(t["term"] != term for t in tags):
                tags.append({"term": term, "scheme": None, "label": None})
        elif tag in _ITEM_READ:
            _read(item, child, base, in_item=True)
        elif tag not in _ITEM_IGNORED and not tag.startswith(DISCOURSE):
            raise _Unsupported
    if tags:
        item["tags"] = tags
    if "content" in item:
        item.setdefault("summary", item["content"][0]["value"])  # feedparser copies it
    if item.get("guidislink") and "link" not in item:
        item["link"] = item["id"]
    return item


def _read(context: dict[str, Any], node: ElementTree.Element, base: str, in_item: bool) -> None:
    """Store what feedparser stores for ``node`` in ``context`` (the feed's or an item's)."""
    tag = node.tag
    attributes = dict(node.attrib)
    if tag == "guid":
        permalink = attributes.pop("isPermaLink", "true") == "true"
    if attributes:
        raise _Unsupported
    value = _text(node)
    if tag == "link":
        value = _resolve(base, value)
        if in_item:
            value = value.replace("&amp;", "&")
        context["link"] = re.sub("&([A-Za-z0-9_]+);", r"&\g<1>", value)
    elif tag == "guid":
        context["id"] = _resolve(base, value) if permalink else value
        context["guidislink"] = permalink
    elif tag == "title":
        context["title"] = value
    elif tag == "description":
        context["summary"] = value
    elif tag == CONTENT:
        context["content"] = [{"type": "text/html", "value": value}]
    elif tag == "pubDate":
        from feedparser.datetimes import _parse_date  # feedparser's own reading of dates

        context["published"] = value
        context["published_parsed"] = _parse_date(value)
    else:  # author, managingEditor, dc:creator
        if "@" in value:
            raise _Unsupported  # feedparser takes an address out of it
        context["author"] = value
        if value:
            context.setdefault("author_detail", {"name": value})


def _text(node: ElementTree.Element) -> str:
    """An element's text as feedparser gives it: stripped, and text that was UTF-8 read as
    Latin-1 read again."""
    if len(node):
        raise _Unsupported  # markup inside: feedparser gives it back as text
    value = (node.text or "").strip()
    if value.isascii():
        return value
    if _ODD.search(value):
        raise _Unsupported
    try:
        return value.encode("iso-8859-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def _resolve(base: str, uri: str) -> str:
    """feedparser's ``resolve_uri``."""
    if not uri:
        return uri
    uri = _URI_FIXER.sub(r"\1\3", uri)
    try:
        return urljoin(base or "", uri)
    except ValueError:
        return ""
