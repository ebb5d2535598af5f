"""Saved searches and their emails: saved from /jobs and /search, sent by `flask alerts send`
(at most once per job and recipient, however often and however many at once), holding only
jobs the recipient may see when it is sent, with one-click unsubscribe (RFC 8058)."""
import re
from datetime import datetime, timedelta
from html import unescape
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from marketplace.alerts.models import AlertDelivery, AlertOptOut, SavedSearch
from marketplace.core.time import frozen_now, utcnow
from marketplace.extensions import db
from marketplace.federation.models import NetworkMembership
from marketplace.mail import outbox
from marketplace.notifications.models import Notification

from ..conftest import login
from ..factories import make_coop, make_job, make_user
from ..matrix import SEES, STATES, VISIBILITIES, expected, world  # noqa: F401
from ..notifications.conftest import smtp_inbox  # noqa: F401  (a real SMTP server)


@pytest.fixture
def mail(app):
    app.config["MAIL_BACKEND"] = "memory"
    box = outbox(app)
    box.clear()
    return box


@pytest.fixture
def send(app, runner):
    def run():
        result = runner.invoke(args=["alerts", "send"], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output
    return run


def _save(user, query, delivery="instant", coop=None, name="My search"):
    search = SavedSearch(user=user, coop=coop, name=name, query=query, delivery=delivery,
                         sent_up_to=utcnow() - timedelta(minutes=1))
    db.session.add(search)
    db.session.commit()
    return search


def _titles(message):
    return set(re.findall(r"^(MATRIX \w+ \w+|[A-Z][^\n]*)\n  ", message.get_body(("plain",)).get_content(), re.M))


def _body(message):
    return message.get_body(("plain",)).get_content()


# --- saving ---------------------------------------------------------------------------------------

def test_a_search_is_saved_from_the_jobs_list_and_the_search_page(client, networks, skills):
    coop = make_coop("Poster", {networks["cotech"]: "active"})
    user = make_user(coops=[coop])
    make_job(coop, "public", "open", title="Garden website", skills=[skills["python"]])
    login(client, user)
    html = client.get("/jobs?skill=python&kind=tender").get_data(as_text=True)
    link = re.search(r'<a href="(/alerts/new\?[^"]+)">Email me new jobs like these</a>', html).group(1)
    form = client.get(link.replace("&amp;", "&"))
    assert form.status_code == 200 and 'value="Open jobs: Python, Tender"' in form.get_data(as_text=True)
    response = client.post("/alerts/new", data={"name": "Python tenders", "delivery": "daily", "audience": "me",
                                                 "query": "kind=tender&skill=python"})
    assert response.status_code == 302
    saved = db.session.scalars(select(SavedSearch)).one()
    assert (saved.name, saved.query, saved.delivery, saved.coop_id) == ("Python tenders", "kind=tender&skill=python",
                                                                          "daily", None)
    html = client.get("/search?q=garden").get_data(as_text=True)
    assert 'href="/alerts/new?q=garden"' in html
    listed = client.get("/alerts/").get_data(as_text=True)
    assert "Python tenders" in listed and "A daily digest" in listed


def test_bad_searches_and_forms_are_refused_with_a_message(client, networks):
    coop = make_coop("Poster", {networks["cotech"]: "active"})
    other = make_coop("Someone else's", {networks["cotech"]: "active"})
    login(client, make_user(coops=[coop]))
    assert client.get("/alerts/new?skill=cobol", follow_redirects=True).status_code == 200
    response = client.post("/alerts/new", data={"name": "x", "delivery": "daily", "audience": str(other.id),
                                                 "query": "kind=tender"})
    assert response.status_code == 422 and "Not a valid choice" in response.get_data(as_text=True)
    response = client.post("/alerts/new", data={"name": "x", "delivery": "daily", "audience": "me",
                                                 "query": "kind=banana"})
    assert response.status_code == 422 and "cannot be saved" in response.get_data(as_text=True)
    response = client.post("/alerts/new", data={"name": " ", "delivery": "hourly", "audience": "me",
                                                 "query": "kind=tender"})
    assert response.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(SavedSearch)) == 0
    assert client.get("/alerts/new").status_code == 200  # no arguments: every open job


