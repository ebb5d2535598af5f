"""Private feed tokens, external feed sources and the entries imported from them."""
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import (JSON, Boolean, Column, DateTime, ForeignKey, Index, Integer, String, Table, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql import false

from ..core.models import choice_check, choice_column, created_column, updated_column
from ..core.time import utcnow
from ..core.tokens import PersonalToken
from ..extensions import db
from ..federation.models import Visibility
from ..jobs.models import JobKind


class FeedToken(PersonalToken, db.Model):
    """A per-user secret in private feed URLs."""

    __tablename__ = "feed_token"
    AUDIT = "feed_token"
    NOUN, NOUNS = "private feed address", "private feed addresses"


class SourceKind(StrEnum):
    RSS = "rss"
    OCDS = "ocds"

    @property
    def label(self) -> str:
        return {"rss": "RSS or Atom feed", "ocds": "OCDS release package (JSON)"}[self]


feed_source_skill = Table(
    "feed_source_skill",
    db.metadata,
    Column("source_id", Integer, ForeignKey("feed_source.id", ondelete="CASCADE"), primary_key=True),
    Column("skill_id", Integer, ForeignKey("skill.id", ondelete="CASCADE"), primary_key=True),
)


class FeedSource(db.Model):
    """An external feed whose entries are imported as jobs of ``coop`` with ``visibility``."""

    __tablename__ = "feed_source"
    __table_args__ = (
        choice_check("kind", SourceKind),
        choice_check("visibility", Visibility),
        choice_check("job_kind", JobKind),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    url: Mapped[str] = mapped_column(String(1000), unique=True)
    kind: Mapped[str] = choice_column(SourceKind, default=SourceKind.RSS)
    # The co-op in whose name imported jobs appear, and who may see them.
    coop_id: Mapped[int] = mapped_column(ForeignKey("coop.id", ondelete="CASCADE"), index=True)
    visibility: Mapped[str] = choice_column(Visibility, default=Visibility.PUBLIC)
    job_kind: Mapped[str] = choice_column(JobKind, default=JobKind.LEAD)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Whether co-ops bid on its jobs here: a co-op's own feed of its own work. Otherwise the
    # entries are another organisation's notices, and bids go to the original (its link).
    bids_here: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    fetch_interval_minutes: Mapped[int] = mapped_column(Integer, default=60)
    # HTTP validators from the last good response, sent back for a conditional GET.
    etag: Mapped[str | None] = mapped_column(String(300))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    # SHA-256 of the last body parsed: a server that ignores conditional GET still costs no parsing.
    body_hash: Mapped[str | None] = mapped_column(String(64))
    last_fetched_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(Text)  # None once a fetch succeeds again
    last_error_at: Mapped[datetime | None] = mapped_column(DateTime)
    entries_seen: Mapped[int] = mapped_column(Integer, default=0)
    # The entries the last import skipped, as "title: reason" lines (None when it skipped none);
    # a 304 or an unchanged body keeps the list of the import that read it.
    last_skipped: Mapped[list[str] | None] = mapped_column(JSON)
    # Set by "Fetch now": the fetch runs in `flask feeds fetch`, never inside a web request.
    fetch_requested_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at = created_column()
    updated_at = updated_column()

    coop: Mapped["Coop"] = relationship()  # noqa: F821
    created_by: Mapped["User | None"] = relationship()  # noqa: F821
    default_skills: Mapped[list["Skill"]] = relationship(  # noqa: F821
        secondary=feed_source_skill, order_by="Skill.name"
    )

    @property
    def kind_label(self) -> str:
        return SourceKind(self.kind).label

    @property
    def visibility_label(self) -> str:
        return Visibility(self.visibility).label

    @property
    def job_kind_label(self) -> str:
        return JobKind(self.job_kind).label

    @property
    def is_failing(self) -> bool:
        """The last fetch failed: ``last_error`` holds its message until a fetch succeeds
        (``last_error_at`` stays, and every failure is in the audit log)."""
        return self.last_error is not None

    @property
    def next_fetch_at(self) -> datetime | None:
        if self.last_fetched_at is None:
            return None
        return self.last_fetched_at + timedelta(minutes=self.fetch_interval_minutes)

    def is_due(self, now: datetime | None = None) -> bool:
        now = now or utcnow()
        if self.fetch_requested_at is not None:
            return True
        return self.active and (self.next_fetch_at is None or self.next_fetch_at <= now)

    def __repr__(self) -> str:
        return f"<FeedSource {self.id} {self.name!r}>"


class ImportedEntry(db.Model):
    """One entry of a source (its GUID, OCID or link) and the job it became."""

    __tablename__ = "imported_entry"
    __table_args__ = (
        UniqueConstraint("source_id", "guid"),
        Index("ix_imported_entry_job_id", "job_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("feed_source.id", ondelete="CASCADE"))
    guid: Mapped[str] = mapped_column(String(500))
    link: Mapped[str] = mapped_column(String(1000), default="")
    job_id: Mapped[int] = mapped_column(ForeignKey("job.id", ondelete="CASCADE"))
    content_hash: Mapped[str] = mapped_column(String(64))
    # The entry as the source last sent it (``entries.raw_digest``): the same again is skipped
    # before it is read. None for entries imported before it was kept, and read in full.
    raw_hash: Mapped[str | None] = mapped_column(String(64))
    # The buyer as the source names it (OCDS buyer, an entry's author), None when it does not.
    buyer: Mapped[str | None] = mapped_column(String(300))
    # The value as the source published it, {"min", "max", "currency"}, None when it did not:
    # kept even when the job cannot hold it as its budget (another currency, over MAX_BUDGET).
    value: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    first_seen_at = created_column()
    # When the entry last changed (an unchanged entry is not written to at each fetch; the
    # source's last_success_at says when its feed was last read).
    last_seen_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    source: Mapped[FeedSource] = relationship()
    job: Mapped["Job"] = relationship()  # noqa: F821

    @property
    def value_label(self) -> str:
        """The published value in words ("118,000,000 GBP", "36,254–145,018 GBP"), or ""."""
        return value_words(self.value)


def value_words(value: dict[str, Any] | None) -> str:
    if not value:
        return ""
    low, high, currency = value.get("min"), value.get("max"), value.get("currency") or ""
    return (f"{low:,} {currency}" if low == high else f"{low:,}–{high:,} {currency}").strip()
