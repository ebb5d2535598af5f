"""Saved searches, who opted out of a co-op's, and what each recipient has been sent."""
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, DateTime, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql import false

from ..core.models import choice_check, choice_column, created_column
from ..extensions import db


class Delivery(StrEnum):
    INSTANT = "instant"
    DAILY = "daily"
    WEEKLY = "weekly"
    FEED = "feed"

    @property
    def label(self) -> str:
        return {"instant": "As soon as a job is posted", "daily": "A daily digest",
                "weekly": "A weekly digest", "feed": "No email: I read its feed"}[self]


class SavedSearch(db.Model):
    """A /jobs or /search query a user saved for themselves, or for their co-op (then every
    member of the co-op gets it, unless they opted out)."""

    __tablename__ = "saved_search"
    __table_args__ = (choice_check("delivery", Delivery),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Its author; None for a co-op's skill match, which every co-op has without asking.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    coop_id: Mapped[int | None] = mapped_column(ForeignKey("coop.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    query: Mapped[str] = mapped_column(String(1000))  # the query string, as feeds.queries keeps it
    delivery: Mapped[str] = choice_column(Delivery, default=Delivery.DAILY)
    paused: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # A co-op's skill match: new jobs with any of the co-op's skills (as they are when it is sent).
    match_skills: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = created_column()
    # Jobs published after this are news to the search (its creation, then each sending).
    sent_up_to: Mapped[datetime] = mapped_column(DateTime)

    user: Mapped["User | None"] = relationship()  # noqa: F821
    coop: Mapped["Coop | None"] = relationship()  # noqa: F821

    @property
    def delivery_label(self) -> str:
        return Delivery(self.delivery).label


class AlertOptOut(db.Model):
    """A member who unsubscribed from their co-op's saved search."""

    __tablename__ = "alert_opt_out"

    saved_search_id: Mapped[int] = mapped_column(ForeignKey("saved_search.id", ondelete="CASCADE"),
                                                 primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)


class AlertDelivery(db.Model):
    """One job sent to one recipient by one saved search: claimed before the email leaves, so
    that however often ``flask alerts send`` runs, and however many run at once, it is sent at
    most once."""

    __tablename__ = "alert_delivery"
    __table_args__ = (UniqueConstraint("saved_search_id", "user_id", "job_id", name="uq_alert_delivery"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    saved_search_id: Mapped[int] = mapped_column(ForeignKey("saved_search.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("job.id", ondelete="CASCADE"), index=True)
    sent_at: Mapped[datetime] = created_column()


class ReminderSent(db.Model):
    """A reminder given (``alerts.reminders``): once per kind, job, co-op and step (the interest's
    date, the deadline, the newest question waiting, the days since bids closed)."""

    __tablename__ = "reminder_sent"
    __table_args__ = (UniqueConstraint("kind", "job_id", "coop_id", "step", name="uq_reminder_sent"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    job_id: Mapped[int] = mapped_column(ForeignKey("job.id", ondelete="CASCADE"), index=True)
    coop_id: Mapped[int] = mapped_column(ForeignKey("coop.id", ondelete="CASCADE"))
    step: Mapped[str] = mapped_column(String(40))
    sent_at: Mapped[datetime] = created_column()


class WeeklyDigestOptOut(db.Model):
    """A member who stopped their co-op's weekly digest (every member gets it otherwise)."""

    __tablename__ = "weekly_digest_opt_out"

    coop_id: Mapped[int] = mapped_column(ForeignKey("coop.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)


class WeeklyDigestSent(db.Model):
    """A co-op's weekly digest given to one member for one week (``2026-W23``, the site's time
    zone): claimed before the email leaves, so that it goes at most once."""

    __tablename__ = "weekly_digest_sent"
    __table_args__ = (UniqueConstraint("coop_id", "user_id", "week", name="uq_weekly_digest_sent"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    coop_id: Mapped[int] = mapped_column(ForeignKey("coop.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    week: Mapped[str] = mapped_column(String(10))
    sent_at: Mapped[datetime] = created_column()
