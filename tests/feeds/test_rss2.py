"""Plain RSS 2.0 is read from the XML tree (marketplace/feeds/rss2.py), not by feedparser:
both must give the same entries, and anything the fast reader does not know goes to
feedparser."""
import os
from xml.etree import ElementTree

import pytest

from marketplace.feeds.entries import FeedFormatError, _author, _feedparser, _rss_entry, parse_rss
from marketplace.feeds.rss2 import read_rss2

from .conftest import DATA, RSS, data_file

URL = "https://forum.example.coop/c/jobs.rss"
FIXTURES = sorted(name for name in os.listdir(DATA) if name.endswith((".rss", ".atom")))
READ_FAST = {"discourse-jobs.rss", "html-scripts.rss"}  # the others: Atom, malformed, mis-encoded


def entries_of(feed, items, url=URL):
    base = feed.get("link") or url
    return [_rss_entry(item, base, _author(feed)) for item in items]


def both(body, content_type=RSS, url=URL):
    """(the fast reader's entries or None, feedparser's entries)."""
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        root = None
    fast = read_rss2(body, root, content_type, url) if root is not None else None
    return (entries_of(*fast, url) if fast is not None else None), entries_of(*_feedparser(body, content_type, url),
                                                                          url)


@pytest.mark.parametrize("name", FIXTURES)
def test_every_fixture_reads_the_same_either_way(name):
    body = data_file(name)
    if name == "truncated.rss":  # feedparser refuses it too: nothing to compare
        with pytest.raises(FeedFormatError):
            both(body)
        return
    fast, slow = both(body)
    assert (fast is not None) == (name in READ_FAST)
    assert slow
    if fast is not None:
        assert fast == slow


def feed(items, channel="<title>Jobs</title><link>https://forum.example.coop/c/jobs</link>",
         namespaces=' xmlns:dc="http://purl.org/dc/elements/1.1/" '
                    'xmlns:content="http://purl.org/rss/1.0/modules/content/"'):
    return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"{namespaces}><channel>{channel}'
            + "".join(f"<item>{item}</item>" for item in items) + "</channel></rss>").encode("utf-8")


SAME = {
    "relative link and a guid that is a link": [
        "<title>A</title><link>/t/a/1?x=1&amp;y=2</link><guid>/t/a/1</guid>",
        "<title>B</title><guid isPermaLink='true'>https://forum.example.coop/t/b/2</guid>",
        "<title>C</title><guid isPermaLink='false'>forum-topic-3</guid><link>t/c/3</link>",
    ],
    "markup and entities in titles and text": [
        ("<title>&lt;b&gt;Caf\u00e9&lt;/b&gt; &amp; co  </title><guid>g1</guid>"
         "<description>Plain text &amp; more\n\n second paragraph</description>"),
        ("<title><![CDATA[Budget < £5k & soon]]></title><guid>g2</guid>"
         "<description><![CDATA[<p>Hi <a href='/u/x'>x</a></p><script>x()</script>]]></description>"),
    ],
    "content, summary, dates, categories and authors": [
        ("<title>A</title><guid>g1</guid><content:encoded><![CDATA[<p>Only content</p>]]></content:encoded>"
         "<pubDate>Sat, 08 Mar 2025 09:30:00 +0100</pubDate><category>Jobs</category><category>Jobs</category>"
         "<category>Web</category><dc:creator>kat</dc:creator>"),
        ("<title>B</title><guid>g2</guid><description>Short</description>"
         "<content:encoded><![CDATA[<p>Long</p>]]></content:encoded><pubDate>Mon, 3 Mar 25 9:00 GMT</pubDate>"),
        ("<title>C</title><guid>g3</guid><content:encoded>Long</content:encoded><description>Short</description>"
         "<pubDate>not a date</pubDate><author>Riders Collective</author><comments>/t/c</comments>"),
        "<title></title><guid>g4</guid>",
        "<title>E</title><link>javascript:alert(1)</link>",
    ],
}


@pytest.mark.parametrize("case", sorted(SAME))
def test_plain_rss_reads_the_same_either_way(case):
    body = feed(SAME[case], channel="<title>Jobs</title><link>/c/jobs</link><managingEditor>Forum team"
                                    "</managingEditor><atom:link href='/c/jobs.rss' rel='self' "
                                    "xmlns:atom='http://www.w3.org/2005/Atom'/>")
    fast, slow = both(body)
    assert fast is not None
    assert fast == slow


ELSEWHERE = {
    "an author with an address": "<title>A</title><guid>g</guid><author>kat@example.coop (Kat)</author>",
    "an element it does not know": "<title>A</title><guid>g</guid><dc:date>2025-03-08</dc:date>",
    "markup inside an element": "<title>A <b>bold</b></title><guid>g</guid>",
    "a category with a domain": "<title>A</title><guid>g</guid><category domain='x'>Jobs</category>",
    "a title twice": "<title>A</title><title>B</title><guid>g</guid>",
    "an xml:base": "<title xml:base='https://elsewhere.example/'>A</title><guid>g</guid>",
}


@pytest.mark.parametrize("case", sorted(ELSEWHERE))
def test_what_it_does_not_know_goes_to_feedparser(case):
    body = feed([ELSEWHERE[case]])
    fast, slow = both(body)
    assert fast is None
    assert slow  # and feedparser reads it
    assert parse_rss(body, RSS, URL) == [e for e in slow if e is not None]


def test_another_charset_goes_to_feedparser():
    body = feed(["<title>A</title><guid>g</guid>"])
    assert both(body, "application/rss+xml; charset=iso-8859-1")[0] is None
    assert both(body, "application/rss+xml; charset=UTF-8")[0] is not None
    latin = feed(["<title>Caf\u00e9</title><guid>g</guid>"]).decode().replace("UTF-8", "ISO-8859-1").encode("latin-1")
    fast, slow = both(latin, "application/rss+xml")
    assert fast is None
    assert slow[0].title == "Caf\u00e9"
    assert both(b"\xef\xbb\xbf" + body, "application/rss+xml")[0] is not None  # a UTF-8 byte-order mark


def test_parse_rss_gives_the_fast_readers_entries():
    body = data_file("discourse-jobs.rss")
    fast, slow = both(body)
    assert parse_rss(body, RSS, URL) == fast == slow
