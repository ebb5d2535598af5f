"""Index documents: what a job or a co-op profile looks like to the search, for every backend.

A document is rebuilt from the database whenever its object changes; it carries the
object's audience tokens (``marketplace.federation.audience_of``), so the search can filter
by the visibility rule without knowing it.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import selectinload

from ..coops.models import Coop
from ..core.time import utcnow
from ..extensions import db
from ..federation import audience_of
from ..federation.models import Visibility
from ..federation.policy import visibility_token
from ..jobs.models import BudgetType, Job, JobKind, JobState, JobStatus, WorkMode

if TYPE_CHECKING:
    from sqlalchemy import Case
    from sqlalchemy.orm import Session
    from sqlalchemy.orm.strategy_options import _AbstractLoad

    from ..skills.models import Skill

JOB = "job"
COOP = "coop"
KINDS = (JOB, COOP)
MODELS: dict[str, type[Job] | type[Coop]] = {JOB: Job, COOP: Coop}

# Snippets come from the summary and the start of the description.
EXCERPT_CHARS = 1200

# Budget bands, by the higher end of the budget (or its only amount). Day rates are a band
# of their own: a day rate and a fixed price cannot be compared.
BUDGET_BANDS: tuple[tuple[str, str, int | None], ...] = (
    ("up-to-5k", "Up to 5,000", 5_000),
    ("5k-20k", "5,000 to 20,000", 20_000),
    ("20k-50k", "20,000 to 50,000", 50_000),
    ("50k-100k", "50,000 to 100,000", 100_000),
    ("over-100k", "Over 100,000", None),
)
DAY_RATE_BAND = ("day-rate", "Day rate")
NOT_STATED_BAND = ("not-stated", "Not stated")
BUDGET_LABELS = dict(
    [(slug, label) for slug, label, _ in BUDGET_BANDS] + [DAY_RATE_BAND, NOT_STATED_BAND]
)


def budget_band(budget_type: str, budget_min: int | None, budget_max: int | None) -> str:
    if budget_type == BudgetType.DAY_RATE:
        return DAY_RATE_BAND[0]
    amount = budget_max or budget_min
    if not amount:
        return NOT_STATED_BAND[0]
    for slug, _label, upper in BUDGET_BANDS:
        if upper is None or amount <= upper:
            return slug
    raise AssertionError("the last band has no upper bound")


def budget_band_expression() -> Case[str]:
    """``budget_band`` as SQL, built from the same table."""
    amount = func.coalesce(func.nullif(Job.budget_max, 0), Job.budget_min)
    whens = [(Job.budget_type == BudgetType.DAY_RATE.value, DAY_RATE_BAND[0]),
             (func.coalesce(amount, 0) == 0, NOT_STATED_BAND[0])]
    whens += [(amount <= upper, slug) for slug, _label, upper in BUDGET_BANDS if upper is not None]
    return case(*whens, else_=BUDGET_BANDS[-1][0])


_state_table: dict[tuple[str, bool], str] = {}


def state_table() -> dict[tuple[str, bool], str]:
    """{(status, bids_deadline_in_future): JobState value}, read from ``Job.state`` itself so
    that the index derives open and closed by the model's one rule."""
    if not _state_table:
        now = utcnow()
        for status in JobStatus:
            for future in (True, False):
                probe = Job(status=status.value, bids_deadline=now + timedelta(days=1 if future else -1))
                _state_table[(status.value, future)] = str(probe.state.value)
    return _state_table


# The facets of the search page, in the order they are shown, with their labels.
FACETS = ("kind", "state", "visibility", "budget", "mode", "skill", "location", "coop")
FACET_TITLES = {
    "skill": "Skill", "kind": "Kind of work", "state": "Open or closed", "visibility": "Who can see it",
    "budget": "Budget", "mode": "Where", "location": "Location", "coop": "Posting co-op",
}
STATIC_LABELS: dict[str, dict[str, str]] = {
    "kind": {k.value: k.label for k in JobKind},
    "state": {s.value: s.label for s in JobState},
    "visibility": {v.value: v.label for v in Visibility},
    "budget": BUDGET_LABELS,
    "mode": {m.value: m.label for m in WorkMode},
}


@dataclass
class Document:
    """What every backend indexes for one job or co-op profile."""

    kind: str
    object_id: int
    title: str
    summary: str
    body: str
    skills_text: str
    location: str
    audience: frozenset[str]
    updated_at: datetime
    published_at: datetime | None = None
    bids_deadline: datetime | None = None
    skills: tuple[str, ...] = ()  # slugs
    facets: dict[str, str | int] = field(default_factory=dict)  # the co-op's id, the others' values

    @property
    def key(self) -> str:
        return document_key(self.kind, self.object_id)

    @property
    def everything(self) -> str:
        """All the searchable text in one string."""
        return "\n".join(
            part for part in (self.title, self.skills_text, self.summary, self.body, self.location) if part
        )


def document_key(kind: str, object_id: int) -> str:
    return f"{kind}:{object_id}"


def parse_key(key: str) -> tuple[str, int]:
    kind, _, object_id = key.partition(":")
    return kind, int(object_id)


