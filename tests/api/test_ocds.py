"""OCDS 1.1 export: a job as a release package, and the paged package of public jobs.

Every package the API answers is validated against the OCDS 1.1 release package schema (and,
through its $ref, the release schema), copied into tests/api/ocds-1.1 with their licence: no
network needed. The mapped fields are checked value by value, and the export follows the
visibility rule: who won is told only to those who may see the awarded bid."""
import json
from datetime import timedelta
from pathlib import Path

import pytest
from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from marketplace.bids import services as bid_services
from marketplace.bids.models import Bid, BidStatus
from marketplace.bids.services import BidValues
from marketplace.config import from_environment
from marketplace.consortia import services as consortium_services
from marketplace.consortia.models import Consortium, ConsortiumMember
from marketplace.core.time import frozen_now, utcnow
from marketplace.extensions import db
from marketplace.jobs import services as job_services

from ..factories import bearer, make_coop, make_job, make_user
from ..factories import counted_statements
from ..matrix import SEES, as_viewer, expected, world  # noqa: F401

SCHEMA_DIR = Path(__file__).parent / "ocds-1.1"
RELEASE_SCHEMA = json.loads((SCHEMA_DIR / "release-schema.json").read_text())
PACKAGE_SCHEMA = json.loads((SCHEMA_DIR / "release-package-schema.json").read_text())
# The package schema refers to the release schema by its published URL: resolve it locally.
REGISTRY = Registry().with_resource(
    RELEASE_SCHEMA["id"], Resource.from_contents(RELEASE_SCHEMA, default_specification=DRAFT4))
PACKAGE_VALIDATOR = Draft4Validator(PACKAGE_SCHEMA, registry=REGISTRY,
                                    format_checker=Draft4Validator.FORMAT_CHECKER)
BIDS_EXTENSION = ("https://raw.githubusercontent.com/open-contracting-extensions/"
                  "ocds_bid_extension/v1.1.5/extension.json")
PREFIX = "ocds-cotech-"


def z(moment):
    """A naive UTC datetime as OCDS writes it."""
    return moment.isoformat() + "Z"


def valid_package(response):
    """The response's release package, once it is a 200 and valid OCDS 1.1."""
    assert response.status_code == 200, response.get_data(as_text=True)
    package = response.get_json()
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in PACKAGE_VALIDATOR.iter_errors(package)]
    assert not errors, errors
    return package


def the_release(response):
    package = valid_package(response)
    assert len(package["releases"]) == 1
    return package["releases"][0]


def party(release, name):
    return next(p for p in release["parties"] if p["name"] == name)


# --- a small world: a poster co-op, three co-ops that bid ---------------------------------------

@pytest.fixture
def poster_coop(networks):
    return make_coop("Poster Co-op", {networks["cotech"]: "active"}, website="https://poster.example.coop")


@pytest.fixture
def poster(poster_coop):
    return make_user("Pat Poster", coops={poster_coop: "admin"})


@pytest.fixture
def coops(networks):
    return {k: make_coop(f"{k.capitalize()} Co-op", {networks["cotech"]: "active"})
            for k in ("alpha", "beta", "gamma", "delta")}


@pytest.fixture
def users(coops):
    return {k: make_user(f"{k.capitalize()} Person", coops=[c]) for k, c in coops.items()}


def open_job(coop, poster, skills=(), **fields):
    return make_job(coop, fields.pop("visibility", "public"), "open", skills=skills, user=poster, **fields)


def submit_bid(job, coop, user, amount=9000, consortium=None):
    values = BidValues(amount=amount, available_from=utcnow().date() + timedelta(days=30),
                       proposal=f"SECRET PLAN of {coop.name}")
    if consortium is not None:
        bid = consortium_services.save_consortium_bid(consortium, job, user, values, submit=True)
    else:
        bid = bid_services.save_bid(job, coop, user, values, submit=True)
    db.session.commit()
    return bid


