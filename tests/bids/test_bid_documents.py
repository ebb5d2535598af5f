"""Files with a bid: uploaded on the bid form (through the check step), sealed with the bid,
removable while it can change, kept when it is withdrawn (what was submitted stays on record)."""
import io
import re
from html import unescape

from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from marketplace.bids.models import Bid
from marketplace.documents.models import Document
from marketplace.extensions import db

from ..documents.files import PDF, png
from .conftest import after_deadline, bid_data, client_for


def test_a_bid_is_submitted_with_files_sealed_until_the_deadline(app, job, poster, alpha, alpha_user):
    bidder = client_for(app, alpha_user)
    data = MultiDict(bid_data(job))
    data.pop("confirmed")
    data.add("documents", (io.BytesIO(PDF), "proposal.pdf"))
    check = bidder.post(f"/jobs/{job.id}/bid", data=data, content_type="multipart/form-data")
    html = check.get_data(as_text=True)
    assert "Check your bid" in html and "proposal.pdf" in html
    carried = [(unescape(n), unescape(v)) for n, v in
               re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html)]
    submitted = bidder.post(f"/jobs/{job.id}/bid", data=MultiDict(carried + [("confirmed", "yes"),
                                                                            ("submit", "Submit bid")]))
    assert submitted.status_code == 302
    bid = db.session.scalars(select(Bid)).one()
    document = db.session.scalars(select(Document)).one()
    assert (document.owner_kind, document.owner_id, document.coop_id) == ("bid", bid.id, alpha.id)
    url = f"/documents/{document.id}/proposal.pdf"
    assert "proposal.pdf" in bidder.get(f"/bids/{bid.id}").get_data(as_text=True)
    assert bidder.get(url).status_code == 200

    reviewer = client_for(app, poster)
    assert reviewer.get(url).status_code == 404
    with after_deadline(job):
        assert reviewer.get(url).status_code == 200
        assert "proposal.pdf" in reviewer.get(f"/bids/{bid.id}").get_data(as_text=True)


def test_files_are_removed_from_an_open_bid_and_kept_when_it_is_withdrawn(app, job, alpha, alpha_user):
    bidder = client_for(app, alpha_user)
    data = MultiDict(bid_data(job))
    data.add("documents", (io.BytesIO(PDF), "a.pdf"))
    data.add("documents", (io.BytesIO(png()), "b.png"))
    assert bidder.post(f"/jobs/{job.id}/bid", data=data, content_type="multipart/form-data").status_code == 302
    bid = db.session.scalars(select(Bid)).one()
    first, second = db.session.scalars(select(Document).order_by(Document.name)).all()
    assert bidder.post(f"/documents/{first.id}/remove").status_code == 302
    assert [d.name for d in db.session.scalars(select(Document))] == ["b.png"]
    assert bidder.post(f"/bids/{bid.id}/withdraw").status_code == 302
    db.session.refresh(bid)
    assert bid.status == "withdrawn" and [d.id for d in db.session.scalars(select(Document))] == [second.id]
    assert bidder.post(f"/documents/{second.id}/remove").status_code == 403
