"""Consortia through the pages: forming a team, inviting, answering, agreeing the split,
commenting, bidding as one, the award, and every refusal with its message."""
import csv
import io
import re
from datetime import timedelta

from sqlalchemy import func, select

from marketplace.audit.models import AuditEvent
from marketplace.bids.models import Bid
from marketplace.consortia.models import Consortium, ConsortiumComment, ConsortiumMember, PartnerOffer
from marketplace.core.time import utcnow
from marketplace.extensions import db
from marketplace.mail import outbox
from marketplace.notifications.models import Notification

from ..factories import make_coop
from .conftest import (accept, after_deadline, bid_data, errors, form_consortium, invite, member, split,
                       team_of_three)

CONFIRMED = {"confirmed": "yes"}  # as the confirmation page's "Yes" button sends it


def events(action):
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_form_a_consortium_for_a_job(clients, coops, job):
    response = clients["alpha"].get(f"/jobs/{job.id}")
    assert "Form a consortium for this job" in response.get_data(as_text=True)
    assert "Looking for partners" in response.get_data(as_text=True)
    consortium = form_consortium(clients["alpha"], job)
    assert (consortium.job_id, consortium.lead_coop_id) == (job.id, coops["alpha"].id)
    lead = member(consortium, coops["alpha"])
    assert (lead.status, lead.work_share, lead.money_share, lead.role) == ("accepted", 100, 100, "Project management")
    assert [e.target_id for e in events("consortium.created")] == [consortium.id]
    page = clients["alpha"].get(f"/consortia/{consortium.id}").get_data(as_text=True)
    assert "Alpha and friends" in page and "Project management" in page and "Invite a co-op" in page
    assert "Alpha and friends" in clients["alpha"].get("/consortia").get_data(as_text=True)


def suggestions(client, consortium):
    page = client.get(f"/consortia/{consortium.id}").get_data(as_text=True)
    assert 'list="invitable-coops"' in page
    return re.findall(r'<option value="([^"]+)">', page.split('<datalist id="invitable-coops">')[1].split("</datalist>")[0])


def test_the_invite_form_suggests_the_co_ops_that_may_be_invited(clients, coops, job, networks):
    consortium = form_consortium(clients["alpha"], job)
    make_coop("Pending Co-op", {networks["cotech"]: "pending"})  # sees nothing CoTech-only yet
    # not the lead, the poster, a co-op that cannot see the job, nor one not yet vetted
    assert suggestions(clients["alpha"], consortium) == ["Beta Co-op", "Gamma Co-op"]
    assert invite(clients["alpha"], consortium, "Beta Co-op").status_code == 302
    assert suggestions(clients["alpha"], consortium) == ["Gamma Co-op"]
    assert clients["alpha"].post("/consortia/new", data={"name": "Standing", "role": ""}).status_code == 302
    standing = db.session.scalars(select(Consortium).where(Consortium.name == "Standing")).one()
    assert "Workers Only" in suggestions(clients["alpha"], standing)  # a standing one: any co-op


def test_forming_needs_a_name(clients, job):
    response = clients["alpha"].post(f"/consortia/new?job={job.id}", data={"name": "  ", "role": ""})
    assert response.status_code == 422
    assert "Give a name for the consortium." in errors(response)
    assert count(Consortium) == 0


def test_the_poster_cannot_form_one_for_its_own_job(clients, job):
    assert clients["poster"].get(f"/consortia/new?job={job.id}").status_code == 403
    assert clients["outsider"].get(f"/consortia/new?job={job.id}").status_code == 404


def test_a_standing_consortium(clients, coops, networks):
    response = clients["alpha"].post("/consortia/new", data={"name": "Alpha and Beta, always", "role": "Dev"})
    assert response.status_code == 302
    consortium = db.session.scalars(select(Consortium)).one()
    assert consortium.job_id is None and consortium.is_standing
    # No job: any co-op may be invited (each job it bids on is checked when it bids).
    assert invite(clients["alpha"], consortium, coops["outsider"].name).status_code == 302