def award(job, bid, poster, value=8500, publish=False):
    with frozen_now(job.bids_deadline + timedelta(minutes=1)):
        bid_services.award_bid(bid, poster, value, (job.bids_deadline + timedelta(days=10)).date(),
                               publish_outcome=publish)
        db.session.commit()


def consortium_of_three(job, coops, users):
    """Alpha leads, Beta and Gamma accept, and all three accept the split."""
    lead_user = users["alpha"]
    consortium = consortium_services.create_consortium(
        lead_user, coops["alpha"], "Alpha and friends", role="Project management", job=job)
    invited = {k: consortium_services.invite(consortium, lead_user, coops[k], role)
               for k, role in (("beta", "Development"), ("gamma", "Design"))}
    for key, member in invited.items():
        consortium_services.accept(consortium, member, users[key])
    lead = consortium.member_for(coops["alpha"].id)
    consortium_services.save_split(consortium, lead_user, {
        lead.id: ("Project management", 50, 40), invited["beta"].id: ("Development", 30, 30),
        invited["gamma"].id: ("Design", 20, 30)})
    for key, member in invited.items():  # the changed split
        consortium_services.accept(consortium, member, users[key])
    db.session.commit()
    return consortium


# --- the schemas themselves ---------------------------------------------------------------------

def test_the_schemas_are_checked_offline_with_date_times():
    assert PACKAGE_SCHEMA["properties"]["releases"]["items"]["$ref"] == RELEASE_SCHEMA["id"]
    assert "date-time" in Draft4Validator.FORMAT_CHECKER.checkers  # rfc3339-validator is installed
    assert (SCHEMA_DIR / "LICENSE").read_text().count("Apache License") >= 1
    broken = {"uri": "http://marketplace.test/x", "version": "1.1", "publishedDate": "yesterday",
              "publisher": {"name": "x"}, "releases": [{"ocid": "x", "id": "1", "date": "2026-01-01T00:00:00Z",
                                                        "tag": ["tender"], "initiationType": "tender",
                                                        "tender": {"status": "open"}}]}
    messages = " ".join(e.message for e in PACKAGE_VALIDATOR.iter_errors(broken))
    assert "'yesterday' is not a 'date-time'" in messages
    assert "'open' is not one of" in messages  # the tender status codelist, through the $ref
    assert "'id' is a required property" in messages


def test_the_ocid_prefix_is_a_setting(monkeypatch, tmp_path):
    monkeypatch.delenv("OCDS_OCID_PREFIX", raising=False)
    assert from_environment(str(tmp_path))["OCDS_OCID_PREFIX"] == PREFIX
    monkeypatch.setenv("OCDS_OCID_PREFIX", "ocds-a1b2c3-")
    assert from_environment(str(tmp_path))["OCDS_OCID_PREFIX"] == "ocds-a1b2c3-"


# --- one job, field by field --------------------------------------------------------------------

def test_open_job(app, client, poster_coop, poster, skills):
    job = open_job(poster_coop, poster, skills=[skills["web-design"], skills["python"]],
                   summary="A new website.", description="With **care**.", budget_min=1000, budget_max=5000)
    response = client.get(f"/api/v1/jobs/{job.id}/ocds")
    package = valid_package(response)
    assert package["uri"] == f"http://marketplace.test/api/v1/jobs/{job.id}/ocds"
    assert package["version"] == "1.1"
    assert package["publisher"] == {"name": app.config["SITE_NAME"], "uri": app.config["SITE_URL"]}
    assert "extensions" not in package and "links" not in package
    [release] = package["releases"]
    assert package["publishedDate"] == release["date"] == z(job.updated_at)
    assert release["ocid"] == f"{PREFIX}{job.id}"
    assert release["id"] == f"{PREFIX}{job.id}-tender-{job.updated_at:%Y%m%dT%H%M%SZ}"
    assert release["tag"] == ["tender"] and release["initiationType"] == "tender"
    buyer = {"id": "x_cotech_coop-poster-co-op", "name": "Poster Co-op"}
    assert release["buyer"] == buyer
    assert release["parties"] == [{
        **buyer, "roles": ["buyer", "procuringEntity"],
        "identifier": {"scheme": "x_cotech_coop", "id": "poster-co-op"},
        "contactPoint": {"name": "Poster Co-op", "url": "https://poster.example.coop"},
    }]
    tender = release["tender"]
    assert tender["id"] == str(job.id) and tender["title"] == job.title
    assert tender["description"] == "A new website.\n\nWith **care**."
    assert tender["status"] == "active"
    assert tender["procuringEntity"] == buyer
    assert tender["value"] == {"amount": 5000, "currency": "GBP"}
    assert tender["minValue"] == {"amount": 1000, "currency": "GBP"}
    assert tender["tenderPeriod"] == {"startDate": z(job.published_at), "endDate": z(job.bids_deadline)}
    assert tender["enquiryPeriod"] == {"startDate": z(job.published_at), "endDate": z(job.questions_deadline)}
    assert tender["procurementMethod"] == "open" and tender["mainProcurementCategory"] == "services"
    assert tender["items"] == [{
        "id": "1", "description": "A new website.",
        "classification": {"scheme": "x_cotech_skill", "id": "python", "description": "Python"},
        "additionalClassifications": [{"scheme": "x_cotech_skill", "id": "web-design", "description": "Web design"}],
    }]
    assert "awards" not in release and "bids" not in release and "awardPeriod" not in tender