def test_only_its_author_or_a_coop_admin_changes_a_saved_search(client, networks):
    coop = make_coop("Poster", {networks["cotech"]: "active"})
    author, member, admin = make_user(coops=[coop]), make_user(coops=[coop]), make_user(coops={coop: "admin"})
    search = _save(author, "kind=tender", coop=coop)
    login(client, make_user())
    assert client.get(f"/alerts/{search.id}").status_code == 404
    login(client, member)
    assert client.get(f"/alerts/{search.id}").status_code == 403
    login(client, admin)
    response = client.post(f"/alerts/{search.id}", data={"name": "Tenders", "delivery": "weekly", "paused": "y"})
    assert response.status_code == 302
    db.session.refresh(search)
    assert (search.name, search.delivery, search.paused) == ("Tenders", "weekly", True)
    search_id = search.id
    assert client.post(f"/alerts/{search_id}/delete").status_code == 302
    db.session.expire_all()
    assert db.session.get(SavedSearch, search_id) is None


# --- sending ----------------------------------------------------------------------------------------

def test_new_jobs_are_sent_once_with_one_click_unsubscribe(client, networks, mail, send):
    coop = make_coop("Poster", {networks["cotech"]: "active"})
    user = make_user(coops=[coop])
    search = _save(user, "q=orchard")
    make_job(coop, "public", "open", title="Orchard website", published_at=utcnow())
    make_job(coop, "public", "open", title="Housing website", published_at=utcnow())
    make_job(coop, "public", "open", title="Old orchard job", published_at=utcnow() - timedelta(days=3))
    assert "1 email with 1 job" in send()
    (message,) = mail
    assert message["To"] == user.email and "Orchard website" in _body(message)
    assert "Housing" not in _body(message) and "Old orchard" not in _body(message)
    unsubscribe = message["List-Unsubscribe"].strip("<>")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # The email's job is also an in-app notice, read on the notifications page.
    login(client, user)
    page = unescape(client.get("/notifications/").get_data(as_text=True))
    assert "New for “My search”: Orchard website" in page and "Housing" not in page
    assert "0 emails" in send() and len(mail) == 1  # sent once
    make_job(coop, "public", "open", title="Orchard pruning", published_at=utcnow())
    send()
    assert len(mail) == 2 and "Orchard pruning" in _body(mail[1]) and "Orchard website" not in _body(mail[1])
    # A mail client's one-click POST (no session, no CSRF token) stops the emails.
    response = client.post(urlsplit(unsubscribe).path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    db.session.refresh(search)
    assert search.paused
    make_job(coop, "public", "open", title="Orchard survey", published_at=utcnow())
    send()
    assert len(mail) == 2
    assert client.post(urlsplit(unsubscribe).path[:-3] + "xyz").status_code == 404


def test_a_coop_search_reaches_every_member_but_those_who_opt_out(client, networks, mail, send):
    coop = make_coop("Poster", {networks["cotech"]: "active"})
    author, member, leaver = make_user(coops=[coop]), make_user(coops=[coop]), make_user(coops=[coop])
    _save(author, "kind=tender", coop=coop)
    make_job(coop, "public", "open", title="Tender one", published_at=utcnow())
    send()
    assert {m["To"] for m in mail} == {author.email, member.email, leaver.email}
    link = next(m for m in mail if m["To"] == leaver.email)["List-Unsubscribe"].strip("<>")
    assert client.get(urlsplit(link).path).status_code == 200  # asks first
    client.post(urlsplit(link).path)
    assert db.session.scalar(select(func.count()).select_from(AlertOptOut)) == 1
    mail.clear()
    make_job(coop, "public", "open", title="Tender two", published_at=utcnow())
    send()
    assert {m["To"] for m in mail} == {author.email, member.email}


def test_digests_go_once_a_day_or_a_week_in_the_morning(networks, mail, send):
    """The daily digest goes at the first sending from ALERTS_DIGEST_HOUR (07:00 in the site's
    time zone) each day, the weekly one seven days after the last."""
    coop = make_coop("Poster", {networks["cotech"]: "active"})
    user = make_user(coops=[coop])
    monday_noon = datetime(2026, 6, 1, 11, 0)  # 12:00 in London (summer time)
    with frozen_now(monday_noon):
        _save(user, "kind=tender", "daily")
        _save(user, "kind=tender", "weekly", name="Weekly")
        make_job(coop, "public", "open", title="A tender", published_at=utcnow())
        send()
    assert mail == []  # already sent today, as far as the digests go
    with frozen_now(datetime(2026, 6, 2, 5, 30)):  # 06:30 in London: too early
        send()
    assert mail == []
    with frozen_now(datetime(2026, 6, 2, 6, 5)):  # 07:05 in London
        send()
        send()
    assert [m["Subject"] for m in mail] == ["[CoTech Marketplace] 1 new job: My search"]
    with frozen_now(datetime(2026, 6, 8, 6, 5)):
        make_job(coop, "public", "open", title="Another tender", published_at=utcnow())
        send()
    assert sorted(m["Subject"].split(": ")[1] for m in mail[1:]) == ["My search", "Weekly"]
    assert "A tender" in _body(mail[-1]) and "Another tender" in _body(mail[-1])  # the week's news


def test_what_is_sent_is_what_the_recipient_may_see_when_it_is_sent(networks, mail, send):
    """Saved while a CoTech member; the membership is pending when the alert goes: no CoTech job."""
    cotech = networks["cotech"]
    poster = make_coop("Poster", {cotech: "active"})
    reader_coop = make_coop("Reader", {cotech: "active"})
    reader = make_user(coops=[reader_coop])
    _save(reader, "q=orchard")
    make_job(poster, "cotech", "open", title="Orchard members", published_at=utcnow())
    make_job(poster, "public", "open", title="Orchard public", published_at=utcnow())
    membership = db.session.scalars(select(NetworkMembership).where(NetworkMembership.coop_id == reader_coop.id)).one()
    membership.status = "pending"
    db.session.commit()
    send()
    (message,) = mail
    assert "Orchard public" in _body(message) and "Orchard members" not in _body(message)


@pytest.mark.parametrize("kind", [k for k in SEES if k != "anonymous"])
def test_alerts_follow_the_visibility_rule(world, mail, send, kind):  # noqa: F811
    """The visibility matrix, through alerts: a saved search of every job; the email holds
    exactly the open jobs the recipient may see."""
    user = world["users"][kind]
    _save(user, "q=matrix")
    for job in world["jobs"].values():
        if job.published_at is not None:
            job.published_at = utcnow()
    db.session.commit()
    send()
    want = {f"MATRIX {v} open" for v in VISIBILITIES if expected(kind, v, "open")}
    got = set(re.findall(r"MATRIX \w+ \w+", "".join(_body(m) for m in mail)))
    assert got == want, kind
    # The same items as in-app notices.
    notices = db.session.scalars(select(Notification.message).where(Notification.user_id == user.id)).all()
    assert set(re.findall(r"MATRIX \w+ \w+", " ".join(notices))) == want, kind


def test_two_senders_at_once_send_each_job_once(app, networks, mail):
    """Claims are unique per search, recipient and job: a second sender finds them taken."""
    from marketplace.alerts import sending

    coop = make_coop("Poster", {networks["cotech"]: "active"})
    user = make_user(coops=[coop])
    search = _save(user, "q=orchard")
    job = make_job(coop, "public", "open", title="Orchard website", published_at=utcnow())
    assert sending._claim({search.id: [(user, [job])]}) == {(search.id, user.id, job.id)}
    assert sending._claim({search.id: [(user, [job])]}) == set()
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(AlertDelivery)) == 1


