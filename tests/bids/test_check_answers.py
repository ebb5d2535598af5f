""""Check your answers" before submitting a bid: shown only for a bid that may be submitted,
"Change" loses nothing, and only the final button submits. Drafts and the API are unchanged."""
import re
from html import unescape

from werkzeug.datastructures import MultiDict

from sqlalchemy import select

from marketplace.bids.models import Bid
from marketplace.extensions import db

from .conftest import bid_data, client_for


def _carried(page):
    return [(unescape(name), unescape(value))
            for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page)]


def test_submitting_shows_the_bid_first(app, job, alpha_user):
    client = client_for(app, alpha_user)
    data = bid_data(job, price_type="day_rate", price="", day_rate="450", days="20")
    data.pop("confirmed")
    response = client.post(f"/jobs/{job.id}/bid", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and db.session.scalars(select(Bid)).all() == []
    assert "Check your bid before submitting it" in page and "£450 a day × 20 days" in page
    for requirement in job.requirements:
        assert f"Yes: {requirement.text}" in page

    form = client.post(f"/jobs/{job.id}/bid", data=MultiDict(_carried(page) + [("change", "proposal")]))
    assert form.status_code == 200 and 'value="450"' in form.get_data(as_text=True)
    assert db.session.scalars(select(Bid)).all() == []

    assert client.post(f"/jobs/{job.id}/bid", data=MultiDict(_carried(page) + [("confirmed", "yes")])).status_code == 302
    bid = db.session.scalars(select(Bid)).one()
    assert (bid.status, bid.amount, bid.days) == ("submitted", 450, 20)


def test_an_incomplete_bid_is_refused_without_the_check_page(app, job, alpha_user):
    data = bid_data(job, proposal="")
    data.pop("confirmed")
    response = client_for(app, alpha_user).post(f"/jobs/{job.id}/bid", data=data)
    assert response.status_code == 422
    assert "Write your proposal before submitting." in response.get_data(as_text=True)
    assert db.session.scalars(select(Bid)).all() == []