def test_the_ocid_prefix_comes_from_the_config(app, client, poster_coop, poster, monkeypatch):
    job = open_job(poster_coop, poster)
    monkeypatch.setitem(app.config, "OCDS_OCID_PREFIX", "ocds-a1b2c3-")
    release = the_release(client.get(f"/api/v1/jobs/{job.id}/ocds"))
    assert release["ocid"] == f"ocds-a1b2c3-{job.id}" and release["id"].startswith(f"ocds-a1b2c3-{job.id}-")


def test_closed_day_rate_job_members_only(client, poster_coop, poster, skills):
    """A day rate is not the value of the work: no tender.value; the rate is the item's unit
    price. A members-only job is a selective procedure. One fixed budget: no minValue."""
    job = make_job(poster_coop, "cotech", "closed", skills=[skills["devops"]], budget_type="day_rate",
                   budget_min=400, budget_max=600, currency="EUR")
    fixed = make_job(poster_coop, "cotech", "closed", budget_min=2500, budget_max=None)
    headers = bearer(poster)
    tender = the_release(client.get(f"/api/v1/jobs/{job.id}/ocds", headers=headers))["tender"]
    assert tender["status"] == "active"
    assert "value" not in tender and "minValue" not in tender
    assert tender["items"][0]["unit"] == {"scheme": "UNCEFACT", "id": "DAY", "name": "Day",
                                          "value": {"amount": 600, "currency": "EUR"}}
    assert tender["procurementMethod"] == "selective"
    assert tender["procurementMethodDetails"] == "Visibility: CoTech only"
    tender = the_release(client.get(f"/api/v1/jobs/{fixed.id}/ocds", headers=headers))["tender"]
    assert tender["value"] == {"amount": 2500, "currency": "GBP"} and "minValue" not in tender
    assert "classification" not in tender["items"][0]  # no skills


def test_withdrawn_job(client, poster_coop, poster):
    job = open_job(poster_coop, poster)
    job_services.withdraw_job(job, poster, "The client changed its mind.")
    db.session.commit()
    release = the_release(client.get(f"/api/v1/jobs/{job.id}/ocds"))
    assert release["tender"]["status"] == "cancelled"
    assert release["tag"] == ["tenderCancellation"]
    assert release["date"] == z(job.updated_at)


def test_cancelled_job(client, poster_coop, poster):
    job = make_job(poster_coop, "public", "closed", user=poster)
    job_services.cancel_job(job, poster, "No bid fitted the budget.")
    db.session.commit()
    release = the_release(client.get(f"/api/v1/jobs/{job.id}/ocds"))
    assert release["tender"]["status"] == "unsuccessful"
    assert release["tag"] == ["tenderCancellation"]
    assert "awards" not in release


