"""The weekly digest of each co-op (`flask alerts send`): to every member, once a week from
ALERTS_WEEKLY_DAY at ALERTS_DIGEST_HOUR, with one-click stop, holding only what each member may
see when it is sent; its items also as in-app notices."""
import re
from html import unescape
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from marketplace.alerts.models import WeeklyDigestOptOut, WeeklyDigestSent
from marketplace.bids import services as bids
from marketplace.bids.models import Interest
from marketplace.core.time import frozen_now, to_local, utcnow
from marketplace.extensions import db
from marketplace.notifications.models import Notification
from marketplace.questions import services as questions
from marketplace.questions.models import Question

from ..conftest import login
from ..factories import make_coop, make_job, make_user
from ..matrix import VISIBILITIES, expected, world  # noqa: F401
from ..notifications.conftest import smtp_inbox  # noqa: F401  (a real SMTP server)
from .test_alerts import mail, send  # noqa: F401

MONDAY = datetime(2026, 6, 1, 6, 5)  # 07:05 in London, summer time


def _body(message):
    return message.get_body(("plain",)).get_content()


def _notices(user):
    return [n.message for n in db.session.scalars(
        select(Notification).where(Notification.user_id == user.id, Notification.kind == "weekly_digest")
        .order_by(Notification.id))]


@pytest.fixture
def coders(networks, skills):
    """Coders (Python), two members; a poster's new Python job; Coders' interest lapsing in three
    days on another job; a question waiting on Coders' own job."""
    cotech = networks["cotech"]
    coop = make_coop("Coders", {cotech: "active"}, skills=[skills["python"]])
    members = [make_user(coops=[coop]), make_user(coops=[coop])]
    poster = make_coop("Poster", {cotech: "active"})
    poster_user = make_user(coops=[poster])
    with frozen_now(MONDAY - timedelta(days=2)):
        make_job(poster, "public", "open", title="Python API", skills=[skills["python"]], published_at=utcnow())
        make_job(poster, "public", "open", title="Web design", skills=[skills["web-design"]], published_at=utcnow())
        make_job(poster, "public", "open", title="Old Python job", skills=[skills["python"]],
                 published_at=utcnow() - timedelta(days=10))
        lapsing = make_job(poster, "public", "open", title="Housing website")
        bids.register_interest(lapsing, coop, members[0], (MONDAY + timedelta(days=3)).date())
        later = make_job(poster, "public", "open", title="Later job", questions_deadline=MONDAY + timedelta(days=20),
                         bids_deadline=MONDAY + timedelta(days=30))
        bids.register_interest(later, coop, members[0], (MONDAY + timedelta(days=20)).date())
        own = make_job(coop, "public", "open", title="Coders' own job", skills=[skills["python"]],
                       published_at=utcnow())
        questions.ask_question(own, poster, poster_user, "Is hosting included?")
        db.session.commit()
    return {"coop": coop, "members": members}


