"""Notifications: what happened that a person should know, and which of them they want by email."""
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.models import choice_check, choice_column, created_column
from ..extensions import db


class NotificationKind(StrEnum):
    QUESTION_ASKED = "question_asked"
    QUESTION_ANSWERED = "question_answered"
    BID_RECEIVED = "bid_received"
    BIDS_CLOSED = "bids_closed"
    BID_SHORTLISTED = "bid_shortlisted"
    BID_AWARDED = "bid_awarded"
    BID_UNSUCCESSFUL = "bid_unsuccessful"
    JOB_CHANGED = "job_changed"
    JOB_WITHDRAWN = "job_withdrawn"
    TEAM_INVITED = "team_invited"
    TEAM_CHANGED = "team_changed"
    INVITED_TO_BID = "invited_to_bid"
    INTEREST_LAPSING = "interest_lapsing"
    DEADLINE_NEAR = "deadline_near"
    QUESTIONS_WAITING = "questions_waiting"
    AWARD_DUE = "award_due"
    SAVED_SEARCH = "saved_search"
    WEEKLY_DIGEST = "weekly_digest"
    FEEDBACK_REQUESTED = "feedback_requested"

    @property
    def label(self) -> str:
        """What the email settings page calls this kind."""
        return KIND_LABELS[self]

    @property
    def has_email_setting(self) -> bool:
        """Alerts have their own emails, stopped on /alerts/ or by their unsubscribe link."""
        return self not in (NotificationKind.SAVED_SEARCH, NotificationKind.WEEKLY_DIGEST)


KIND_LABELS = {
    NotificationKind.QUESTION_ASKED: "A question was asked on a job your co-op posted",
    NotificationKind.QUESTION_ANSWERED: "A question was answered on a job your co-op is interested in or bid on",
    NotificationKind.BID_RECEIVED: "A job your co-op posted received a bid (the count only)",
    NotificationKind.BIDS_CLOSED: "Bids closed on a job your co-op posted",
    NotificationKind.BID_SHORTLISTED: "Your co-op's bid was shortlisted",
    NotificationKind.BID_AWARDED: "Your co-op's bid was awarded",
    NotificationKind.BID_UNSUCCESSFUL: "Your co-op's bid was unsuccessful",
    NotificationKind.JOB_CHANGED: "A job your co-op is interested in or bid on changed",
    NotificationKind.JOB_WITHDRAWN: "A job your co-op is interested in or bid on was withdrawn or cancelled",
    NotificationKind.TEAM_INVITED: "Your co-op was invited to join a consortium",
    NotificationKind.TEAM_CHANGED: "A consortium your co-op is in changed (members, shares, its bid)",
    NotificationKind.INVITED_TO_BID: "Your co-op was invited to bid on a job",
    NotificationKind.INTEREST_LAPSING: "Your co-op's interest in a job lapses in two days",
    NotificationKind.DEADLINE_NEAR: "Bids close in two days on a job your co-op means to bid on",
    NotificationKind.QUESTIONS_WAITING: "Questions wait for an answer on a job your co-op posted",
    NotificationKind.AWARD_DUE: "Bids closed a week (and four weeks) ago on a job your co-op has not awarded",
    NotificationKind.SAVED_SEARCH: "A new job matches a saved search you get",
    NotificationKind.WEEKLY_DIGEST: "Your co-op's weekly digest",
    NotificationKind.FEEDBACK_REQUESTED: "An unsuccessful bidder asked for feedback on a job your co-op awarded",
}

SETTABLE_KINDS = tuple(kind for kind in NotificationKind if kind.has_email_setting)


class Notification(db.Model):
    __tablename__ = "notification"
    __table_args__ = (
        choice_check("kind", NotificationKind),
        # The bell's unread count and the newest-first list, per user.
        Index("ix_notification_user_id_read_at", "user_id", "read_at"),
        Index("ix_notification_user_id_id", "user_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    kind: Mapped[str] = choice_column(NotificationKind)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("job.id", ondelete="CASCADE"), index=True)
    message: Mapped[str] = mapped_column(String(500))
    # Where the notification leads, as a path on this site.
    url: Mapped[str] = mapped_column(String(500), default="")
    created_at = created_column()
    read_at: Mapped[datetime | None] = mapped_column(DateTime)

    user: Mapped["User"] = relationship()  # noqa: F821
    job: Mapped["Job | None"] = relationship()  # noqa: F821

    @property
    def is_read(self) -> bool:
        return self.read_at is not None

    def __repr__(self) -> str:
        return f"<Notification {self.id} {self.kind} user={self.user_id}>"


class NotificationSetting(db.Model):
    """Whether a user wants one kind of notification by email too (no row: yes)."""

    __tablename__ = "notification_setting"
    __table_args__ = (choice_check("kind", NotificationKind),)

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = choice_column(NotificationKind, primary_key=True)
    email: Mapped[bool] = mapped_column(Boolean, default=True)
