"""The coordinator's dashboard and its CSV export: who may open them, and that every figure
obeys the visibility rule; and a co-op's own dashboard."""
import csv
import io
import re
from datetime import date, timedelta

import pytest

from marketplace.bids.models import Bid, Interest
from marketplace.coordinator.models import Invitation
from marketplace.coordinator.services import gini
from marketplace.core.time import utcnow
from marketplace.extensions import db

from ..factories import batched, make_coop, make_job, make_user
from ..matrix import SEES as MATRIX_SEES, VISIBILITIES
from .conftest import client_for, set_capacity

SEES = {kind: MATRIX_SEES[kind] for kind in ("coordinator_cotech", "coordinator_workers", "site_admin")}


@pytest.fixture
@batched
def world(networks, many_skills):
    cotech, workers = networks["cotech"], networks["workers-coop"]
    s = many_skills
    poster_coop = make_coop("Poster Co-op", {cotech: "active", workers: "active"}, skills=[s["python"]])
    cotech_coop = make_coop("=CoTech Only", {cotech: "active"}, skills=[s["rust"]])
    workers_coop = make_coop("Workers Only", {workers: "active"}, skills=[s["python"], s["branding"]])
    set_capacity(workers_coop, people=(1, 2, 3))
    pending_coop = make_coop("Pending Co-op", {cotech: "pending"})
    users = {
        "anonymous": None,
        "no_coop": make_user("No Co-op"),
        "member": make_user(coops=[workers_coop]),
        "pending": make_user(coops=[pending_coop]),
        "poster": make_user(coops=[poster_coop]),
        "coordinator_cotech": make_user(coordinates=[cotech]),
        "coordinator_workers": make_user(coordinates=[workers]),
        "site_admin": make_user(admin=True),
    }
    jobs = {}
    for v in VISIBILITIES:
        skill = {"cotech": s["rust"], "federation": s["welsh-translation"], "public": s["facilitation"]}[v]
        # Unanswered, closing in three days.
        jobs[("quiet", v)] = make_job(poster_coop, v, skills=[skill], title=f"QUIET {v}",
                                      bids_deadline=utcnow() + timedelta(days=3),
                                      questions_deadline=utcnow() + timedelta(days=1))
        # Answered (an interest), closing in a month.
        busy = make_job(poster_coop, v, skills=[skill], title=f"BUSY {v}",
                        bids_deadline=utcnow() + timedelta(days=30))
        jobs[("busy", v)] = busy
        db.session.add(Interest(job=busy, coop=workers_coop if v != "cotech" else cotech_coop,
                                bid_by=busy.bids_deadline.date()))
        # A referral and an award on a closed job of this visibility.
        closed = make_job(poster_coop, v, "closed", skills=[skill], title=f"CLOSED {v}")
        winner = cotech_coop if v == "cotech" else workers_coop
        db.session.add(Invitation(job=closed, coop=winner, created_at=utcnow() - timedelta(days=20)))
        db.session.add(Bid(job=closed, coop=winner, status="awarded", amount=100, decided_at=utcnow(),
                           submitted_at=utcnow(), available_from=date.today()))
    db.session.commit()
    return {"users": users, "jobs": jobs, "coops": {"cotech": cotech_coop, "workers": workers_coop,
                                                    "poster": poster_coop, "pending": pending_coop}}


ALLOWED = {"coordinator_cotech", "coordinator_workers", "site_admin"}


@pytest.mark.parametrize("kind", ["anonymous", "no_coop", "member", "pending", "poster",
                                  "coordinator_cotech", "coordinator_workers", "site_admin"])
def test_access_matrix(app, world, kind):
    client = client_for(app, world["users"][kind])
    expected = 200 if kind in ALLOWED else 404
    assert client.get("/coordinator/").status_code == expected
    assert client.get("/coordinator/export.csv").status_code == expected
    nav = client.get("/jobs").get_data(as_text=True)
    assert ('href="/coordinator/"' in nav) == (kind in ALLOWED)


