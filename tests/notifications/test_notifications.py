"""Notifications: the bell, the page, marking read, email settings, and the emails
themselves, received by a real SMTP server on loopback."""
from flask import render_template_string
from flask_login import login_user
from sqlalchemy import select

from marketplace.audit.models import AuditEvent
from marketplace.bids.models import Bid
from marketplace.extensions import db
from marketplace.federation import current_viewer
from marketplace.mail import outbox
from marketplace.notifications.models import Notification, NotificationSetting
from marketplace.notifications.services import notify

from ..bids.conftest import bid_data, client_for
from ..factories import make_user
from ..factories import counted_statements

BELL = '{% from "notifications/_bell.html" import bell %}{{ bell() }}'


def notes(user):
    return db.session.scalars(select(Notification).where(Notification.user_id == user.id)
                              .order_by(Notification.id)).all()


def render_bell(app, user=None):
    """The bell as a page renders it, counting the statements it costs."""
    with app.test_request_context("/"):
        app.preprocess_request()  # a fresh per-request cache, as for a real request
        if user is not None:
            login_user(user)
            current_viewer()  # every page has computed it already (base.html uses it)
        with counted_statements() as statements:
            html = render_template_string(BELL)
    return html, statements


def test_the_bell(app, job, poster, alpha_user):
    html, statements = render_bell(app)
    assert html.strip() == "" and statements == []
    html, statements = render_bell(app, poster)
    assert "Notifications" in html and "unread" not in html and len(statements) == 1
    client_for(app, alpha_user).post(f"/jobs/{job.id}/bid", data=bid_data(job))
    html, statements = render_bell(app, poster)
    assert '<span class="badge">1<span class="visually-hidden"> unread</span>' in html
    assert len(statements) == 1


def test_the_page_and_marking_read(app, job, poster, alpha_user, beta_user):
    client_for(app, alpha_user).post(f"/jobs/{job.id}/bid", data=bid_data(job))
    client_for(app, beta_user).post(f"/jobs/{job.id}/bid", data=bid_data(job))
    first, second = notes(poster)
    poster_client = client_for(app, poster)
    html = poster_client.get("/notifications/").get_data(as_text=True)
    assert "received a bid (1 so far)" in html and "received a bid (2 so far)" in html
    assert html.count("<strong>New:</strong>") == 2
    # Someone else's notification is not there to mark.
    assert client_for(app, alpha_user).post(f"/notifications/{first.id}/read").status_code == 404
    assert poster_client.post(f"/notifications/{first.id}/read").status_code == 302
    db.session.expire_all()
    assert first.is_read and not second.is_read
    assert poster_client.get("/notifications/").get_data(as_text=True).count("<strong>New:</strong>") == 1
    page = poster_client.post("/notifications/read-all", follow_redirects=True).get_data(as_text=True)
    assert "1 notification marked as read" in page and "<strong>New:</strong>" not in page
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("notification%"))
                                 .order_by(AuditEvent.id)).all()
    assert actions == ["notification.read", "notification.read_all"]


def test_anonymous_visitors_are_sent_to_sign_in(client):
    assert "/login" in client.get("/notifications/").headers["Location"]


def test_emails_reach_a_real_smtp_server(app, smtp_inbox, job, poster, alpha_user):
    client_for(app, alpha_user).post(f"/jobs/{job.id}/bid", data=bid_data(job, price="12345"))
    [message] = smtp_inbox.to(poster.email)
    assert job.title in message["Subject"] and "received a bid (1 so far)" in message["Subject"]
    body = message.get_content()
    assert f"{app.config['SITE_URL']}/jobs/{job.id}" in body
    assert "/notifications/settings" in body
    # Sealed: the count only, never the price or the bidder.
    assert "12345" not in body and "12,345" not in body and "Alpha" not in body
    assert smtp_inbox.to(alpha_user.email) == []


