"""Jobs as Open Contracting Data Standard (OCDS) 1.1 releases, and release packages.

Plain functions over what the caller was allowed to see: whoever calls ``release`` has
checked that the viewer may see the job, and passes its awarded bid only when the viewer may
see the outcome (``disclosed_awards``, ``federation.can_see_outcome``). Who won, and for how
much, is then told to the same people as on the job's page (the members of the job's
audience; everyone when the poster published the outcome); everyone else learns that the job
was awarded, and when, but not to whom. Other bids never appear. An award is "pending" during
its standstill period (``AWARD_STANDSTILL_DAYS``) and "active" once final.

Choices the standard leaves open:

- ``ocid`` is the configured prefix (``OCDS_OCID_PREFIX``) and the job's id; a release's
  ``id`` adds its tag and the time of its last change, so each revision has its own id.
- ``tender.value`` is the upper end of a fixed-price budget and ``tender.minValue`` its lower
  end; a job from a co-op's own feed has the value its feed published, or none. A day rate is
  not the value of the whole work (the number of days is not known), so a day-rate job has no
  ``tender.value``: the rate goes in its item's ``unit.value`` (per day).
- The job is one item (what is bought is one piece of work), classified by its skills:
  the first as ``classification``, the rest as ``additionalClassifications``, in the scheme
  ``x_cotech_skill`` with the skill's slug as id ("x_": a scheme of our own).
- Co-ops are parties identified in the scheme ``x_cotech_coop`` by their slug.
- A consortium's award names every co-op of its team as a supplier, and its bid (the bids
  extension's ``bids.details``) names every one as a tenderer, the lead first.
"""
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from ..bids.models import Bid, BidStatus
from ..bids.services import bidder_coops
from ..consortia.models import Consortium, ConsortiumMember
from ..coops.models import Coop
from ..core.time import utcnow
from ..extensions import db
from ..federation import Viewer, can_see_outcome
from ..federation.models import Visibility
from ..feeds.models import ImportedEntry
from ..jobs.models import BudgetType, Job, JobState, JobStatus
from ..skills.models import Skill
from .serializers import iso

Data = dict[str, Any]  # OCDS JSON

VERSION = "1.1"
BIDS_EXTENSION = ("https://raw.githubusercontent.com/open-contracting-extensions/"
                  "ocds_bid_extension/v1.1.5/extension.json")
SKILL_SCHEME = "x_cotech_skill"
COOP_SCHEME = "x_cotech_coop"

# The tender status codelist for each state a published job can be in. (A draft has none:
# it is not published, so it has no release.)
TENDER_STATUS = {
    JobState.OPEN: "active",  # bids are being received
    JobState.CLOSED: "active",  # bids closed and are being decided on: the process goes on
    JobState.AWARDED: "complete",  # a bid won: the tender process is over
    # Bids closed and the poster awarded nothing (with a reason): the process failed.
    JobState.CANCELLED: "unsuccessful",
    # The poster pulled the job while bids were open. Not OCDS "withdrawn", which retracts
    # the information itself (e.g. published in error): this job's information stands.
    JobState.WITHDRAWN: "cancelled",
}


def is_published(job: Job) -> bool:
    """Only published jobs have releases: a draft is answered 404, even to its own co-op."""
    return job.status != JobStatus.DRAFT


def ocid(job: Job, prefix: str) -> str:
    return f"{prefix}{job.id}"


def disclosed_awards(jobs: Sequence[Job], viewer: Viewer) -> dict[int, Bid]:
    """{job id: awarded bid} for the awarded jobs among ``jobs`` whose outcome ``viewer`` may
    see (``federation.can_see_outcome``), in a fixed number of statements however many."""
    ids = [job.id for job in jobs if can_see_outcome(viewer, job)]
    if not ids:
        return {}
    awarded = db.session.scalars(
        select(Bid).where(Bid.job_id.in_(ids), Bid.status == BidStatus.AWARDED.value).options(
            joinedload(Bid.coop),
            selectinload(Bid.consortium).selectinload(Consortium.members).joinedload(ConsortiumMember.coop),
        )
    ).all()
    return {bid.job_id: bid for bid in awarded}


# --- pieces -----------------------------------------------------------------------------------

def _date(day: date | None) -> str | None:
    """A date as the start of that day, UTC (OCDS periods hold date-times)."""
    return None if day is None else f"{day.isoformat()}T00:00:00Z"


def _money(amount: int | None, job: Job) -> Data:
    return {"amount": amount, "currency": job.currency}


def _coop_ref(coop: Coop) -> Data:
    return {"id": f"{COOP_SCHEME}-{coop.slug}", "name": coop.name}


def _party(coop: Coop, roles: list[str]) -> Data:
    party = {**_coop_ref(coop), "identifier": {"scheme": COOP_SCHEME, "id": coop.slug}, "roles": roles}
    if coop.website:
        party["contactPoint"] = {"name": coop.name, "url": coop.website}
    return party


def _classification(skill: Skill) -> Data:
    return {"scheme": SKILL_SCHEME, "id": skill.slug, "description": skill.name}


