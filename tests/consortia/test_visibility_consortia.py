"""The visibility matrix, grown to consortia: every kind of viewer × every visibility, before
and after the bids deadline, on consortium pages, their shares and comments, invitations,
partner offers and consortium bids. The viewer kinds are those of
tests/federation/test_visibility_matrix.py, plus a co-op in the consortium's team ("partner")
and one invited that has not answered ("invitee").

The rule (marketplace/consortia/policy.py): whoever may not see the job sees nothing (404).
The page: the co-ops taking part and site admins; once bids close, also the poster's co-op and
the coordinators of the job's networks (the consortium's bid was received). Shares: those taking
part, and the reviewers once bids close. Comments: those taking part. The consortium's bid: its
team (not a co-op still invited), and the reviewers once bids close.
"""
from datetime import date

import pytest
from sqlalchemy import select

from marketplace.bids.models import Bid
from marketplace.bids.policy import can_view_bid, visible_bids
from marketplace.consortia import policy
from marketplace.consortia.models import Consortium, ConsortiumComment, ConsortiumMember, PartnerOffer
from marketplace.core.time import utcnow
from marketplace.extensions import db
from marketplace.federation import viewer_for
from marketplace.federation.models import NetworkMembership
from marketplace.jobs.models import Job

from ..factories import batched, make_coop, make_job, make_user
from ..matrix import ALL, SEES as MATRIX_SEES, VISIBILITIES, bids_phase, signed_in

# The matrix's viewers, and two more: a partner in the lead's consortium and a co-op invited to it.
SEES = {**MATRIX_SEES, "partner": ALL, "invitee": ALL}
COORDINATES = {"coordinator_cotech": {"cotech", "federation"}, "coordinator_workers": {"federation"}}
LEAD = "both"
TEAM = {LEAD, "partner"}
TAKING_PART = TEAM | {"invitee"}
OFFERER = "cotech_only"


def sees_job(kind, v):
    return v in SEES[kind]


def reviews(kind, v, closed):
    return closed and (kind == "poster" or v in COORDINATES.get(kind, set()))


def sees_page(kind, v, closed):
    return sees_job(kind, v) and (kind in TAKING_PART or kind == "site_admin" or reviews(kind, v, closed))


def sees_shares(kind, v, closed):
    return sees_job(kind, v) and (kind in TAKING_PART or reviews(kind, v, closed))


def sees_bid(kind, v, closed):
    return sees_job(kind, v) and (kind in TEAM or reviews(kind, v, closed))


@pytest.fixture
@batched
def world(app, networks):
    cotech, workers = networks["cotech"], networks["workers-coop"]
    poster_coop = make_coop("Poster Co-op", {cotech: "active", workers: "active"})
    ended_coop = make_coop("Ended Co-op")
    db.session.add(NetworkMembership(coop=ended_coop, network=cotech, status="active",
                                     since=date(2019, 1, 1), until=date(2020, 1, 1)))
    db.session.commit()
    coops = {
        "cotech_only": make_coop("CoTech Only", {cotech: "active"}),
        "workers_only": make_coop("Workers Only", {workers: "active"}),
        "both": make_coop("Both Networks", {cotech: "active", workers: "active"}),
        "guest": make_coop("Sister Guest", {cotech: "guest"}),
        "pending": make_coop("Pending Co-op", {cotech: "pending"}),
        "ended": ended_coop,
        "poster": poster_coop,
        "partner": make_coop("Partner Co-op", {cotech: "active", workers: "active"}),
        "invitee": make_coop("Invitee Co-op", {cotech: "active", workers: "active"}),
    }
    users = {
        "anonymous": None,
        "no_coop": make_user("No Co-op"),
        **{kind: make_user(f"Person {n}", coops=[coop]) for n, (kind, coop) in enumerate(coops.items())},
        "coordinator_cotech": make_user(coordinates=[cotech]),
        "coordinator_workers": make_user(coordinates=[workers]),
        "site_admin": make_user(admin=True),
    }
    jobs, consortia, bids = {}, {}, {}
    for v in VISIBILITIES:
        job = make_job(poster_coop, v, "open", title=f"MATRIX {v}", looking_for_partners=True)
        jobs[v] = job
        consortium = Consortium(job=job, lead_coop=coops[LEAD], name=f"TEAM {v}")
        consortium.members = [
            ConsortiumMember(coop=coops[LEAD], status="accepted", role="Lead work", work_share=63, money_share=58),
            ConsortiumMember(coop=coops["partner"], status="accepted", role="Design", work_share=37, money_share=42),
            ConsortiumMember(coop=coops["invitee"], status="invited", role="Testing"),
        ]
        consortium.comments = [ConsortiumComment(coop=coops["partner"], text=f"COMMENT {v}",
                                                 text_html=f"<p>COMMENT {v}</p>")]
        db.session.add(consortium)
        consortia[v] = consortium
        bids[v] = Bid(job=job, coop=coops[LEAD], consortium=consortium, status="submitted", amount=1000,
                      available_from=date.today(), proposal=f"PROPOSAL {v}",
                      proposal_html=f"<p>PROPOSAL {v}</p>", submitted_at=utcnow())
        db.session.add(bids[v])
        db.session.add(PartnerOffer(job=job, coop=coops[OFFERER], message=f"OFFER {v}"))
    db.session.commit()
    return {"jobs": jobs, "consortia": consortia, "bids": bids, "users": users, "coops": coops}