def test_awarded_to_one_coop(app, client, poster_coop, poster, coops, users):
    job = open_job(poster_coop, poster, start_date=utcnow().date() + timedelta(days=40))
    winner = submit_bid(job, coops["alpha"], users["alpha"], amount=9000)
    loser = submit_bid(job, coops["beta"], users["beta"], amount=7000)
    award(job, winner, poster, value=8500)
    db.session.refresh(winner)
    package = valid_package(client.get(f"/api/v1/jobs/{job.id}/ocds", headers=bearer(poster)))
    assert package["extensions"] == [BIDS_EXTENSION]
    [release] = package["releases"]
    assert release["tag"] == ["tender", "award"]
    assert release["id"].startswith(f"{PREFIX}{job.id}-award-")
    assert release["date"] == z(max(job.updated_at, winner.updated_at))
    tender = release["tender"]
    assert tender["status"] == "complete"
    assert tender["awardPeriod"] == {"startDate": z(job.bids_deadline), "endDate": z(job.awarded_at)}
    assert tender["contractPeriod"] == {"startDate": f"{job.start_date.isoformat()}T00:00:00Z"}
    alpha = {"id": "x_cotech_coop-alpha-co-op", "name": "Alpha Co-op"}
    assert release["awards"] == [{
        "id": str(winner.id), "description": "Awarded to Alpha Co-op", "status": "active",
        "date": z(winner.decided_at), "value": {"amount": 8500, "currency": "GBP"}, "suppliers": [alpha],
        "contractPeriod": {"startDate": f"{winner.agreed_start.isoformat()}T00:00:00Z"},
        "relatedBid": str(winner.id),
    }]
    assert release["bids"] == {"details": [{"id": str(winner.id), "date": z(winner.submitted_at),
                                            "status": "valid", "tenderers": [alpha]}]}
    assert [p["name"] for p in release["parties"]] == ["Poster Co-op", "Alpha Co-op"]
    assert party(release, "Alpha Co-op")["roles"] == ["tenderer", "supplier"]
    # Only the awarded bid: nothing of the unsuccessful one, nor of any bid's contents.
    body = json.dumps(package)
    assert "Beta Co-op" not in body and str(loser.id) not in {b["id"] for b in release["bids"]["details"]}
    assert "SECRET PLAN" not in body and "9000" not in body and "7000" not in body


def test_awarded_to_a_consortium_lists_every_member(client, poster_coop, poster, coops, users):
    job = open_job(poster_coop, poster, looking_for_partners=True)
    consortium = consortium_of_three(job, coops, users)
    bid = submit_bid(job, coops["alpha"], users["alpha"], amount=12000, consortium=consortium)
    award(job, bid, poster, value=11000)
    release = the_release(client.get(f"/api/v1/jobs/{job.id}/ocds", headers=bearer(poster)))
    team = [{"id": f"x_cotech_coop-{k}-co-op", "name": f"{k.capitalize()} Co-op"} for k in ("alpha", "beta", "gamma")]
    [details] = release["bids"]["details"]
    assert details["tenderers"] == team  # the lead first, then the members
    [awarded] = release["awards"]
    assert awarded["suppliers"] == team
    assert awarded["value"] == {"amount": 11000, "currency": "GBP"}
    assert awarded["description"] == "Awarded to Alpha and friends (consortium led by Alpha Co-op)"
    for member in team:
        assert party(release, member["name"])["roles"] == ["tenderer", "supplier"]
    # The consortium's private split is not published.
    body = json.dumps(release)
    assert "Development" not in body and "share" not in body and "SECRET PLAN" not in body


