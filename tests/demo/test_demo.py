"""`flask demo load`: the demo world, its logins, running it twice, and the pages it fills."""
import re
from collections import Counter

from markupsafe import escape
from sqlalchemy import func, select

from marketplace.accounts.models import User
from marketplace.audit.models import AuditEvent
from marketplace.coops.models import Coop
from marketplace.core.time import utcnow
from marketplace.demo import data
from marketplace.extensions import db
from marketplace.federation.models import Network
from marketplace.federation.policy import viewer_for
from marketplace.jobs.models import Job
from marketplace.jobs.services import JobFilters, count_jobs

from ..conftest import _empty_all_tables, login
from ..factories import make_coop, settle_index


def row_counts():
    """Rows per table, but the site revision's one row (always there: it is not data)."""
    return {
        table.name: db.session.scalar(select(func.count()).select_from(table))
        for table in db.metadata.sorted_tables if table.name != "site_revision"
    }


def user(email):
    return db.session.scalar(select(User).where(User.email == email))


def coop(slug):
    return db.session.scalar(select(Coop).where(Coop.slug == slug))


def statuses(c):
    return {m.network.slug: m.status for m in c.memberships}


def test_networks_coops_and_people(demo):
    networks = db.session.scalars(select(Network).order_by(Network.slug)).all()
    assert [(n.slug, n.name, n.in_federation) for n in networks] == [
        ("cotech", "CoTech", True), ("workers-coop", "workers.coop", True),
    ]
    coops = db.session.scalars(select(Coop)).all()
    assert len(coops) == 15
    kinds = Counter(tuple(sorted(statuses(c).items())) for c in coops)
    assert kinds[(("cotech", "active"),)] >= 2
    assert kinds[(("workers-coop", "active"),)] >= 2
    assert kinds[(("cotech", "active"), ("workers-coop", "active"))] >= 2
    assert kinds[(("cotech", "guest"),)] == 1
    assert kinds[(("cotech", "pending"),)] == 1
    for c in coops:
        assert c.website == f"https://{c.slug}.example.coop"
        assert c.description_html.startswith("<p>") and c.size and c.location
        assert 3 <= len(c.skills) <= 6, c.name
        roles = {link.role for link in c.members}
        assert roles == {"admin", "member"}, c.name
    assert user("admin@example.coop").is_site_admin
    assert len(user(data.TWO_COOP_MEMBER["email"]).coops) == 2


def test_jobs_cover_every_visibility_kind_and_state(demo):
    jobs = db.session.scalars(select(Job)).all()
    assert len(jobs) == 40
    by_state = Counter(j.state.value for j in jobs)
    assert by_state == {"open": 22, "closed": 8, "draft": 5, "withdrawn": 5}
    pairs = Counter((j.visibility, j.state.value) for j in jobs)
    for visibility in ("cotech", "federation", "public"):
        for state in ("open", "closed", "draft", "withdrawn"):
            assert pairs[(visibility, state)] >= 1, (visibility, state)
    assert set(Counter(j.kind for j in jobs)) == {"tender", "subcontract", "lead"}
    assert {j.budget_type for j in jobs} == {"fixed", "day_rate"}
    assert any(j.looking_for_partners for j in jobs)
    now = utcnow()
    for job in jobs:
        assert job.skills and "<h3>Background</h3>" in job.description_html
        if job.state == "closed":
            assert job.bids_deadline < now and job.published_at < job.questions_deadline
        if job.state == "open":
            assert job.bids_deadline > now and job.published_at < now
        # Each co-op posts only to audiences it belongs to; the pending co-op posts nothing.
        assert job.coop.slug != "seedbank-software"
        assert job.posted_by.is_member_of(job.coop)


def test_every_job_has_the_audit_events_of_its_history(demo):
    events = {}
    for e in db.session.scalars(select(AuditEvent).where(AuditEvent.target_type == "job")):
        events.setdefault(e.target_id, {})[e.action] = e
    for job in db.session.scalars(select(Job)):
        expected = {"job.created"} | ({"job.published"} if job.status != "draft" else set())
        if job.status == "withdrawn":
            expected.add("job.withdrawn")
            assert events[job.id]["job.withdrawn"].created_at == job.withdrawn_at
            assert events[job.id]["job.withdrawn"].data["reason"] == job.withdrawn_reason
        assert set(events[job.id]) == expected, job.title
        if job.published_at:
            # Posted at the time it says, not at load time.
            assert events[job.id]["job.published"].created_at == job.published_at
            assert events[job.id]["job.published"].actor_id == job.posted_by_id