_MARKDOWN_RE = re.compile(r"(?m)^[ \t]*(?:#{1,6}|>+|[-+*] )[ \t]*|[*_`~|]+|!?\[([^\]]*)\]\([^)]*\)")


_HEADING_RE = re.compile(r"^[ \t]*#{1,6}[ \t]")


def excerpt_of(summary: str | None, body: str | None) -> str:
    """The summary and the start of the description as plain text (Markdown marks dropped),
    one line after another as sentences: a line ending without punctuation gets a full stop,
    a heading a colon, so that a snippet reads "Background: We need…", not "Background We need"."""
    whole = "\n".join(part for part in (summary, body) if part)
    lines = whole[:EXCERPT_CHARS].splitlines()
    out = []
    for n, line in enumerate(lines):
        plain = " ".join(_MARKDOWN_RE.sub(lambda m: m.group(1) or " ", line).split())
        cut = n == len(lines) - 1 and len(whole) > EXCERPT_CHARS  # the last line, cut short
        if plain and not cut and not plain.endswith((".", "!", "?", ":", ";", ",", "…")):
            plain += ":" if _HEADING_RE.match(line) else "."
        if plain:
            out.append(plain)
    return " ".join(out)


def place_key(location: str | None) -> str:
    """The facet value of a location: case and spacing do not make another place."""
    return " ".join((location or "").split()).lower()


def _skills_text(skills: Iterable[Skill]) -> str:
    """Skill names and their synonyms, so that "k8s" finds jobs tagged Kubernetes."""
    words = []
    for skill in skills:
        words.append(skill.name)
        words.extend(skill.synonym_list)
    return "; ".join(words)


def job_document(job: Job) -> Document:
    skills = list(job.skills)
    return Document(
        kind=JOB,
        object_id=job.id,
        title=job.title or "",
        summary=job.summary or "",
        body=job.description or "",
        skills_text=_skills_text(skills),
        location=(job.location or "").strip(),
        audience=frozenset(audience_of(job)),
        updated_at=job.updated_at,
        published_at=job.published_at,
        bids_deadline=job.bids_deadline,
        skills=tuple(s.slug for s in skills),
        facets={
            "kind": job.kind,
            "status": job.status,
            "visibility": job.visibility,
            "budget": budget_band(job.budget_type, job.budget_min, job.budget_max),
            "mode": job.work_mode,
            "coop": job.coop_id,
        },
    )


def coop_document(coop: Coop) -> Document:
    """Co-op profiles are public."""
    skills = list(coop.skills)
    return Document(
        kind=COOP,
        object_id=coop.id,
        title=coop.name or "",
        summary="",
        body=coop.description or "",
        skills_text=_skills_text(skills),
        location=(coop.location or "").strip(),
        audience=frozenset({visibility_token(Visibility.PUBLIC.value)}),
        updated_at=coop.updated_at,
        published_at=coop.created_at,
        skills=tuple(s.slug for s in skills),
    )


BUILDERS: dict[str, Callable[[Any], Document]] = {JOB: job_document, COOP: coop_document}


def _load_options(kind: str) -> tuple[_AbstractLoad, ...]:
    return (selectinload(MODELS[kind].skills),)


def load_documents(session: Session, kind: str, ids: Collection[int]) -> dict[int, Document]:
    """{id: Document} for the objects of ``kind`` that still exist (read afresh)."""
    model: Any = MODELS[kind]  # Job or Coop: both have what is read here
    if not ids:
        return {}
    rows = session.scalars(
        select(model).where(model.id.in_(sorted(ids))).options(*_load_options(kind))
        .execution_options(populate_existing=True)
    ).all()
    return {obj.id: BUILDERS[kind](obj) for obj in rows}


def iter_documents(session: Session, kind: str, batch: int = 1000, since_id: int = 0) -> Iterator[Document]:
    """Every document of ``kind``, in id order, ``batch`` objects at a time."""
    model: Any = MODELS[kind]  # Job or Coop: both have what is read here
    last = since_id
    while True:
        rows = session.scalars(
            select(model).where(model.id > last).order_by(model.id).limit(batch)
            .options(*_load_options(kind))
        ).all()
        if not rows:
            return
        for obj in rows:
            yield BUILDERS[kind](obj)
        last = rows[-1].id
        session.expunge_all()


def count_objects(session: Session, kind: str) -> int:
    return session.scalar(select(func.count()).select_from(MODELS[kind])) or 0


def source_versions(session: Session, kind: str) -> dict[int, datetime]:
    """{id: updated_at} of every object of ``kind`` (what ``search check`` compares)."""
    model = MODELS[kind]
    return dict(session.execute(select(model.id, model.updated_at)).all())


def skill_alternatives() -> list[tuple[str, str, list[str]]]:
    """[(slug, name, synonyms)] of every skill: a query word naming a skill also finds its
    synonyms."""
    from ..skills.models import Skill

    rows = db.session.execute(select(Skill.slug, Skill.name, Skill.synonyms)).all()
    return [(slug, name, [s.strip() for s in (synonyms or "").split(";") if s.strip()])
            for slug, name, synonyms in rows]
