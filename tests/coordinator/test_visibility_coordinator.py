"""The visibility rule on the coordinator's paths: a co-op that may not see a job is never
suggested or invited, for every kind of co-op and every visibility; the SQL form of "which
co-ops see this job" agrees with ``can_view_job`` for each of them."""
from datetime import date

import pytest
from sqlalchemy import select

from marketplace.bids.models import Bid
from marketplace.coops.models import Coop
from marketplace.coordinator import matching
from marketplace.coordinator.models import Invitation
from marketplace.extensions import db
from marketplace.federation.models import NetworkMembership
from marketplace.core.time import utcnow
from marketplace.federation.policy import can_view_job, coops_seeing_job_clause, viewer_for, viewer_for_coop

from ..factories import batched, make_coop, make_job, make_user
from ..matrix import SEES, STATES, VISIBILITIES
from .conftest import EVERY_JOB, client_for

# The co-ops each visibility's jobs may be suggested to (in a network, and seeing the job).
SUGGESTED = {
    "cotech": {"cotech_only", "both", "guest"},
    "federation": {"cotech_only", "workers_only", "both", "guest"},  # the audiences nest
    "public": {"cotech_only", "workers_only", "both", "guest"},
}


@pytest.fixture
@batched
def world(networks, skills):
    cotech, workers = networks["cotech"], networks["workers-coop"]
    skill = skills["python"]
    poster_coop = make_coop("Poster Co-op", {cotech: "active", workers: "active"}, skills=[skill])
    ended = make_coop("Ended Co-op", skills=[skill])
    db.session.add(NetworkMembership(coop=ended, network=cotech, status="active",
                                     since=date(2019, 1, 1), until=date(2020, 1, 1)))
    future = make_coop("Future Co-op", skills=[skill])
    db.session.add(NetworkMembership(coop=future, network=workers, status="active", since=date(2999, 1, 1)))
    db.session.commit()
    coops = {
        "cotech_only": make_coop("CoTech Only", {cotech: "active"}, skills=[skill]),
        "workers_only": make_coop("Workers Only", {workers: "active"}, skills=[skill]),
        "both": make_coop("Both Networks", {cotech: "active", workers: "active"}, skills=[skill]),
        "guest": make_coop("Sister Guest", {cotech: "guest"}, skills=[skill]),
        "pending": make_coop("Pending Co-op", {cotech: "pending"}, skills=[skill]),
        "ended": ended,
        "future": future,
        "none": make_coop("No Network", skills=[skill]),
        "poster": poster_coop,
    }
    jobs = {(v, s): make_job(poster_coop, v, s, skills=[skill], title=f"MATRIX {v} {s}")
            for v in VISIBILITIES for s in STATES}
    admin = make_user(admin=True)
    return {"coops": coops, "jobs": jobs, "admin": admin, "networks": networks}


def test_sql_clause_agrees_with_can_view_job(world):
    for (v, s), job in world["jobs"].items():
        seeing = set(db.session.scalars(select(Coop.id).where(coops_seeing_job_clause(job))))
        for kind, coop in world["coops"].items():
            assert (coop.id in seeing) == can_view_job(viewer_for_coop(coop), job), (kind, v, s)


@pytest.mark.parametrize("visibility", VISIBILITIES)
def test_only_coops_that_see_the_job_are_suggested(app, world, visibility):
    job = world["jobs"][(visibility, "open")]
    suggested = {m.coop_id for m in matching.rank(job, EVERY_JOB).matches}
    by_id = {c.id: k for k, c in world["coops"].items()}
    assert {by_id[i] for i in suggested} == SUGGESTED[visibility]
    for kind in suggested:
        assert can_view_job(viewer_for_coop(db.session.get(Coop, kind)), job)
    html = client_for(app, world["admin"]).get(f"/coordinator/jobs/{job.id}/matches").get_data(as_text=True)
    for kind, coop in world["coops"].items():
        assert (f'id="match-{coop.id}"' in html) == (kind in SUGGESTED[visibility]), (kind, visibility)