@pytest.mark.parametrize("published", [False, True])
def test_who_won_is_told_to_the_audience_or_to_everyone_when_published(client, poster_coop, poster, coops, users,
                                                                       published):
    """As on the job page: the members of the job's audience (the poster, the winning co-ops,
    an unsuccessful bidder: co-ops with a network membership) see the award; a co-op with no
    membership and an anonymous caller see that the job is complete, and when it was awarded,
    but not to whom, unless the poster published the outcome."""
    job = open_job(poster_coop, poster)
    consortium = consortium_of_three(job, coops, users)
    bid = submit_bid(job, coops["alpha"], users["alpha"], consortium=consortium)
    submit_bid(job, coops["delta"], users["delta"], amount=5000)
    award(job, bid, poster, publish=published)
    outsider = make_user("Outsider", coops=[make_coop("Outside Co-op")])
    viewers = {"poster": bearer(poster), "lead": bearer(users["alpha"]), "member": bearer(users["gamma"]),
               "unsuccessful": bearer(users["delta"]), "outsider": bearer(outsider), "anonymous": {}}
    for name, headers in viewers.items():
        release = the_release(client.get(f"/api/v1/jobs/{job.id}/ocds", headers=headers))
        told = published or name not in ("outsider", "anonymous")
        assert ("awards" in release) == told, name
        assert ("bids" in release) == told, name
        assert [p["name"] for p in release["parties"]][1:] == (
            ["Alpha Co-op", "Beta Co-op", "Gamma Co-op"] if told else []), name
        assert release["tag"] == (["tender", "award"] if told else ["tender"]), name
        assert release["tender"]["status"] == "complete"
        assert release["tender"]["awardPeriod"]["endDate"] == z(job.awarded_at)
        if not told:
            assert "Alpha" not in json.dumps(release) and "Delta" not in json.dumps(release)
        assert "Delta" not in json.dumps(release), name  # never the unsuccessful bid
        # The same in the package of public jobs.
        listed = valid_package(client.get("/api/v1/ocds/releases", headers=headers))["releases"]
        assert listed == [release], name


def test_an_award_is_pending_during_its_standstill_then_active(app, monkeypatch, client, poster_coop, poster,
                                                                coops, users):
    monkeypatch.setitem(app.config, "AWARD_STANDSTILL_DAYS", 10)
    job = open_job(poster_coop, poster)
    bid = submit_bid(job, coops["alpha"], users["alpha"])
    award(job, bid, poster)
    for moment, status in ((job.awarded_at + timedelta(days=9), "pending"),
                           (job.awarded_at + timedelta(days=10), "active")):
        with frozen_now(moment):
            [awarded] = the_release(client.get(f"/api/v1/jobs/{job.id}/ocds", headers=bearer(poster)))["awards"]
            assert awarded["status"] == status
            assert awarded["date"] == z(job.awarded_at) and awarded["value"] == {"amount": 8500, "currency": "GBP"}
            assert awarded["suppliers"] == [{"id": "x_cotech_coop-alpha-co-op", "name": "Alpha Co-op"}]


# --- 404s ---------------------------------------------------------------------------------------

def test_unknown_hidden_and_draft_jobs_answer_the_same_404(client, poster_coop, poster):
    hidden = make_job(poster_coop, "cotech", "open")
    draft = make_job(poster_coop, "public", "draft")
    headers = bearer(poster)  # the draft's own co-op: it sees the draft, but a draft is not published
    assert client.get(f"/api/v1/jobs/{draft.id}", headers=headers).status_code == 200
    answers = [client.get(f"/api/v1/jobs/{hidden.id + draft.id + 1000}/ocds"),
               client.get(f"/api/v1/jobs/{hidden.id}/ocds"),
               client.get(f"/api/v1/jobs/{draft.id}/ocds", headers=headers),
               client.get(f"/api/v1/jobs/{2**63}/ocds")]  # past any database id
    assert [r.status_code for r in answers] == [404, 404, 404, 404]
    bodies = [r.get_json() for r in answers]
    assert bodies[0]["error"]["code"] == "not_found"
    assert all(body == bodies[0] for body in bodies)


# --- the visibility matrix ----------------------------------------------------------------------

