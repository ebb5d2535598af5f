"""OCDS release packages (UK Contracts Finder, Find a Tender) read into entries.

A package lists releases; several releases of one contracting process share an ``ocid`` and
the newest one wins. The ``tender`` block maps onto a job: title, description, value,
tenderPeriod (bids), enquiryPeriod (questions), CPV classifications (skills), delivery place.
"""
from __future__ import annotations

from typing import TYPE_CHECKING
import json
from datetime import datetime

from ..jobs.forms import MAX_BUDGET
from ..jobs.models import Currency
from ..skills.services import skills_of_cpv
from .entries import (Entries, Entry, FeedFormatError, clean_html, html_to_text, looks_like_html, parse_iso,
                      raw_digest, safe_link)
from .models import value_words

if TYPE_CHECKING:
    from collections.abc import Container
    from typing import Any

# Contracts Finder's OCIDs end with the notice's id, which makes its page address.
CONTRACTS_FINDER_PREFIX = "ocds-b5fd17-"
CONTRACTS_FINDER_NOTICE = "https://www.contractsfinder.service.gov.uk/Notice/"
CANCELLED = {"cancelled", "withdrawn", "unsuccessful"}
# Release tags (OCDS 1.1 codelist) of a contracting process past its tender: an award was made.
AWARD_TAGS = {"award", "awardUpdate", "contract", "contractUpdate", "contractAmendment", "implementation",
              "implementationUpdate", "contractTermination"}
PLANNING_TAGS = {"planning", "planningUpdate"}
NOTICE_TYPES = ("tenderNotice", "contractNotice", "plannedProcurementNotice")


def parse_ocds(body: bytes | bytearray, key: bytes | None = None, known: Container[str] = frozenset()) -> Entries:
    """The entries of an OCDS release package (or record package). Raises FeedFormatError.

    With ``key``, each entry carries its ``raw_hash`` (of its release), and releases whose hash
    is in ``known`` are left out and counted (``Entries.unchanged``)."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise FeedFormatError(f"The package is not valid JSON: {error}.")
    if not isinstance(data, dict):
        raise FeedFormatError("This is not an OCDS release package: it is not a JSON object.")
    if isinstance(data.get("releases"), list):
        releases = data["releases"]
    elif isinstance(data.get("records"), list):
        releases = [r.get("compiledRelease") for r in data["records"] if isinstance(r, dict)]
    else:
        raise FeedFormatError("This is not an OCDS release package: it has no releases.")
    newest: dict[str, dict[str, Any]] = {}
    dropped = 0
    for release in releases:
        if not isinstance(release, dict) or not isinstance(release.get("tender"), dict):
            dropped += 1  # no tender: nothing a job could be made of
            continue
        ocid = release.get("ocid")
        if not isinstance(ocid, str) or not ocid.strip():
            dropped += 1
            continue
        kept = newest.get(ocid)
        if kept is None or (parse_iso(release.get("date")) or _EPOCH) >= (parse_iso(kept.get("date")) or _EPOCH):
            newest[ocid] = release
    entries, unchanged = [], 0
    for release in newest.values():
        digest = None
        if key is not None:
            digest = raw_digest(key, json.dumps(release, sort_keys=True, ensure_ascii=False).encode())
            if digest in known:
                unchanged += 1
                continue
        entry = _entry(release)
        if entry is not None:
            entry.raw_hash = digest
        entries.append(entry)
    return Entries([e for e in entries if e is not None], dropped=dropped + entries.count(None), unchanged=unchanged)


_EPOCH = datetime(1970, 1, 1)


def _dict(value: object) -> dict[Any, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[Any]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _amount(value: object) -> tuple[int, str] | tuple[None, None]:
    value = _dict(value)
    amount: Any = value.get("amount", value.get("amountGross"))  # float() refuses what is no number
    try:
        return round(float(amount)), _text(value.get("currency")).upper() or "GBP"
    except (TypeError, ValueError):
        return None, None


def _budget(tender: dict[str, Any]) -> tuple[int | None, int | None, str | None, dict[str, Any] | None]:
    """(min, max, currency, value): the amounts a job's budget can hold (else None), and the
    value as published ({"min", "max", "currency"}, None when there is none)."""
    high, currency = _amount(tender.get("value"))
    low, low_currency = _amount(tender.get("minValue"))
    if high is None and low is None:
        return None, None, None, None
    currency = currency or low_currency
    low = low if low is not None else high
    high = high if high is not None else low
    assert low is not None and high is not None  # one was given, and stands in for the other
    if low > high:
        low, high = high, low
    value = {"min": low, "max": high, "currency": currency}
    if currency not in {c.value for c in Currency} or low < 0 or high > MAX_BUDGET:
        return None, None, None, value
    return low, high, currency, value


def _classifications(tender: dict[str, Any]) -> list[dict[str, Any]]:
    found = [_dict(tender.get("classification"))]
    for item in _list(tender.get("items")):
        found.append(_dict(item.get("classification")))
        found.extend(_list(item.get("additionalClassifications")))
    return [c for c in found if c.get("id") or c.get("description")]


def _location(tender: dict[str, Any]) -> str:
    addresses = _list(tender.get("deliveryAddresses"))
    for item in _list(tender.get("items")):
        addresses.extend(_list(item.get("deliveryAddresses")))
        addresses.append(_dict(item.get("deliveryLocation")))
    for address in addresses:
        for key in ("locality", "region", "description", "postalCode"):
            if _text(address.get(key)):
                return _text(address.get(key))[:120]
    return ""


def _link(release: dict[str, Any], tender: dict[str, Any]) -> str:
    """The notice's own page: a notice document, else one derived from the OCID (or none)."""
    documents = _list(tender.get("documents"))
    for wanted in NOTICE_TYPES:
        for document in documents:
            if document.get("documentType") == wanted and _text(document.get("url")):
                return _text(document["url"])
    for document in documents:
        if _text(document.get("url")):
            return _text(document["url"])
    ocid = release["ocid"].strip()
    if ocid.startswith(CONTRACTS_FINDER_PREFIX):
        return CONTRACTS_FINDER_NOTICE + ocid[len(CONTRACTS_FINDER_PREFIX):]
    return ""


