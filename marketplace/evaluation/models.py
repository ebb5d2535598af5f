"""A scorer's score of a bid on one of its job's criteria."""
from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.models import created_column, updated_column
from ..extensions import db

MAX_SCORE = 10  # scores are whole numbers from 0 to MAX_SCORE


class BidScore(db.Model):
    """One row per (bid, scorer, criterion): two scorers at once each write their own rows,
    and one scorer's second submission at once finds the first's rows (the unique constraint)."""

    __tablename__ = "bid_score"
    __table_args__ = (
        UniqueConstraint("bid_id", "scorer_id", "criterion_id"),
        CheckConstraint(f"score BETWEEN 0 AND {MAX_SCORE}", name="score_range"),
        Index("ix_bid_score_criterion_id", "criterion_id"),
        Index("ix_bid_score_scorer_id", "scorer_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    bid_id: Mapped[int] = mapped_column(ForeignKey("bid.id", ondelete="CASCADE"))
    criterion_id: Mapped[int] = mapped_column(ForeignKey("job_criterion.id", ondelete="CASCADE"))
    scorer_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at = created_column()
    updated_at = updated_column()

    bid: Mapped["Bid"] = relationship()  # noqa: F821
    criterion: Mapped["JobCriterion"] = relationship()  # noqa: F821
    scorer: Mapped["User"] = relationship()  # noqa: F821

    def __repr__(self) -> str:
        return f"<BidScore bid={self.bid_id} scorer={self.scorer_id} criterion={self.criterion_id} {self.score}>"