@pytest.mark.postgres_only
def test_two_sending_processes_at_once_send_each_job_once(app, networks, tmp_path):
    """Two `flask alerts send` started together (cron overlapping a slow run): every job
    reaches every recipient once, in the emails of one process or the other."""
    import os
    import subprocess
    import sys

    coop = make_coop("Poster", {networks["cotech"]: "active"})
    members = [make_user(coops=[coop]) for _ in range(6)]
    _save(members[0], "kind=tender", coop=coop)
    for n in range(5):
        make_job(coop, "public", "open", title=f"Tender {n}", published_at=utcnow())
    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "SECRET_KEY": app.config["SECRET_KEY"],
           "MAIL_BACKEND": "console", "SEARCH_INDEX_PATH": str(tmp_path / "index")}
    command = [sys.executable, "-m", "flask", "--app", "marketplace", "alerts", "send"]
    processes = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                 for _ in range(2)]
    outputs = [p.communicate(timeout=120)[0] for p in processes]
    assert all(p.returncode == 0 for p in processes), outputs
    sent = [re.findall(r"^Subject: .*", out, re.M) for out in outputs]
    jobs = sum(len(re.findall(r"^Tender \d$", out, re.M)) for out in outputs)
    assert sum(len(s) for s in sent) == 6 and jobs == 6 * 5, outputs
    assert db.session.scalar(select(func.count()).select_from(AlertDelivery)) == 6 * 5