def test_invite_accept_and_the_split(clients, coops, job):
    consortium = team_of_three(clients, coops, job)
    members = {k: member(consortium, coops[k]) for k in ("alpha", "beta", "gamma")}
    assert {k: m.status for k, m in members.items()} == dict.fromkeys(members, "accepted")
    assert (members["beta"].role, members["beta"].work_share, members["beta"].money_share) == ("Development", 30, 30)
    assert consortium.totals() == (100, 100)
    # Beta sees its invitation in its notifications; every change is in the history.
    assert db.session.scalar(select(func.count(Notification.id)).where(Notification.kind == "team_invited")) == 2
    assert len(events("consortium.invited")) == 2 and len(events("consortium.accepted")) == 2
    assert len(events("consortium.split_changed")) == 1
    page = clients["beta"].get(f"/consortia/{consortium.id}").get_data(as_text=True)
    assert "30 %" in page and "Development" in page and "Design" in page


def test_a_change_of_shares_needs_re_acceptance(clients, coops, job):
    consortium = team_of_three(clients, coops, job)
    lead, beta, gamma = (member(consortium, coops[k]) for k in ("alpha", "beta", "gamma"))
    response = split(clients["alpha"], consortium, {
        lead: ("Project management", 40, 40), beta: ("Development", 40, 30), gamma: ("Design", 20, 30)})
    assert response.status_code == 302
    db.session.expire_all()
    assert (lead.status, beta.status, gamma.status) == ("accepted", "reaccept", "accepted")
    page = clients["beta"].get(f"/consortia/{consortium.id}").get_data(as_text=True)
    assert "The split changed" in page and "40 % of the work" in page
    # It cannot bid until Beta accepts again.
    response = clients["alpha"].post(f"/consortia/{consortium.id}/jobs/{job.id}/bid", data=bid_data(job))
    assert response.status_code == 422
    assert "Waiting for: Beta Co-op" in errors(response)
    assert accept(clients["beta"], consortium, beta).status_code == 302
    db.session.expire_all()
    assert beta.status == "accepted" and len(events("consortium.reaccepted")) == 1


def test_shares_not_adding_up_are_refused(clients, coops, job):
    consortium = team_of_three(clients, coops, job)
    lead, beta, gamma = (member(consortium, coops[k]) for k in ("alpha", "beta", "gamma"))
    response = split(clients["alpha"], consortium, {
        lead: ("PM", 50, 40), beta: ("Development", 30, 30), gamma: ("Design", 10, 20)})
    assert response.status_code == 422
    message = errors(response)
    assert "The shares of the work add up to 90 %, not 100 %." in message
    assert "The shares of the money add up to 90 %, not 100 %." in message
    bad = split(clients["alpha"], consortium, {lead: ("PM", 150, 40), beta: ("Dev", -30, 30), gamma: ("D", 10, 30)})
    assert bad.status_code == 422 and "between 0 and 100" in errors(bad)
    db.session.expire_all()
    # Nothing changed, nobody has to accept again.
    assert (lead.work_share, beta.work_share, gamma.work_share) == (50, 30, 20)
    assert {beta.status, gamma.status} == {"accepted"}
    assert len(events("consortium.split_changed")) == 1


def test_a_split_for_a_team_that_changed_meanwhile_is_refused(clients, coops, job):
    consortium = form_consortium(clients["alpha"], job)
    lead = member(consortium, coops["alpha"])
    invite(clients["alpha"], consortium, "Beta Co-op")
    response = split(clients["alpha"], consortium, {lead: ("PM", 100, 100)})
    assert response.status_code == 422 and "The team changed since you opened the page" in errors(response)


def test_inviting_a_co_op_twice(clients, coops, job):
    consortium = form_consortium(clients["alpha"], job)
    assert invite(clients["alpha"], consortium, "beta-co-op").status_code == 302
    response = invite(clients["alpha"], consortium, "Beta Co-op")
    assert response.status_code == 422
    assert "Beta Co-op is already invited and has not answered yet." in errors(response)
    accept(clients["beta"], consortium, member(consortium, coops["beta"]))
    response = invite(clients["alpha"], consortium, "Beta Co-op")
    assert response.status_code == 422 and "Beta Co-op is already a member of this consortium." in errors(response)
    assert count(ConsortiumMember) == 2 and len(events("consortium.invited")) == 1
    # The lead itself, too.
    response = invite(clients["alpha"], consortium, "Alpha Co-op")
    assert response.status_code == 422 and "already a member" in errors(response)