@pytest.mark.parametrize("visibility", VISIBILITIES)
def test_a_coop_that_may_not_see_the_job_cannot_be_invited(app, world, visibility):
    job = world["jobs"][(visibility, "open")]
    client = client_for(app, world["admin"])
    for kind, coop in world["coops"].items():
        response = client.post(f"/coordinator/jobs/{job.id}/invite", data={"coops": [coop.id]})
        if kind in SUGGESTED[visibility]:
            assert response.status_code == 302, (kind, visibility)
        else:
            assert response.status_code == 422, (kind, visibility)
            assert "cannot be invited" in response.get_data(as_text=True)
    invited = set(db.session.scalars(select(Invitation.coop_id).where(Invitation.job_id == job.id)))
    assert invited == {world["coops"][k].id for k in SUGGESTED[visibility]}


def test_drafts_have_no_suggestions(world):
    for v in VISIBILITIES:
        assert matching.rank(world["jobs"][(v, "draft")], EVERY_JOB).matches == []


MATCHES = {"poster", "coordinator_cotech", "coordinator_workers", "site_admin"}


@pytest.mark.parametrize("kind", SEES)
def test_suggestions_page_matrix(app, world, kind):
    coops, networks = world["coops"], world["networks"]
    users = {
        "anonymous": None,
        "no_coop": make_user(),
        "coordinator_cotech": make_user(coordinates=[networks["cotech"]]),
        "coordinator_workers": make_user(coordinates=[networks["workers-coop"]]),
        "site_admin": world["admin"],
    }
    user = users[kind] if kind in users else make_user(coops=[coops[kind]])
    client = client_for(app, user)
    for v in VISIBILITIES:
        for state in STATES:
            job = world["jobs"][(v, state)]
            status = client.get(f"/coordinator/jobs/{job.id}/matches").status_code
            sees = v in SEES[kind] and (state != "draft" or kind == "poster")
            if not sees:
                expected = 404
            elif kind == "anonymous":
                expected = 302  # a public job: sign in first
            elif state == "draft" or kind not in MATCHES:
                expected = 403
            else:
                expected = 200
            assert status == expected, (kind, v, state)
            invite = client.post(f"/coordinator/jobs/{job.id}/invite", data={"coops": [coops["both"].id]})
            assert invite.status_code == (422 if expected == 200 and state != "open" else
                                          302 if expected == 200 else expected), (kind, v, state)


# "Both Networks" has a bid (awarded) and a referral on the CoTech-only closed job, and a bid on
# the federation one: each viewer of the suggestions is told only of the jobs it may see.
TRACK = {  # viewer kind: (jobs bid on, awards, referrals) counted for Both Networks
    "poster": (2, 1, 1),
    "coordinator_cotech": (2, 1, 1),
    "coordinator_workers": (1, 0, 0),
    "site_admin": (2, 1, 1),
}


@pytest.mark.parametrize("kind", TRACK)
def test_track_records_and_referrals_count_only_jobs_the_viewer_may_see(app, world, kind):
    coops, jobs, networks = world["coops"], world["jobs"], world["networks"]
    both = coops["both"]
    for v, status in (("cotech", "awarded"), ("federation", "submitted")):
        db.session.add(Bid(job=jobs[(v, "closed")], coop=both, status=status, amount=1000, submitted_at=utcnow(),
                           decided_at=utcnow() if status == "awarded" else None, available_from=date.today()))
    db.session.add(Invitation(job=jobs[("cotech", "closed")], coop=both))
    db.session.commit()
    user = {
        "poster": lambda: make_user(coops=[coops["poster"]]),
        "coordinator_cotech": lambda: make_user(coordinates=[networks["cotech"]]),
        "coordinator_workers": lambda: make_user(coordinates=[networks["workers-coop"]]),
        "site_admin": lambda: world["admin"],
    }[kind]()
    bids, awards, referrals = TRACK[kind]
    job = jobs[("public", "open")]
    match = next(m for m in matching.rank(job, viewer_for(user)).matches if m.coop_id == both.id)
    assert (match.track_bids, match.track_awards) == (bids, awards), kind
    assert (match.recent_invitations, match.recent_awards) == (referrals, awards), kind
    html = client_for(app, user).get(f"/coordinator/jobs/{job.id}/matches").get_data(as_text=True)
    plural = "job" if bids == 1 else "jobs"
    assert f"Has bid on {bids} {plural} with these skills and won {awards}." in html, kind
    referral = "referral" if referrals == 1 else "referrals"
    award = "award" if awards == 1 else "awards"
    assert f"{referrals} {referral} and {awards} {award} in the last 12 months." in html, kind