def test_every_kind_of_viewer_exists(demo):
    def seen(email):
        return viewer_for(user(email)).visibilities

    cotech_only = coop("kestrel-and-loom").members[0].user
    workers_only = coop("weavers-yard").members[0].user
    guest = coop("kittiwake-media").members[0].user
    pending = coop("seedbank-software").members[0].user
    assert seen(cotech_only.email) == {"public", "federation", "cotech"}
    assert seen(workers_only.email) == {"public", "federation"}
    assert seen(guest.email) == {"public", "federation", "cotech"}  # the audiences nest
    assert seen(pending.email) == {"public"}
    assert seen("coordinator@cotech.example.coop") == {"public", "federation", "cotech"}
    assert seen("coordinator@workers.example.coop") == {"public", "federation"}
    assert viewer_for(user("admin@example.coop")).is_site_admin
    # The audiences really differ in what they are shown.
    anyone = JobFilters(state="any")
    counts = {
        who: count_jobs(viewer_for(u), anyone)[0]
        for who, u in (("anonymous", None), ("pending", pending), ("guest", guest),
                       ("workers", workers_only), ("cotech", cotech_only))
    }
    assert counts["anonymous"] < counts["workers"] < counts["guest"]
    assert counts["anonymous"] < counts["workers"] < counts["cotech"]
    assert counts["pending"] == counts["anonymous"]  # its own co-op has posted nothing


def test_output_lists_the_logins(demo):
    assert "demo-password-1" in demo
    assert re.search(
        r"admin@example\.coop\s+demo-password-1\s+-\s+public \+ federation \+ CoTech-only jobs \(site admin\)", demo
    )
    assert "coordinator of CoTech" in demo and "coordinator of workers.coop" in demo
    assert "Kittiwake Media Co-operative (admin; CoTech guest)" in demo
    assert "Seedbank Software Co-op (member; CoTech pending)" in demo
    for u in db.session.scalars(select(User)):
        assert u.email in demo
        assert u.check_password(data.PASSWORD)


def test_second_run_changes_nothing(demo, runner):
    before = row_counts()
    latest = db.session.scalar(select(func.max(Job.updated_at)))
    again = runner.invoke(args=["demo", "load"])
    assert again.exit_code == 0, again.output
    assert again.output.startswith("demo data already loaded")
    assert "admin@example.coop" in again.output  # the logins are shown again
    assert row_counts() == before
    assert db.session.scalar(select(func.max(Job.updated_at))) == latest


def test_the_demo_is_the_same_every_time(runner):
    def snapshot():
        jobs = db.session.scalars(select(Job).order_by(Job.id)).all()
        return [(j.title, j.coop.slug, j.visibility, j.state.value, j.posted_by.email, j.budget_min,
                 [s.slug for s in j.skills]) for j in jobs]

    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    first = snapshot()
    db.session.remove()
    _empty_all_tables()
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    assert snapshot() == first


def test_existing_data_is_left_alone(runner, networks):
    make_coop("A real co-op", {networks["cotech"]: "active"})
    settle_index()
    before = row_counts()
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0
    assert "only loaded into an empty database" in result.output
    assert row_counts() == before


def test_a_broken_demo_spec_writes_nothing(runner, monkeypatch):
    broken = data.CoopSpec("Broken Co-op", "broken", "Leeds", 2, "Broken.", ("no-such-skill",), {})
    monkeypatch.setattr(data, "COOPS", data.COOPS + (broken,))
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 1
    assert "no-such-skill" in result.output
    assert all(count == 0 for count in row_counts().values())


def test_pages_show_the_demo(demo, client):
    def newest_open(visibility):
        return db.session.scalar(
            select(Job).where(Job.visibility == visibility, Job.state == "open")
            .order_by(Job.published_at.desc())
        )

    def shows(response, job):
        return str(escape(job.title)).encode() in response.data

    public_open, cotech_open = newest_open("public"), newest_open("cotech")
    home = client.get("/")
    assert home.status_code == 200 and shows(home, public_open)
    jobs = client.get("/jobs")
    assert jobs.status_code == 200
    assert shows(jobs, public_open) and not shows(jobs, cotech_open)
    page = client.get(f"/jobs/{public_open.id}")
    assert page.status_code == 200
    assert shows(page, public_open) and str(escape(public_open.coop.name)).encode() in page.data
    assert b"<h3>What we need</h3>" in page.data
    assert client.get(f"/jobs/{cotech_open.id}").status_code == 404
    skills = client.get("/skills/")
    assert skills.status_code == 200 and b"Accessibility" in skills.data
    skill = public_open.skills[0]
    assert shows(client.get(f"/skills/{skill.slug}"), public_open)

    login(client, coop("kestrel-and-loom").members[0].user)
    assert shows(client.get("/jobs"), cotech_open)
    assert client.get(f"/jobs/{cotech_open.id}").status_code == 200


def test_some_jobs_have_evaluation_criteria(demo, client):
    from marketplace.jobs.models import JobCriterion

    criteria = db.session.scalars(select(JobCriterion)).all()
    by_job = {}
    for criterion in criteria:
        by_job.setdefault(criterion.job, []).append(criterion.weight)
    assert len(by_job) == 4 and all(sum(weights) == 100 for weights in by_job.values())
    public = [job for job in by_job if job.visibility == "public" and job.status != "draft"]
    if public:
        assert "How bids are evaluated" in client.get(f"/jobs/{public[0].id}").get_data(as_text=True)