def test_inviting_a_co_op_that_cannot_see_the_job(clients, coops, job):
    consortium = form_consortium(clients["alpha"], job)
    response = invite(clients["alpha"], consortium, "Workers Only")
    assert response.status_code == 422
    assert ("Workers Only is not an active or guest member of CoTech, and this job is CoTech-only."
            in errors(response))
    response = invite(clients["alpha"], consortium, "Poster Co-op")
    assert response.status_code == 422
    assert "Poster Co-op posted this job: a co-op cannot bid on its own job." in errors(response)
    response = invite(clients["alpha"], consortium, "No Such Co-op")
    assert response.status_code == 422 and "There is no co-op by that name" in errors(response)
    assert count(ConsortiumMember) == 1


def test_only_the_lead_invites(clients, coops, job):
    consortium = team_of_three(clients, coops, job)
    response = invite(clients["beta"], consortium, "Workers Only")
    assert response.status_code == 422
    assert "Only the lead co-op, Alpha Co-op, can do this." in errors(response)


def test_declining(clients, coops, job):
    consortium = form_consortium(clients["alpha"], job)
    invite(clients["alpha"], consortium, "Beta Co-op")
    beta = member(consortium, coops["beta"])
    # Another co-op cannot answer for Beta.
    assert clients["gamma"].post(f"/consortia/{consortium.id}/members/{beta.id}/decline").status_code == 404
    assert clients["beta"].post(f"/consortia/{consortium.id}/members/{beta.id}/decline").status_code == 302
    db.session.expire_all()
    assert beta.status == "declined"
    # Beta no longer takes part: the page is 404 for it. It may be invited again.
    assert clients["beta"].get(f"/consortia/{consortium.id}").status_code == 404
    assert invite(clients["alpha"], consortium, "Beta Co-op").status_code == 302
    db.session.expire_all()
    assert beta.status == "invited"


def test_a_member_leaving_before_and_after_submission(clients, coops, job):
    consortium = team_of_three(clients, coops, job)
    response = clients["alpha"].post(f"/consortia/{consortium.id}/jobs/{job.id}/bid", data=bid_data(job))
    assert response.status_code == 302, errors(response)
    gamma = member(consortium, coops["gamma"])
    response = clients["gamma"].post(f"/consortia/{consortium.id}/members/{gamma.id}/leave")
    assert response.status_code == 422
    assert "no member can leave once the bid is submitted" in errors(response)
    db.session.expire_all()
    assert gamma.status == "accepted"
    # Once the lead withdraws the bid, Gamma may leave; the shares then need agreeing again.
    bid = db.session.scalars(select(Bid)).one()
    assert clients["alpha"].post(f"/bids/{bid.id}/withdraw").status_code == 302
    assert clients["gamma"].post(f"/consortia/{consortium.id}/members/{gamma.id}/leave").status_code == 302
    db.session.expire_all()
    assert gamma.status == "left" and consortium.totals() == (80, 70)
    response = clients["alpha"].post(f"/consortia/{consortium.id}/jobs/{job.id}/bid", data=bid_data(job))
    assert response.status_code == 422
    assert "The shares add up to 80 % of the work and 70 % of the money" in errors(response)


def test_the_lead_cannot_leave(clients, coops, job):
    consortium = team_of_three(clients, coops, job)
    lead = member(consortium, coops["alpha"])
    response = clients["alpha"].post(f"/consortia/{consortium.id}/members/{lead.id}/leave")
    assert response.status_code == 422
    assert "Alpha Co-op leads this consortium and cannot leave it" in errors(response)
    assert "Dissolve the consortium instead" in errors(response)
    db.session.expire_all()
    assert lead.status == "accepted"