def test_every_coop_with_skills_gets_its_skill_match_without_asking(client, networks, skills, mail, send):
    """A daily digest of new jobs with any of the co-op's skills (read when it is sent) to every
    member; one click on the co-op's saved searches page stops it for oneself."""
    cotech = networks["cotech"]
    coop = make_coop("Coders", {cotech: "active"}, skills=[skills["python"], skills["devops"]])
    make_coop("No skills listed", {cotech: "active"})
    first, second = make_user(coops=[coop]), make_user(coops=[coop])
    poster = make_coop("Poster", {cotech: "active"})
    monday = datetime(2026, 6, 1, 9, 0)
    with frozen_now(monday):
        send()
    searches = db.session.scalars(select(SavedSearch)).all()
    assert [(s.coop_id, s.match_skills, s.delivery) for s in searches] == [(coop.id, True, "daily")]
    with frozen_now(monday + timedelta(hours=2)):
        make_job(poster, "public", "open", title="Python API", skills=[skills["python"]], published_at=utcnow())
        make_job(poster, "cotech", "open", title="DevOps audit", skills=[skills["devops"]], published_at=utcnow())
        make_job(poster, "public", "open", title="Web design", skills=[skills["web-design"]], published_at=utcnow())
    with frozen_now(monday + timedelta(days=1)):
        send()
    assert {m["To"] for m in mail} == {first.email, second.email}
    assert {t for t in ("Python API", "DevOps audit", "Web design") if t in _body(mail[0])} == {"Python API",
                                                                                                 "DevOps audit"}
    login(client, second)
    listed = unescape(client.get("/alerts/").get_data(as_text=True))
    assert "New jobs matching our co-op's skills" in listed and "Stop sending it to me" in listed
    client.post(f"/alerts/{searches[0].id}/getting", data={"getting": "no"})
    mail.clear()
    with frozen_now(monday + timedelta(days=1, hours=2)):
        make_job(poster, "public", "open", title="Python app", skills=[skills["python"]], published_at=utcnow())
    with frozen_now(monday + timedelta(days=2)):
        send()
    assert [m["To"] for m in mail] == [first.email]


def test_the_private_calendar_holds_the_deadlines_of_followed_jobs_one_may_see(client, networks):
    import icalendar

    from marketplace.bids import services as bids
    from marketplace.feeds import services as feed_services
    from marketplace.jobs import services as jobs

    cotech, workers = networks["cotech"], networks["workers-coop"]
    poster = make_coop("Poster", {cotech: "active", workers: "active"})
    mine = make_coop("Mine", {workers: "active"})
    me, poster_user = make_user(coops=[mine]), make_user(coops=[poster])
    followed = make_job(poster, "federation", "open", title="Followed job")
    make_job(poster, "public", "open", title="Not followed")
    own = make_job(mine, "public", "open", title="Our own job")
    bids.register_interest(followed, mine, me, followed.bids_deadline.date())
    _, token = feed_services.create_token(me, "calendar")
    db.session.commit()

    def events():
        response = client.get(f"/alerts/calendar/{token}.ics")
        assert response.status_code == 200 and response.mimetype == "text/calendar"
        cal = icalendar.Calendar.from_ical(response.data)
        return {(str(e["summary"]), e.decoded("dtstart").replace(tzinfo=None)) for e in cal.walk("VEVENT")}

    assert events() == {
        ("Questions close: Followed job", followed.questions_deadline), ("Bids close: Followed job", followed.bids_deadline),
        ("Questions close: Our own job", own.questions_deadline), ("Bids close: Our own job", own.bids_deadline),
    }
    jobs.update_job(followed, poster_user, {"visibility": "cotech"}, None)  # no longer for workers.coop members
    db.session.commit()
    assert {s for s, _ in events()} == {"Questions close: Our own job", "Bids close: Our own job"}
    from marketplace.feeds.models import FeedToken

    row = db.session.scalars(select(FeedToken)).one()
    feed_services.revoke_token(row, me)
    db.session.commit()
    assert client.get(f"/alerts/calendar/{token}.ics").status_code == 404


