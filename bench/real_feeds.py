"""Feeds of real size and shape for the import benchmark, made from the real samples in
tests/feeds/data (see SOURCES.md there).

- OCDS: the tender releases of two real 100-release Contracts Finder pages, repeated until there
  are ``entries``, each copy with its own ocid and title and its dates moved so that it is open
  for bids now; written with the same indentation as the real answer (about 5 MB a thousand).
- RSS: a Discourse category feed (the item shape of discourse-jobs.rss: dc:creator, category,
  the footer, discourse:* elements), whose posts carry the real tenders' titles and descriptions
  as paragraphs, since a forum post about a tender is about as long as the tender's text.

``changed`` edits the title of the first entries, as a source's amendments do.
"""
import copy
import json
import os
from datetime import timedelta, timezone
from email.utils import format_datetime
from xml.sax.saxutils import escape

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(os.path.dirname(HERE), "tests", "feeds", "data")
PAGES = ("contracts-finder-2022-10-20.json", "contracts-finder-2022-10-22.json")


def _pages():
    packages = []
    for name in PAGES:
        with open(os.path.join(DATA, name), encoding="utf-8") as handle:
            packages.append(json.load(handle))
    return packages


def real_tenders():
    """The releases of the real pages that announce a tender open for bids."""
    return [r for package in _pages() for r in package["releases"]
            if r.get("tender", {}).get("status") == "active" and set(r.get("tag", ())) & {"tender", "tenderAmendment"}]


def _iso(moment):
    return moment.replace(microsecond=0).isoformat() + "Z"


def ocds_package(entries, now, changed=0):
    package = _pages()[0]
    tenders = real_tenders()
    releases = []
    for n in range(entries):
        release = copy.deepcopy(tenders[n % len(tenders)])
        release["ocid"] = f"ocds-b5fd17-bench-{n:06d}"
        release["id"] = f"bench-{n:06d}-1"
        release["date"] = _iso(now - timedelta(minutes=11 * n + 5))
        tender = release["tender"]
        tender["title"] = f"{tender.get('title', 'Tender')} ({n})" + (" (amended)" if n < changed else "")
        tender["datePublished"] = release["date"]
        tender["tenderPeriod"] = {"startDate": release["date"], "endDate": _iso(now + timedelta(days=20 + n % 40))}
        if "enquiryPeriod" in tender:
            tender["enquiryPeriod"]["endDate"] = _iso(now + timedelta(days=15 + n % 40))
        releases.append(release)
    package["releases"] = releases
    package.pop("links", None)
    return json.dumps(package, indent=4, ensure_ascii=False).encode("utf-8")


def _paragraphs(text):
    return "".join(f"<p>{escape(part.strip())}</p>\n" for part in text.split("\n") if part.strip())


def discourse_rss(entries, now, changed=0):
    tenders = real_tenders()
    items = []
    for n in range(entries):
        tender = tenders[n % len(tenders)]["tender"]
        title = f"{tender.get('title', 'Tender')} ({n})" + (" (updated)" if n < changed else "")
        url = f"https://community.bench.example/t/topic-{n}/{n}"
        body = (_paragraphs(tender.get("description", "")) +
                f"<p><small>{2 + n % 5} posts - {1 + n % 4} participants</small></p>\n"
                f'<p><a href="{url}">Read full topic</a></p>')
        published = now - timedelta(minutes=17 * n + 5)
        items.append(
            f"<item><title>{escape(title)}</title><dc:creator><![CDATA[member_{n % 97}]]></dc:creator>"
            f"<category>Jobs</category><description><![CDATA[\n{body}\n]]></description><link>{url}</link>"
            f"<pubDate>{format_datetime(published.replace(tzinfo=timezone.utc))}</pubDate>"
            "<discourse:topicPinned>No</discourse:topicPinned><discourse:topicClosed>No</discourse:topicClosed>"
            "<discourse:topicArchived>No</discourse:topicArchived>"
            f'<guid isPermaLink="false">community.bench.example-topic-{n}</guid>'
            f'<source url="{url}.rss">{escape(title)}</source></item>\n'
        )
    return ('<?xml version="1.0" encoding="UTF-8" ?>\n<rss version="2.0" xmlns:discourse="http://www.discourse.org/" '
            'xmlns:atom="http://www.w3.org/2005/Atom" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
            "<title>Latest Jobs topics - Bench Community</title><link>https://community.bench.example/c/jobs/9</link>"
            "<description>Topics in the Jobs category</description>\n" + "".join(items)
            + "</channel></rss>").encode("utf-8")