def test_dissolving(clients, coops, job):
    consortium = team_of_three(clients, coops, job)
    clients["alpha"].post(f"/consortia/{consortium.id}/jobs/{job.id}/bid", data=bid_data(job, submit=False))
    assert clients["beta"].post(f"/consortia/{consortium.id}/dissolve", data=CONFIRMED).status_code == 422
    # The first POST asks to confirm, saying what will happen and who is told; nothing changes.
    asked = clients["alpha"].post(f"/consortia/{consortium.id}/dissolve")
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "Yes, dissolve it" in page and 'name="confirmed" value="yes"' in page
    assert f"{job.title} (draft): withdrawn" in page and "Gamma Co-op" in page
    db.session.expire_all()
    assert consortium.status == "forming"
    assert clients["alpha"].post(f"/consortia/{consortium.id}/dissolve", data=CONFIRMED).status_code == 302
    db.session.expire_all()
    assert consortium.status == "dissolved"
    assert db.session.scalars(select(Bid)).one().status == "withdrawn"
    # Its co-ops are free to bid alone again.
    response = clients["beta"].post(f"/jobs/{job.id}/bid", data=bid_data(job))
    assert response.status_code == 302


def test_comments_on_the_split(clients, coops, job):
    consortium = team_of_three(clients, coops, job)
    response = clients["beta"].post(f"/consortia/{consortium.id}/comments",
                                    data={"text": "Could we have **35 %** of the money?"})
    assert response.status_code == 302
    assert clients["beta"].post(f"/consortia/{consortium.id}/comments", data={"text": " "}).status_code == 422
    assert count(ConsortiumComment) == 1
    page = clients["gamma"].get(f"/consortia/{consortium.id}").get_data(as_text=True)
    assert "<strong>35 %</strong>" in page
    assert clients["poster"].post(f"/consortia/{consortium.id}/comments", data={"text": "Hi"}).status_code == 404


def test_the_consortium_bids_as_one(clients, coops, job, app):
    consortium = team_of_three(clients, coops, job)
    form = clients["alpha"].get(f"/consortia/{consortium.id}/jobs/{job.id}/bid").get_data(as_text=True)
    assert "the consortium Alpha and friends (led by Alpha Co-op)" in form
    response = clients["alpha"].post(f"/consortia/{consortium.id}/jobs/{job.id}/bid", data=bid_data(job))
    assert response.status_code == 302, errors(response)
    bid = db.session.scalars(select(Bid)).one()
    assert (bid.coop_id, bid.consortium_id, bid.status) == (coops["alpha"].id, consortium.id, "submitted")
    # Every member sees it, sealed; only the lead edits or withdraws it.
    for key in ("alpha", "beta", "gamma"):
        page = clients[key].get(f"/bids/{bid.id}")
        assert page.status_code == 200, key
        assert "The bid of the consortium Alpha and friends" in page.get_data(as_text=True)
    assert clients["beta"].post(f"/consortia/{consortium.id}/jobs/{job.id}/bid", data=bid_data(job)).status_code == 403
    assert clients["beta"].post(f"/bids/{bid.id}/withdraw").status_code == 404
    # A second submit edits the one live bid.
    clients["alpha"].post(f"/consortia/{consortium.id}/jobs/{job.id}/bid", data=bid_data(job, price="8000"))
    assert db.session.scalar(select(func.count(Bid.id))) == 1
    # The team and its split are fixed now.
    response = invite(clients["alpha"], consortium, "Workers Only")
    assert response.status_code == 422 and "the team cannot change once the bid is submitted" in errors(response)


def test_one_bid_per_co_op_per_job(clients, coops, job):
    consortium = team_of_three(clients, coops, job)
    # Neither the lead nor a member may also bid alone.
    for key in ("alpha", "beta"):
        response = clients[key].post(f"/jobs/{job.id}/bid", data=bid_data(job))
        assert response.status_code == 422, key
        assert "bids on this job in the consortium “Alpha and friends”" in errors(response)
    assert "bids on this job in the consortium" in clients["beta"].get(f"/jobs/{job.id}").get_data(as_text=True)
    assert db.session.scalar(select(func.count(Bid.id))) == 0
    # A co-op with its own live bid cannot join (nor form) a consortium for the job.
    from ..factories import make_coop, make_user
    from .conftest import client_for

    delta = make_coop("Delta Co-op", {"cotech": "active"})
    delta_client = client_for(clients["alpha"].application, make_user(coops=[delta]))
    assert delta_client.post(f"/jobs/{job.id}/bid", data=bid_data(job)).status_code == 302
    invite(clients["alpha"], consortium, "Delta Co-op")
    response = accept(delta_client, consortium, member(consortium, delta))
    assert response.status_code == 422
    assert "Delta Co-op has its own bid on this job" in errors(response)
    response = delta_client.post(f"/consortia/new?job={job.id}", data={"name": "Delta's", "role": ""})
    assert response.status_code == 422 and "has its own bid on this job" in errors(response)