@pytest.mark.parametrize("closed", [False, True], ids=["before_deadline", "after_deadline"])
def test_consortium_pages_shares_and_comments(app, world, closed, subtests):
    for kind in SEES:
        with subtests.test(viewer=kind):
            client = signed_in(app, world, kind)
            with bids_phase(world, closed):
                for v, consortium in world["consortia"].items():
                    response = client.get(f"/consortia/{consortium.id}")
                    shown = sees_page(kind, v, closed)
                    assert response.status_code == (200 if shown else 404), (kind, v)
                    if not shown:
                        continue
                    html = response.get_data(as_text=True)
                    assert "Partner Co-op" in html and "Design" in html, (kind, v)  # members and roles
                    assert ("58 %" in html) == sees_shares(kind, v, closed), (kind, v)
                    assert (f"COMMENT {v}" in html) == (kind in TAKING_PART), (kind, v)
                    assert (f"PROPOSAL {v}" in html) is False  # the bid's contents live on the bid page


@pytest.mark.parametrize("closed", [False, True], ids=["before_deadline", "after_deadline"])
def test_consortium_bids(app, world, closed, subtests):
    for kind in SEES:
        with subtests.test(viewer=kind):
            client = signed_in(app, world, kind)
            with bids_phase(world, closed):
                for v, bid in world["bids"].items():
                    response = client.get(f"/bids/{bid.id}")
                    shown = sees_bid(kind, v, closed)
                    assert response.status_code == (200 if shown else 404), (kind, v)
                    if shown:
                        html = response.get_data(as_text=True)
                        assert f"PROPOSAL {v}" in html and "58 %" in html and "Partner Co-op" in html, (kind, v)
                    review = client.get(f"/jobs/{world['jobs'][v].id}/bids")
                    assert review.status_code == (200 if sees_job(kind, v) else 404)
                    assert (f"PROPOSAL {v}" in review.get_data(as_text=True)) == reviews(kind, v, closed) and sees_job(kind, v) \
                        or not sees_job(kind, v), (kind, v)


@pytest.mark.parametrize("closed", [False, True], ids=["before_deadline", "after_deadline"])
def test_python_checks_and_sql_filters_agree(world, closed, subtests):
    for kind in [k for k in SEES if k != "anonymous"]:
        with subtests.test(viewer=kind):
            viewer = viewer_for(world["users"][kind])
            with bids_phase(world, closed):
                in_sql = set(db.session.scalars(visible_bids(select(Bid.id).join(Job, Job.id == Bid.job_id), viewer)))
                listed = set(db.session.scalars(policy.visible_consortia(select(Consortium.id), viewer)))
                for v, bid in world["bids"].items():
                    assert can_view_bid(viewer, bid) == sees_bid(kind, v, closed), (kind, v)
                    assert (bid.id in in_sql) == sees_bid(kind, v, closed), (kind, v)
                    consortium = world["consortia"][v]
                    assert policy.can_view_consortium(viewer, consortium) == sees_page(kind, v, closed), (kind, v)
                    assert policy.can_view_shares(viewer, consortium) == sees_shares(kind, v, closed), (kind, v)
                    # The list of one's consortia: those one's co-ops take part in.
                    assert (consortium.id in listed) == (kind in TAKING_PART and sees_job(kind, v)), (kind, v)


