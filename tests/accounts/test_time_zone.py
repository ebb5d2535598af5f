"""A time zone per user: chosen on the settings page, Europe/London by default; every date shown
to a signed-in user, and every date they type, is in it; anonymous visitors and messages to no
user get the site's (Europe/London). Tested across the October clock change (Europe/London goes
back at 01:00 UTC on Sunday 31 October 2027; New York not until 7 November)."""
from datetime import datetime

from marketplace.core.time import frozen_now
from marketplace.extensions import db
from marketplace.mail import build_message

from ..conftest import login, logout
from ..factories import make_coop, make_job, make_user

BEFORE = datetime(2027, 10, 20, 12, 0)


def _choose(client, zone):
    page = client.get("/account").get_data(as_text=True)
    assert 'name="zone-time_zone"' in page
    return client.post("/account/time-zone", data={"zone-time_zone": zone, "zone-submit": "Save time zone"})


def test_a_new_user_is_in_london_and_chooses_another_zone(client, networks):
    user = make_user()
    assert user.time_zone == "Europe/London"
    login(client, user)
    assert '<option selected value="Europe/London">' in client.get("/account").get_data(as_text=True)
    response = _choose(client, "America/New_York")
    assert response.status_code == 302
    db.session.refresh(user)
    assert user.time_zone == "America/New_York"
    assert "Dates are now shown in America/New York time." in client.get("/account").get_data(as_text=True)


def test_a_zone_not_in_the_list_is_refused_with_a_message(client, networks):
    user = make_user()
    login(client, user)
    for bad in ("Mars/Olympus_Mons", "", "GB", "europe/london"):
        response = _choose(client, bad)
        assert response.status_code == 422, bad
        assert "Choose a time zone from the list." in response.get_data(as_text=True)
    db.session.refresh(user)
    assert user.time_zone == "Europe/London"


def test_dates_are_shown_in_each_viewers_zone_across_the_clock_change(client, networks):
    coop = make_coop("Zones", {networks["cotech"]: "active"})
    job = make_job(coop, "public", questions_deadline=datetime(2027, 10, 30, 11, 0),
                   bids_deadline=datetime(2027, 11, 1, 12, 0))
    london, new_york = make_user(), make_user()
    new_york.time_zone = "America/New_York"
    db.session.commit()
    with frozen_now(BEFORE):
        for viewer, shown in [
            (None, ["30 Oct 2027, 12:00 BST", "1 Nov 2027, 12:00 GMT"]),
            (london, ["30 Oct 2027, 12:00 BST", "1 Nov 2027, 12:00 GMT"]),
            # London has gone back an hour, New York not yet: five hours apart, then four.
            (new_york, ["30 Oct 2027, 07:00 EDT", "1 Nov 2027, 08:00 EDT"]),
        ]:
            logout(client)
            if viewer is not None:
                login(client, viewer)
            page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
            assert all(text in page for text in shown), (viewer and viewer.time_zone, shown)


def test_a_message_is_in_its_recipients_zone_whoever_sends_it(app, client, networks):
    moment = datetime(2027, 11, 1, 12, 0)
    sender = make_user()
    sender.time_zone = "Asia/Tokyo"
    db.session.commit()
    login(client, sender)
    with app.test_request_context("/"):
        from flask_login import login_user
        login_user(sender)
        job = {"title": "T", "coop": "C", "kind": "Tender", "budget": "£1", "deadline": moment, "link": "x"}
        context = dict(name="N", search_name="S", count="1 new job", jobs=[job], search_link="x",
                       unsubscribe_link="x", for_coop=None)
        to_nobody = build_message("a@example.coop", "S", "alert", **context).get_body(("plain",)).get_content()
        to_new_york = build_message("b@example.coop", "S", "alert", zone="America/New_York",
                                    **context).get_body(("plain",)).get_content()
    assert "1 Nov 2027, 12:00 GMT" in to_nobody
    assert "1 Nov 2027, 08:00 EDT" in to_new_york and "JST" not in to_new_york + to_nobody