def test_the_database_keeps_one_live_bid_per_consortium(clients, coops, job):
    import pytest
    from sqlalchemy.exc import IntegrityError

    consortium = team_of_three(clients, coops, job)
    for _ in range(2):
        db.session.add(Bid(job=job, coop=coops["alpha"], consortium=consortium, status="draft"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_award_to_a_consortium(clients, coops, job, users, poster):
    consortium = team_of_three(clients, coops, job)
    clients["alpha"].post(f"/consortia/{consortium.id}/jobs/{job.id}/bid", data=bid_data(job))
    bid = db.session.scalars(select(Bid)).one()
    mails = outbox()
    mails.clear()
    with after_deadline(job):
        review = clients["poster"].get(f"/jobs/{job.id}/bids").get_data(as_text=True)
        assert "Alpha and friends (consortium led by Alpha Co-op)" in review
        # The poster sees the team and its shares once bids close.
        page = clients["poster"].get(f"/consortia/{consortium.id}").get_data(as_text=True)
        assert "Development" in page and "30 %" in page and "Comments" not in page
        start = (job.bids_deadline + timedelta(days=10)).date().isoformat()
        response = clients["poster"].post(f"/bids/{bid.id}/award", data={
            f"award-{bid.id}-agreed_value": "9000", f"award-{bid.id}-agreed_start": start, **CONFIRMED})
        assert response.status_code == 302
        awarded = db.session.scalars(select(Notification).where(Notification.kind == "bid_awarded")).all()
        assert {n.user_id for n in awarded} == {users[k].id for k in ("alpha", "beta", "gamma")}
        assert {m["To"] for m in mails if "awarded" in m["Subject"]} == {users[k].email for k in ("alpha", "beta", "gamma")}
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "job.awarded")).one()
        assert event.data["consortium"] == "Alpha and friends"
        assert event.data["consortium_members"] == ["Alpha Co-op", "Beta Co-op", "Gamma Co-op"]
        history = clients["poster"].get(f"/jobs/{job.id}").get_data(as_text=True)
        assert "the consortium Alpha and friends: Alpha Co-op, Beta Co-op, Gamma Co-op" in history
        assert "Awarded to <strong>Alpha and friends (consortium led by Alpha Co-op)" in history
        # The bids' spreadsheet names the consortium and every co-op of its team.
        rows = list(csv.reader(io.StringIO(
            clients["poster"].get(f"/jobs/{job.id}/bids.csv").get_data(as_text=True).lstrip("\ufeff"))))
        assert rows[1][:2] == ["Alpha and friends (consortium led by Alpha Co-op)",
                               "Alpha Co-op; Beta Co-op; Gamma Co-op"]


def test_partner_offers(clients, coops, job):
    consortium = form_consortium(clients["alpha"], job)
    response = clients["gamma"].post(f"/jobs/{job.id}/partner-offer", data={"message": "We design, accessibly."})
    assert response.status_code == 302
    assert clients["beta"].post(f"/jobs/{job.id}/partner-offer", data={"message": ""}).status_code == 422
    assert count(PartnerOffer) == 1 and len(events("partner_offer.made")) == 1
    # The lead sees the offer (job page and consortium page); other co-ops do not.
    for path in (f"/jobs/{job.id}", f"/consortia/{consortium.id}"):
        assert "We design, accessibly." in clients["alpha"].get(path).get_data(as_text=True)
    assert "We design, accessibly." not in clients["beta"].get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "We design, accessibly." not in clients["poster"].get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "We design, accessibly." in clients["gamma"].get(f"/jobs/{job.id}").get_data(as_text=True)
    # The lead invites from the offer.
    assert invite(clients["alpha"], consortium, coops["gamma"].slug).status_code == 302
    assert member(consortium, coops["gamma"]).status == "invited"
    # A co-op that cannot see the job cannot offer (404: it does not exist for it).
    assert clients["outsider"].post(f"/jobs/{job.id}/partner-offer", data={"message": "Hi"}).status_code == 404
    assert clients["gamma"].post(f"/jobs/{job.id}/partner-offer/withdraw",
                                 data={"coop": coops["gamma"].id}).status_code == 302
    assert count(PartnerOffer) == 0


