"""Membership dates are calendar days in the site's time zone, read from the site's one clock
(``core.time``), so the test clock reaches them and a day starts at midnight in the UK."""
from datetime import date, datetime

from sqlalchemy import select

from marketplace.coops.models import Coop
from marketplace.core.time import frozen_now, site_today
from marketplace.extensions import db
from marketplace.federation.models import NetworkMembership
from marketplace.federation import acting_coops_clause, viewer_for
from marketplace.federation.policy import coops_seeing_job_clause

from ..conftest import login
from ..factories import make_coop, make_job, make_user

# 22:30 and 23:30 UTC on 1 July 2026 are 23:30 on 1 July and 00:30 on 2 July in London (BST).
BEFORE, AFTER = datetime(2026, 7, 1, 22, 30), datetime(2026, 7, 1, 23, 30)


def test_the_site_day_is_the_day_in_its_time_zone(app):
    with frozen_now(BEFORE):
        assert site_today() == date(2026, 7, 1)
    with frozen_now(AFTER):
        assert site_today() == date(2026, 7, 2)
    app.config["TIMEZONE"] = "UTC"
    try:
        with frozen_now(AFTER):
            assert site_today() == date(2026, 7, 1)
    finally:
        app.config["TIMEZONE"] = "Europe/London"


def test_a_membership_starts_at_midnight_in_the_site_time_zone(app, client, networks):
    cotech = networks["cotech"]
    poster = make_coop("Poster", {cotech: "active"})
    job = make_job(poster, "cotech", "open", title="Starts at midnight")
    newcomer = make_coop("Newcomer")
    db.session.add(NetworkMembership(coop=newcomer, network=cotech, status="active", since=date(2026, 7, 2)))
    db.session.commit()
    user = make_user(coops=[newcomer])
    login(client, user)

    def seeing():
        return set(db.session.scalars(select(Coop.id).where(coops_seeing_job_clause(job))))

    def acting():
        return set(db.session.scalars(select(Coop.id).where(acting_coops_clause())))

    with frozen_now(BEFORE):
        assert "cotech" not in viewer_for(user).visibilities
        assert newcomer.id not in seeing() and newcomer.id not in acting()
        assert client.get(f"/jobs/{job.id}").status_code == 404
    with frozen_now(AFTER):
        assert "cotech" in viewer_for(user).visibilities
        assert newcomer.id in seeing() and newcomer.id in acting()
        assert client.get(f"/jobs/{job.id}").status_code == 200
