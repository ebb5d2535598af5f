"""The skill taxonomy: tags with a group and synonyms."""
from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db


class Skill(db.Model):
    __tablename__ = "skill"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    group: Mapped[str] = mapped_column(String(120), index=True)
    # Semicolon-separated alternative names ("ux research;usability testing").
    synonyms: Mapped[str] = mapped_column(Text, default="")

    coops: Mapped[list["Coop"]] = relationship(  # noqa: F821
        secondary="coop_skill", back_populates="skills", order_by="Coop.name"
    )

    @property
    def synonym_list(self) -> list[str]:
        return [s.strip() for s in (self.synonyms or "").split(";") if s.strip()]

    def __repr__(self) -> str:
        return f"<Skill {self.slug}>"