@pytest.mark.parametrize("kind", sorted(SEES))
def test_content_obeys_visibility(app, world, kind):
    html = client_for(app, world["users"][kind]).get("/coordinator/").get_data(as_text=True)
    unanswered = re.search(r'<h2 id="unanswered">.*?</table>', html, re.S).group(0)
    closing = re.search(r'<h2 id="closing">.*?</table>', html, re.S).group(0)
    for v in VISIBILITIES:
        seen = v in SEES[kind]
        assert (f"QUIET {v}" in unanswered) == seen, (kind, v)
        assert f"BUSY {v}" not in unanswered  # it has an interest
        assert (f"QUIET {v}" in closing) == seen, (kind, v)
        assert "BUSY" not in closing  # a month away
        # Skills of jobs the coordinator may not see are not counted as demand.
        skill = {"cotech": "Rust", "federation": "Welsh translation", "public": "Facilitation"}[v]
        row = re.search(rf'<th scope="row"><a href="/skills/[^"]+">{skill}</a></th><td>(\d+)</td>', html)
        assert (int(row.group(1)) if row else 0) == (2 if seen else 0), (kind, v)  # QUIET and BUSY
    caption = re.search(r"<caption>(\d+) open jobs? with no interest", html)
    assert int(caption.group(1)) == len(SEES[kind])
    # Charts: server-drawn SVG with a title and a description, and a table beside them.
    assert "<svg" in html and "<title id=\"skills-chart-title\">" in html and "<desc id=\"skills-chart-desc\">" in html
    assert "<script" not in html


def _csv(app, user):
    response = client_for(app, user).get("/coordinator/export.csv")
    assert response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_csv_export_parses_and_obeys_visibility(app, world):
    rows = {r["slug"]: r for r in _csv(app, world["users"]["coordinator_cotech"])}
    cotech, workers = world["coops"]["cotech"], world["coops"]["workers"]
    # The co-ops of the CoTech network (the pending one is not a member yet).
    assert set(rows) == {cotech.slug, world["coops"]["poster"].slug}
    assert rows[cotech.slug]["coop"] == "'=CoTech Only"  # never a spreadsheet formula
    assert (rows[cotech.slug]["referrals_12m"], rows[cotech.slug]["awards_12m"]) == ("1", "1")

    rows = {r["slug"]: r for r in _csv(app, world["users"]["coordinator_workers"])}
    assert set(rows) == {workers.slug, world["coops"]["poster"].slug}
    # Federation and public awards count; the coordinator cannot see the cotech job.
    assert (rows[workers.slug]["referrals_12m"], rows[workers.slug]["awards_12m"]) == ("2", "2")
    assert (rows[workers.slug]["people_1m"], rows[workers.slug]["people_6m"]) == ("1", "3")
    assert rows[workers.slug]["day_rate_min"] == ""

    admin_rows = {r["slug"]: r for r in _csv(app, world["users"]["site_admin"])}
    assert set(admin_rows) == {cotech.slug, workers.slug, world["coops"]["poster"].slug}


def test_fairness_chart_and_gini(app, world):
    html = client_for(app, world["users"]["site_admin"]).get("/coordinator/").get_data(as_text=True)
    table = re.search(r'<table id="fairness-table">.*?</table>', html, re.S).group(0)
    assert "Workers Only</a></th><td>2</td><td>2</td>" in table
    assert "=CoTech Only</a></th><td>1</td><td>1</td>" in table
    # Awards 0 (poster), 1, 2 among three co-ops.
    assert re.search(r'<strong id="gini">([\d.]+)</strong>', html).group(1) == f"{gini([0, 1, 2]):.2f}"
    assert '<title id="fairness-chart-title">' in html


def test_gini():
    assert gini([]) is None and gini([0, 0]) is None
    assert gini([3, 3, 3, 3]) == 0
    assert gini([0, 0, 0, 4]) == pytest.approx(0.75)


def test_coop_dashboard(app, world, many_skills):
    workers = world["coops"]["workers"]
    member = world["users"]["member"]
    # An open cotech job asking for Python: the workers.coop co-op may not see it.
    make_job(world["coops"]["poster"], "cotech", skills=[many_skills["python"]], title="HIDDEN python")
    make_job(world["coops"]["poster"], "federation", skills=[many_skills["python"]], title="SHOWN python")
    client = client_for(app, member)
    html = client.get(f"/coops/{workers.slug}/dashboard").get_data(as_text=True)
    matching = re.search(r'<h2 id="matching">.*?</table>', html, re.S).group(0)
    assert "SHOWN python" in matching and "HIDDEN python" not in matching
    interests = re.search(r'<h2 id="interests">.*?</ul>', html, re.S).group(0)
    assert "BUSY federation" in interests and "BUSY cotech" not in interests
    assert "Free within a month: 1;" in html and "within 3 months: 2;" in html
    # The consortia pages are linked once that feature is installed.
    assert ('id="consortia"' in html) == ("consortia.mine" in app.view_functions)
    for kind in ("anonymous", "no_coop", "poster", "coordinator_workers", "site_admin"):
        response = client_for(app, world["users"][kind]).get(f"/coops/{workers.slug}/dashboard")
        assert response.status_code == (302 if kind == "anonymous" else 404), kind