@pytest.mark.parametrize("kind", sorted(SEES))
def test_ocds_follows_the_visibility_rule(client, world, kind):  # noqa: F811
    """A job's release: exactly to those who may see the job (drafts: to nobody). The package:
    the public published jobs, the same for every caller."""
    as_viewer(client, world, kind)
    for (visibility, state), job in world["jobs"].items():
        should = expected(kind, visibility, state) and state != "draft"
        response = client.get(f"/api/v1/jobs/{job.id}/ocds")
        assert response.status_code == (200 if should else 404), (kind, visibility, state)
        if should:
            assert the_release(response)["tender"]["title"] == job.title
        else:
            assert response.get_json()["error"]["code"] == "not_found"
    package = valid_package(client.get("/api/v1/ocds/releases?per_page=100"))
    public = {f"{PREFIX}{job.id}" for (v, s), job in world["jobs"].items() if v == "public" and s != "draft"}
    assert {r["ocid"] for r in package["releases"]} == public
    assert len(package["releases"]) == len(public) == 3


# --- the package of public jobs -----------------------------------------------------------------

def test_package_pages_with_links(client, poster_coop, poster):
    jobs = [open_job(poster_coop, poster) for _ in range(5)]
    make_job(poster_coop, "cotech", "open")
    make_job(poster_coop, "public", "draft")
    base = "http://marketplace.test/api/v1/ocds/releases"
    seen, url, pages = [], f"{base}?per_page=2", 0
    while url:
        package = valid_package(client.get(url))
        pages += 1
        assert package["uri"] == f"{base}?page={pages}&per_page=2"
        assert package["links"].get("prev") == (f"{base}?page={pages - 1}&per_page=2" if pages > 1 else None)
        seen += [r["ocid"] for r in package["releases"]]
        url = package["links"].get("next")
    assert pages == 3
    newest_first = sorted(jobs, key=lambda j: (j.published_at, j.id), reverse=True)
    assert seen == [f"{PREFIX}{j.id}" for j in newest_first]


def test_package_parameters_are_checked(client):
    for query in ("per_page=101", "per_page=0", "page=0", "page=two"):
        response = client.get(f"/api/v1/ocds/releases?{query}")
        assert response.status_code == 400, query
        assert response.get_json()["error"]["code"] == "bad_parameter"


def test_empty_package(client, poster_coop):
    """With no public job, the package has no release (the OCDS schema wants at least one,
    so this one answer is not a valid OCDS package: there is nothing to publish)."""
    make_job(poster_coop, "cotech", "open")
    package = client.get("/api/v1/ocds/releases").get_json()
    assert package["releases"] == [] and package["version"] == "1.1" and "links" not in package


def _awarded_jobs(poster_coop, coops, n):
    """``n`` public awarded jobs, every other one won by a consortium of two (rows written
    directly: this is about statement counts, not about the award's rules)."""
    now = utcnow()
    for i in range(n):
        job = make_job(poster_coop, "public", "closed", status="awarded", awarded_at=now)
        consortium = None
        if i % 2:
            consortium = Consortium(job=job, lead_coop=coops["alpha"], name=f"Team {i}")
            consortium.members = [ConsortiumMember(coop=coops["alpha"], status="accepted"),
                                  ConsortiumMember(coop=coops["beta"], status="accepted")]
        db.session.add(Bid(job=job, coop=coops["alpha"], consortium=consortium, status=BidStatus.AWARDED.value,
                           amount=100, agreed_value=90, agreed_start=now.date(), submitted_at=now,
                           decided_at=now))
    db.session.commit()


def test_package_statements_do_not_grow_with_the_page(client, poster_coop, poster, coops, skills):
    _awarded_jobs(poster_coop, coops, 12)
    headers = bearer(poster)  # the poster is told who won: awards and consortia are loaded
    client.get("/api/v1/ocds/releases?per_page=2", headers=headers)  # the token's first use is written
    counts = []
    for per_page in (2, 12):
        with counted_statements() as statements:
            package = valid_package(client.get(f"/api/v1/ocds/releases?per_page={per_page}", headers=headers))
        assert len(package["releases"]) == per_page
        assert all(len(r["awards"]) == 1 for r in package["releases"])
        assert {len(r["bids"]["details"][0]["tenderers"]) for r in package["releases"]} == {1, 2}
        counts.append(len(statements))
    assert counts[0] == counts[1] <= 12, counts