@pytest.mark.parametrize("kind", ["cotech_only", "workers_only", "both", "guest", "pending", "ended", "poster"])
def test_the_calendar_follows_the_visibility_rule(client, world, kind):  # noqa: F811
    """The visibility matrix, through the calendar: the co-op's interest recorded in every job
    (as if it had been allowed), the calendar holds exactly the open ones its owner may see."""
    import icalendar

    from marketplace.bids.models import Interest
    from marketplace.feeds import services as feed_services

    user = world["users"][kind]
    coop_id = user.coop_links[0].coop_id
    for job in world["jobs"].values():
        if job.coop_id != coop_id:
            db.session.add(Interest(job_id=job.id, coop_id=coop_id, bid_by=job.bids_deadline.date()))
    _, token = feed_services.create_token(user, "calendar")
    db.session.commit()
    cal = icalendar.Calendar.from_ical(client.get(f"/alerts/calendar/{token}.ics").data)
    seen = {str(e["summary"]).split(": ", 1)[1] for e in cal.walk("VEVENT")}
    assert seen == {f"MATRIX {v} open" for v in VISIBILITIES if expected(kind, v, "open")}, kind


def test_alerts_go_through_a_real_smtp_server_and_a_failure_is_reported(app, runner, networks, smtp_inbox):  # noqa: F811
    coop = make_coop("Poster", {networks["cotech"]: "active"})
    user = make_user(coops=[coop])
    _save(user, "q=orchard")
    make_job(coop, "public", "open", title="Orchard website", published_at=utcnow())
    result = runner.invoke(args=["alerts", "send"])
    assert result.exit_code == 0, result.output
    (message,) = smtp_inbox.to(user.email)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "Orchard website" in message.get_body(("plain",)).get_content()
    assert "Orchard website" in message.get_body(("html",)).get_content()
    # The mail server goes away: the command says which email was not sent and exits 1.
    app.config["MAIL_PORT"] = 1
    make_job(coop, "public", "open", title="Orchard pruning", published_at=utcnow())
    result = runner.invoke(args=["alerts", "send"])
    assert result.exit_code == 1 and "not sent: saved search" in result.output and user.email in result.output


def _calendar_titles(client, user):
    import icalendar

    from marketplace.feeds import services as feed_services

    _, token = feed_services.create_token(user, "calendar")
    db.session.commit()
    response = client.get(f"/alerts/calendar/{token}.ics")
    assert response.status_code == 200
    return {str(e["summary"]) for e in icalendar.Calendar.from_ical(response.data).walk("VEVENT")}


def test_the_calendar_holds_the_jobs_ones_saved_searches_find(client, networks):
    coop = make_coop("Poster", {networks["cotech"]: "active"})
    me = make_user(coops=[make_coop("Mine", {networks["cotech"]: "active"})])
    make_job(coop, "public", "open", title="Orchard website")
    make_job(coop, "public", "closed", title="Orchard survey")
    make_job(coop, "public", "open", title="Housing website")
    search = _save(me, "q=orchard", "feed")
    assert _calendar_titles(client, me) == {"Questions close: Orchard website", "Bids close: Orchard website"}
    search.paused = True
    db.session.commit()
    assert _calendar_titles(client, me) == set()


@pytest.mark.parametrize("kind", [k for k in SEES if k != "anonymous"])
def test_saved_searches_in_the_calendar_follow_the_visibility_rule(client, world, kind):  # noqa: F811
    """The visibility matrix, through the calendar's saved searches: a search of every job."""
    user = world["users"][kind]
    _save(user, "q=matrix", "feed")
    seen = {title.split(": ", 1)[1] for title in _calendar_titles(client, user)}
    assert seen == {f"MATRIX {v} open" for v in VISIBILITIES if expected(kind, v, "open")}, kind