@pytest.mark.parametrize("closed", [False, True], ids=["before_deadline", "after_deadline"])
def test_job_page_offers_and_consortia(app, world, closed, subtests):
    """Partner offers: the lead sees them, and the offering co-op its own; the consortium's
    existence: the co-ops taking part. Nobody else, whatever they may see."""
    for kind in SEES:
        with subtests.test(viewer=kind):
            client = signed_in(app, world, kind)
            with bids_phase(world, closed):
                for v, job in world["jobs"].items():
                    response = client.get(f"/jobs/{job.id}")
                    assert response.status_code == (200 if sees_job(kind, v) else 404)
                    if not sees_job(kind, v):
                        continue
                    html = response.get_data(as_text=True)
                    assert "Looking for partners" in html
                    assert (f"OFFER {v}" in html) == ((kind == LEAD and not closed) or kind == OFFERER), (kind, v)
                    assert (f"TEAM {v}" in html) == (kind in TAKING_PART), (kind, v)


# Co-ops that may not be invited whatever they see: the poster, and those not vetted (a pending
# or lapsed membership) who may look at public jobs but not act on them.
NOT_ACTING = {"poster", "pending", "ended"}


@pytest.mark.parametrize("kind", ["cotech_only", "workers_only", "guest", "pending", "ended", "poster"])
def test_invitations(app, world, kind):
    """The lead may invite exactly the co-ops that may see the job and act on it (never the
    poster), and is told why not otherwise; once bids close, nobody."""
    for bid in world["bids"].values():  # a submitted bid fixes the team: withdraw it first
        bid.status = "withdrawn"
    db.session.commit()
    lead = signed_in(app, world, LEAD)
    coop = world["coops"][kind]
    for v, consortium in world["consortia"].items():
        response = lead.post(f"/consortia/{consortium.id}/invite", data={"coop": coop.name})
        allowed = sees_job(kind, v) and kind not in NOT_ACTING
        assert response.status_code == (302 if allowed else 422), (kind, v)
        if not allowed:
            html = response.get_data(as_text=True)
            why = (f"{coop.name} posted this job" if kind == "poster" else f"{coop.name} is not a"
                   if not sees_job(kind, v) else f"{coop.name} cannot register interest, ask questions or bid")
            assert why in html, (kind, v)
    invited = db.session.scalars(select(ConsortiumMember).where(ConsortiumMember.coop_id == coop.id)).all()
    assert len(invited) == len([v for v in VISIBILITIES if sees_job(kind, v) and kind not in NOT_ACTING])
    with bids_phase(world, True):
        other = world["coops"]["cotech_only" if kind != "cotech_only" else "guest"]
        response = lead.post(f"/consortia/{world['consortia']['public'].id}/invite", data={"coop": other.name})
        assert response.status_code == 422 and "Bids closed" in response.get_data(as_text=True)


@pytest.mark.parametrize("kind", ["cotech_only", "workers_only", "guest", "pending", "poster", "partner"])
def test_only_taking_part_answers_invitations(app, world, kind):
    """Only the invited co-op answers its invitation: anyone else gets 404."""
    client = signed_in(app, world, kind)
    for v, consortium in world["consortia"].items():
        invitation = next(m for m in consortium.members if m.status == "invited")
        response = client.post(f"/consortia/{consortium.id}/members/{invitation.id}/accept")
        assert response.status_code == 404, (kind, v)
    db.session.expire_all()
    assert {m.status for c in world["consortia"].values() for m in c.members if m.coop_id == world["coops"]["invitee"].id} \
        == {"invited"}