def test_the_weekly_digest_goes_to_every_member_once_a_week_through_smtp(runner, coders, smtp_inbox):  # noqa: F811
    def run():
        result = runner.invoke(args=["alerts", "send"], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    with frozen_now(MONDAY - timedelta(minutes=10)):  # 06:55: not yet
        run()
    assert smtp_inbox.to(coders["members"][0].email) == []
    with frozen_now(MONDAY):
        assert "weekly digest" in run()
        run()  # a repeat sends nothing twice
    for member in coders["members"]:
        (message,) = smtp_inbox.to(member.email)
        assert message["Subject"] == "[CoTech Marketplace] The week for Coders"
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        text, html = _body(message), unescape(message.get_body(("html",)).get_content())
        for part in (text, html):
            assert "Python API" in part and "Housing website" in part and "Coders' own job" in part
            assert "Web design" not in part and "Old Python job" not in part and "Later job" not in part
        assert "lapses after 04 June" in text and "1 question waiting" in text
        assert "Coders' own job" not in text.split("Questions waiting")[0]  # not as new work: its own
        assert sorted(_notices(member)) == sorted([
            "Work for Coders: Python API", "Coders's interest in “Housing website” lapses after 04 June",
            "1 question on “Coders' own job” waits for an answer"])
    with frozen_now(MONDAY + timedelta(days=3)):  # later in the same week: nothing more
        run()
    assert len(smtp_inbox.to(coders["members"][0].email)) == 1
    with frozen_now(MONDAY + timedelta(days=7)):  # the next week: again (the interest, the question)
        run()
    assert len(smtp_inbox.to(coders["members"][0].email)) == 2
    assert db.session.scalar(select(func.count()).select_from(WeeklyDigestSent)
                             .where(WeeklyDigestSent.coop_id == coders["coop"].id)) == 4


def test_a_member_stops_the_digest_with_one_click_or_on_the_alerts_page(app, client, coders, mail, send):  # noqa: F811
    first, second = coders["members"]
    with frozen_now(MONDAY):
        send()
    link = next(m for m in mail if m["To"] == first.email)["List-Unsubscribe"].strip("<>")
    assert client.get(urlsplit(link).path).status_code == 200  # asks first
    assert client.post(urlsplit(link).path, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert client.post(urlsplit(link).path[:-3] + "xyz").status_code == 404
    mail.clear()
    with frozen_now(MONDAY + timedelta(days=7)):
        send()
    assert [m["To"] for m in mail if "The week" in m["Subject"]] == [second.email]
    assert len(_notices(first)) == 3  # the first week's only: stopping the email stops its notices
    login(client, first)
    page = client.get("/alerts/").get_data(as_text=True)
    assert "Coders: not to you (you stopped it)" in page and "Monday from 07:00" in page
    assert client.post(f"/alerts/weekly/{coders['coop'].id}", data={"getting": "yes"}).status_code == 302
    assert db.session.scalar(select(func.count()).select_from(WeeklyDigestOptOut)) == 0
    assert "Coders: you get it" in client.get("/alerts/").get_data(as_text=True)
    other = make_coop("Someone else's")
    assert client.post(f"/alerts/weekly/{other.id}", data={"getting": "no"}).status_code == 404
    assert db.session.scalar(select(func.count()).select_from(WeeklyDigestOptOut)) == 0


def test_a_bad_weekly_day_is_refused_with_a_message(app, runner, coders, monkeypatch):
    monkeypatch.setitem(app.config, "ALERTS_WEEKLY_DAY", 9)
    result = runner.invoke(args=["alerts", "send"])
    assert result.exit_code == 1 and "ALERTS_WEEKLY_DAY must be 1 (Monday) to 7 (Sunday), not 9" in result.output


@pytest.mark.postgres_only
def test_two_sending_processes_at_once_send_each_digest_once(app, networks, skills, tmp_path):
    """Two `flask alerts send` started together: each member gets the week's digest once."""
    import os
    import subprocess
    import sys

    coop = make_coop("Coders", {networks["cotech"]: "active"}, skills=[skills["python"]])
    make_user(coops=[coop]), make_user(coops=[coop])
    make_job(make_coop("Poster", {networks["cotech"]: "active"}), "public", "open", title="Python API",
             skills=[skills["python"]], published_at=utcnow())

    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "SECRET_KEY": app.config["SECRET_KEY"],
           "MAIL_BACKEND": "console", "SEARCH_INDEX_PATH": str(tmp_path / "index"),
           "ALERTS_WEEKLY_DAY": str(to_local(utcnow()).isoweekday()), "ALERTS_DIGEST_HOUR": "0"}
    command = [sys.executable, "-m", "flask", "--app", "marketplace", "alerts", "send"]
    processes = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                 for _ in range(2)]
    outputs = [p.communicate(timeout=120)[0] for p in processes]
    assert all(p.returncode == 0 for p in processes), outputs
    subjects = re.findall(r"^Subject: .*The week for Coders$", "".join(outputs), re.M)
    assert len(subjects) == 2, outputs


@pytest.mark.parametrize("kind", ["cotech_only", "workers_only", "both", "guest", "pending", "ended", "poster"])
def test_the_weekly_digest_follows_the_visibility_rule(app, world, mail, send, monkeypatch, kind):  # noqa: F811
    """The visibility matrix, through the weekly digest and its notices: the co-op has the jobs'
    skill, an interest lapsing in every other co-op's job (as if it had been allowed) and a
    question waiting on each of its own; it is told exactly of the open jobs its member may see."""
    monkeypatch.setitem(app.config, "ALERTS_WEEKLY_DAY", to_local(utcnow()).isoweekday())
    monkeypatch.setitem(app.config, "ALERTS_DIGEST_HOUR", 0)
    user = world["users"][kind]
    coop = user.coop_links[0].coop
    coop.skills.append(world["skill"])
    for job in world["jobs"].values():
        if job.published_at is not None:
            job.published_at = utcnow() - timedelta(hours=1)
        if job.coop_id != coop.id:
            db.session.add(Interest(job_id=job.id, coop_id=coop.id, bid_by=(utcnow() + timedelta(days=3)).date()))
        else:
            db.session.add(Question(job_id=job.id, coop_id=None, text="Is hosting included?"))
    db.session.commit()
    send()
    want = {f"MATRIX {v} open" for v in VISIBILITIES if expected(kind, v, "open")}
    (message,) = [m for m in mail if m["To"] == user.email]
    assert set(re.findall(r"MATRIX \w+ \w+", _body(message))) == want, kind
    assert set(re.findall(r"MATRIX \w+ \w+", " ".join(_notices(user)))) == want, kind