def test_every_member_must_see_the_job_to_bid(clients, coops, job, networks):
    """A member whose CoTech membership ended since it joined stops the consortium's bid."""
    consortium = team_of_three(clients, coops, job)
    gamma = coops["gamma"]
    for m in gamma.memberships:
        m.until = utcnow().date() - timedelta(days=1)
    db.session.commit()
    response = clients["alpha"].post(f"/consortia/{consortium.id}/jobs/{job.id}/bid", data=bid_data(job))
    assert response.status_code == 422
    assert "Gamma Co-op is not an active or guest member of CoTech, and this job is CoTech-only." in errors(response)


def test_a_standing_consortium_bids_on_jobs_all_its_co_ops_can_see(clients, coops, job, poster_coop, poster):
    from .conftest import make_open_job

    clients["alpha"].post("/consortia/new", data={"name": "Standing team", "role": "Dev"})
    consortium = db.session.scalars(select(Consortium)).one()
    invite(clients["alpha"], consortium, "Workers Only", "Design")
    outsider = member(consortium, coops["outsider"])
    lead = member(consortium, coops["alpha"])
    assert split(clients["alpha"], consortium, {lead: ("Dev", 60, 60), outsider: ("Design", 40, 40)}).status_code == 302
    assert accept(clients["outsider"], consortium, outsider).status_code == 302
    # The CoTech-only job: Workers Only cannot see it, so the consortium cannot bid on it.
    response = clients["alpha"].post(f"/consortia/{consortium.id}/jobs/{job.id}/bid", data=bid_data(job))
    assert response.status_code == 422
    assert "Workers Only is not an active or guest member of CoTech" in errors(response)
    # A public job: it can.
    public = make_open_job(poster_coop, poster, visibility="public")
    response = clients["alpha"].post(f"/consortia/{consortium.id}/jobs/{public.id}/bid", data=bid_data(public))
    assert response.status_code == 302, errors(response)
    bid = db.session.scalars(select(Bid)).one()
    assert (bid.job_id, bid.consortium_id) == (public.id, consortium.id)
    # Its members now bid on that job through it only.
    response = clients["outsider"].post(f"/jobs/{public.id}/bid", data=bid_data(public))
    assert response.status_code == 422 and "Standing team" in errors(response)
    assert clients["outsider"].get(f"/bids/{bid.id}").status_code == 200


def test_the_consortium_bids_with_files_every_member_downloads(clients, coops, job):
    from werkzeug.datastructures import MultiDict

    from marketplace.documents.models import Document

    from ..documents.files import PDF

    consortium = team_of_three(clients, coops, job)
    form = clients["alpha"].get(f"/consortia/{consortium.id}/jobs/{job.id}/bid").get_data(as_text=True)
    assert 'type="file"' in form
    data = MultiDict(bid_data(job))
    data.add("documents", (io.BytesIO(PDF), "joint-method.pdf"))
    response = clients["alpha"].post(f"/consortia/{consortium.id}/jobs/{job.id}/bid", data=data,
                                     content_type="multipart/form-data")
    assert response.status_code == 302, errors(response)
    bid = db.session.scalars(select(Bid)).one()
    document = db.session.scalars(select(Document)).one()
    assert (document.owner_kind, document.owner_id, document.coop_id) == ("bid", bid.id, coops["alpha"].id)
    for key in ("alpha", "beta", "gamma"):
        assert clients[key].get(f"/documents/{document.id}/joint-method.pdf").status_code == 200, key
    assert clients["poster"].get(f"/documents/{document.id}/joint-method.pdf").status_code == 404  # sealed
    with after_deadline(job):
        assert clients["poster"].get(f"/documents/{document.id}/joint-method.pdf").status_code == 200