def test_email_settings(app, smtp_inbox, job, poster, alpha_user):
    poster_client = client_for(app, poster)
    form = poster_client.get("/notifications/settings").get_data(as_text=True)
    from marketplace.notifications.models import NotificationKind

    # One checkbox per kind, every one on by default; alerts are stopped on /alerts/ instead.
    kinds = len([k for k in NotificationKind if k.has_email_setting])
    assert "saved search" not in form
    assert form.count('type="checkbox"') == kinds and form.count("checked") == kinds
    wanted = ["question_asked", "bids_closed"]
    assert poster_client.post("/notifications/settings", data={"email": wanted}).status_code == 302
    settings = dict(db.session.execute(select(NotificationSetting.kind, NotificationSetting.email)
                                       .where(NotificationSetting.user_id == poster.id)).all())
    assert settings["bid_received"] is False and settings["question_asked"] is True
    assert db.session.scalar(select(AuditEvent.action).where(
        AuditEvent.action == "notification_settings.updated")) is not None
    # A bid: in the app, but no email. A question: both.
    alpha_client = client_for(app, alpha_user)
    alpha_client.post(f"/jobs/{job.id}/bid", data=bid_data(job))
    alpha_client.post(f"/jobs/{job.id}/questions", data={"text": "When do you decide?"})
    assert [n.kind for n in notes(poster)] == ["bid_received", "question_asked"]
    assert [m["Subject"] for m in smtp_inbox.to(poster.email)] == [
        f"[CoTech Marketplace] A question was asked on “{job.title}”."]
    assert poster_client.post("/notifications/settings", data={"email": ["nonsense"]}).status_code == 422


def test_nothing_is_sent_when_the_change_rolls_back(app, job, poster):
    mails = outbox(app)
    mails.clear()
    with app.test_request_context("/"):
        notify("bid_received", job, "Something happened", "/", coops=[job.coop])
        db.session.flush()
        db.session.rollback()
        assert notes(poster) == [] and mails == []
        notify("bid_received", job, "Something happened", "/", coops=[job.coop])
        db.session.commit()
    assert len(mails) == 1 and mails[0]["To"] == poster.email


def test_a_mail_server_that_is_down_does_not_undo_the_change(app, job, poster, alpha_user):
    import socket

    with socket.socket() as probe:  # a port with nobody listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    saved = dict(app.config)
    app.config.update(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_TIMEOUT=2)
    try:
        response = client_for(app, alpha_user).post(f"/jobs/{job.id}/bid", data=bid_data(job))
    finally:
        app.config.clear()
        app.config.update(saved)
    assert response.status_code == 302
    assert db.session.scalars(select(Bid.status)).all() == ["submitted"]
    assert [n.kind for n in notes(poster)] == ["bid_received"]


def test_notifications_about_a_job_one_may_no_longer_see_drop_out(app, job, poster_coop, poster, alpha, alpha_user):
    from datetime import date

    client_for(app, alpha_user).post(f"/jobs/{job.id}/interest", data={"bid_by": date.today().isoformat()})
    client_for(app, poster).post(f"/jobs/{job.id}/answers",
                                 data={"publish-text": "SECRET QUESTION", "publish-answer": "A"})
    assert [n.kind for n in notes(alpha_user)] == ["question_answered"]
    alpha_client = client_for(app, alpha_user)
    assert "SECRET QUESTION" not in alpha_client.get("/notifications/").get_data(as_text=True)
    assert job.title in alpha_client.get("/notifications/").get_data(as_text=True)
    # Alpha's CoTech membership ends: the CoTech-only job, and what was said about it, are gone.
    alpha.memberships[0].until = date(2020, 1, 1)
    db.session.commit()
    assert job.title not in alpha_client.get("/notifications/").get_data(as_text=True)
    html, _ = render_bell(app, alpha_user)
    assert "unread" not in html
    # …and nothing new reaches it.
    client_for(app, poster).post(f"/jobs/{job.id}/answers", data={"publish-text": "Q2", "publish-answer": "A2"})
    assert len(notes(alpha_user)) == 1


def test_inactive_users_are_not_notified(app, job, alpha, alpha_user):
    dormant = make_user("Dormant", coops=[alpha])
    dormant.active = False
    db.session.commit()
    with app.test_request_context("/"):
        notify("job_changed", job, "Changed", "/", coops=[alpha])
        db.session.commit()
    assert len(notes(alpha_user)) == 1 and notes(dormant) == []


def test_every_page_has_the_bell_and_the_search_box(app, client, job, poster, alpha_user):
    home = client.get("/").get_data(as_text=True)
    assert 'role="search"' in home and 'name="q"' in home
    assert "Notifications" not in home  # anonymous visitors have no bell
    client_for(app, alpha_user).post(f"/jobs/{job.id}/bid", data=bid_data(job))
    for path in ("/", "/jobs", f"/jobs/{job.id}", "/coops/", "/search?q=thing"):
        html = client_for(app, poster).get(path).get_data(as_text=True)
        assert 'role="search"' in html, path
        assert '<span class="badge">1<span class="visually-hidden"> unread</span>' in html, path