def _item(job: Job) -> Data:
    item: Data = {"id": "1", "description": job.summary}
    skills = list(job.skills)
    if skills:
        item["classification"] = _classification(skills[0])
    if len(skills) > 1:
        item["additionalClassifications"] = [_classification(s) for s in skills[1:]]
    if job.budget_type == BudgetType.DAY_RATE:
        item["unit"] = {"scheme": "UNCEFACT", "id": "DAY", "name": "Day",
                        "value": _money(_upper(job), job)}
    return item


def _upper(job: Job) -> int:
    return job.budget_max if job.budget_max is not None else job.budget_min


def _value(value: Data) -> Data:
    """A value as a feed published it ({"min", "max", "currency"}): OCDS value and minValue."""
    found: Data = {"value": {"amount": value["max"], "currency": value["currency"]}}
    if value["min"] != value["max"]:
        found["minValue"] = {"amount": value["min"], "currency": value["currency"]}
    return found


def _tender(job: Job, imported: ImportedEntry | None = None) -> Data:
    tender: Data = {
        "id": str(job.id),
        "title": job.title,
        "description": "\n\n".join(text for text in (job.summary, job.description) if text),
        "status": TENDER_STATUS[job.state],
        "procuringEntity": _coop_ref(job.coop),
        "items": [_item(job)],
        "mainProcurementCategory": "services",
        # Anyone may bid on a public job; only members of the audience's networks otherwise.
        "procurementMethod": "open" if job.visibility == Visibility.PUBLIC else "selective",
        "procurementMethodDetails": f"Visibility: {job.visibility_label}",
        "submissionMethod": ["electronicSubmission"],
        "tenderPeriod": {"startDate": iso(job.published_at), "endDate": iso(job.bids_deadline)},
        "enquiryPeriod": {"startDate": iso(job.published_at), "endDate": iso(job.questions_deadline)},
    }
    if imported is not None:
        # The value as the source published it, none when it did not say: never the 0 that
        # stands for "not stated" in the job's budget.
        tender.update(_value(imported.value) if imported.value else {})
    elif job.budget_type == BudgetType.FIXED:
        tender["value"] = _money(_upper(job), job)
        if job.budget_max is not None and job.budget_max != job.budget_min:
            tender["minValue"] = _money(job.budget_min, job)
    if job.start_date is not None:
        tender["contractPeriod"] = {"startDate": _date(job.start_date)}
    if job.awarded_at is not None:
        # When the job was awarded is public (its page says so); to whom is not.
        tender["awardPeriod"] = {"startDate": iso(job.bids_deadline), "endDate": iso(job.awarded_at)}
    return tender


def _award(job: Job, bid: Bid, suppliers: list[Data]) -> Data:
    return {
        "id": str(bid.id),
        "description": f"Awarded to {bid.bidder_name}",
        # Intended during its standstill period ("pending"), made and in force once final.
        "status": "pending" if job.award_intended else "active",
        "date": iso(bid.decided_at),
        "value": _money(bid.agreed_value, job),
        "suppliers": suppliers,
        "contractPeriod": {"startDate": _date(bid.agreed_start)},
        "relatedBid": str(bid.id),  # the bids extension (v1.1.5)
    }


# --- releases and packages --------------------------------------------------------------------

def release(job: Job, prefix: str, award: Bid | None = None, imported: ImportedEntry | None = None) -> Data:
    """The OCDS release of a published ``job`` as it stands now. ``award``: its awarded bid,
    only if the viewer may see it (``disclosed_awards``); ``imported``: the ImportedEntry of a
    job from a co-op's own feed (other imported jobs are not ours to publish)."""
    if not is_published(job):
        raise ValueError("a draft is not published: it has no release")
    changed = max(job.updated_at, award.updated_at) if award is not None else job.updated_at
    state = job.state
    if award is not None:
        tag = ["tender", "award"]
    elif state in (JobState.WITHDRAWN, JobState.CANCELLED):
        tag = ["tenderCancellation"]
    else:
        tag = ["tender"]
    buyer = _coop_ref(job.coop)
    data: Data = {
        "ocid": ocid(job, prefix),
        "id": f"{ocid(job, prefix)}-{tag[-1]}-{changed:%Y%m%dT%H%M%SZ}",
        "date": iso(changed),
        "tag": tag,
        "initiationType": "tender",
        "parties": [_party(job.coop, ["buyer", "procuringEntity"])],
        "buyer": buyer,
        "tender": _tender(job, imported),
    }
    if award is not None:
        coops = bidder_coops(award)
        refs = [_coop_ref(c) for c in coops]
        data["parties"] += [_party(c, ["tenderer", "supplier"]) for c in coops]
        data["awards"] = [_award(job, award, refs)]
        data["bids"] = {"details": [{"id": str(award.id), "date": iso(award.submitted_at),
                                     "status": "valid", "tenderers": refs}]}
    return data


def release_package(releases: list[Data], uri: str, publisher: dict[str, str],
                    links: dict[str, str] | None = None) -> Data:
    """A release package of ``releases``. ``publisher``: {"name", "uri"}; ``links``: paging
    ({"next", "prev"}), if any."""
    package: Data = {
        "uri": uri,
        "version": VERSION,
        # Generated on demand: the date of the latest change it contains.
        "publishedDate": max((r["date"] for r in releases), default=None) or iso(utcnow()),
        "publisher": publisher,
        "releases": releases,
    }
    if any("bids" in r for r in releases):
        package["extensions"] = [BIDS_EXTENSION]
    if links:
        package["links"] = links
    return package