def _buyer(release: dict[str, Any]) -> str:
    buyer = _text(_dict(release.get("buyer")).get("name"))
    if buyer:
        return buyer
    for party in _list(release.get("parties")):
        if "buyer" in (party.get("roles") or []):
            return _text(party.get("name"))
    return ""


def _entry(release: dict[str, Any]) -> Entry | None:
    tender = release["tender"]
    title = _text(tender.get("title")) or _text(release.get("title"))
    if not title:
        return None
    description = _text(tender.get("description"))
    html = clean_html(description) if looks_like_html(description) else ""
    text = html_to_text(html, sanitised=True) if html else description
    low, high, currency, value = _budget(tender)
    buyer = _buyer(release)
    facts = [f"Buyer: {buyer}." if buyer else "", f"Value: {value_words(value)}." if value else ""]
    classifications = _classifications(tender)
    slugs: list[str] = []
    classified = False
    for c in classifications:
        if _text(c.get("scheme")).upper() in ("CPV", "") and c.get("id"):
            classified = True
            slugs.extend(s for s in skills_of_cpv(c.get("id")) if s not in slugs)
    tag = release.get("tag")
    tags = tag if isinstance(tag, list) else []
    return Entry(
        guid=release["ocid"].strip()[:500],
        title=html_to_text(title),
        link=safe_link(_link(release, tender)),
        html=html,
        text=text,
        summary=" ".join(f for f in facts if f) + (" " if any(facts) else "") + html_to_text(text),
        published=(parse_iso(tender.get("datePublished")) or parse_iso(release.get("date"))
                   or parse_iso(_dict(tender.get("tenderPeriod")).get("startDate"))),
        questions_deadline=parse_iso(_dict(tender.get("enquiryPeriod")).get("endDate"), end_of_day=True),
        bids_deadline=parse_iso(_dict(tender.get("tenderPeriod")).get("endDate"), end_of_day=True),
        budget_min=low,
        budget_max=high,
        currency=currency,
        location=_location(tender),
        buyer=buyer[:300],
        value=value,
        keywords=" ".join(_text(c.get("description")) for c in classifications),
        skill_slugs=tuple(slugs),
        classified=classified,
        cancelled=_text(tender.get("status")).lower() in CANCELLED or "tenderCancellation" in tags,
        notice=_notice(tags, _text(tender.get("status")).lower()),
    )


def _notice(tags: list[Any], status: str) -> str:
    """What the release announces. Contracts Finder's award releases keep a tender block (with
    its old tenderPeriod, and often status "planned"): the tag says what happened."""
    if set(tags) & AWARD_TAGS or status == "complete":
        return "award"
    if status in ("planning", "planned") or (tags and set(tags) <= PLANNING_TAGS):
        return "planning"
    return "tender"
