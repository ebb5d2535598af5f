"""The skill taxonomy: loading it, looking skills up by name or synonym, and counts."""
from __future__ import annotations

from typing import TYPE_CHECKING

import csv
import functools
import os
import re

from sqlalchemy import func, select

from ..core.cache import request_cached
from ..extensions import db
from .models import Skill

if TYPE_CHECKING:
    from collections.abc import Iterable
    from collections.abc import Sequence
    from typing import Any
    from ..federation.policy import Viewer

DEFAULT_TAXONOMY = os.path.join(os.path.dirname(__file__), "data", "cotech-skills.csv")
# CPV (the EU's Common Procurement Vocabulary, which public tenders are classified by) codes
# and the taxonomy's skills they stand for: columns cpv, skills (';'-separated slugs, empty
# for "none of ours"), description (the code's own name).
CPV_TABLE = os.path.join(os.path.dirname(__file__), "data", "cpv-skills.csv")


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:80]


def all_skills() -> Sequence[Skill]:
    """Every skill, by group and name; loaded once per request."""
    return request_cached(
        "all_skills", lambda: db.session.scalars(select(Skill).order_by(Skill.group, Skill.name)).all()
    )


def skills_with_ids(ids: Iterable[int] | None) -> list[Skill]:
    """The skills whose ids are in ``ids`` (a form's choice), in the taxonomy's order."""
    wanted = set(ids or [])
    return [s for s in all_skills() if s.id in wanted]


def skill_by_slug(slug: str) -> Skill | None:
    return db.session.scalar(select(Skill).where(Skill.slug == slug))


def find_skill(value: str | None, skills: Sequence[Skill] | None = None) -> Skill | None:
    """The skill a filter names: by its slug, or by its name or a synonym in any case ("a11y",
    "WCAG" → Accessibility), as search understands them; None when none is named so."""
    wanted = " ".join((value or "").lower().split())
    if not wanted:
        return None
    skills = all_skills() if skills is None else skills
    by_slug = next((s for s in skills if s.slug == wanted), None)
    if by_slug is not None:
        return by_slug
    for skill in skills:
        names = {" ".join(n.lower().split()) for n in (skill.name, *skill.synonym_list)}
        if wanted in names or slugify(wanted) == skill.slug:
            return skill
    return None


def canonical_slug(value: str, skills: Sequence[Skill] | None = None) -> str:
    """The slug of the skill ``value`` names, or ``value`` itself (for the form to report)."""
    found = find_skill(value, skills)
    return found.slug if found is not None else value


@functools.cache
def cpv_skills(path: str = CPV_TABLE) -> dict[str, tuple[str, ...]]:
    """{CPV prefix: skill slugs}: each code of the table down to its last significant digit (a
    CPV code's trailing zeros widen it to its whole family: 72400000 is every Internet service)."""
    with open(path, newline="", encoding="utf-8") as handle:
        return {row["cpv"].strip().rstrip("0"): tuple(s.strip() for s in row["skills"].split(";") if s.strip())
                for row in csv.DictReader(handle)}


def skills_of_cpv(code: object) -> tuple[str, ...]:
    """The skill slugs a CPV code ("72413000", "72413000-8") stands for: those of the most
    specific code of the table that contains it; () when none does."""
    digits = "".join(ch for ch in str(code or "") if ch.isdigit())[:8]
    table = cpv_skills()
    for length in range(len(digits), 1, -1):
        if digits[:length] in table:
            return table[digits[:length]]
    return ()


def load_taxonomy(path: str = DEFAULT_TAXONOMY) -> tuple[int, int]:
    """Insert or update skills from a CSV with columns group, skill, synonyms (';'-separated).

    Returns (created, updated). Raises ValueError with the line number on a bad row.
    """
    created = updated = 0
    existing = {s.slug: s for s in db.session.scalars(select(Skill))}
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = {"group", "skill"} - set(reader.fieldnames or [])
        if missing:
            raise ValueError(f"{path}: missing column(s): {', '.join(sorted(missing))}")
        for line, row in enumerate(reader, start=2):
            name = (row.get("skill") or "").strip()
            group = (row.get("group") or "").strip()
            if not name or not group:
                raise ValueError(f"{path}, line {line}: a skill needs a group and a name")
            synonyms = ";".join(s.strip() for s in (row.get("synonyms") or "").split(";") if s.strip())
            slug = slugify(name)
            skill = existing.get(slug)
            if skill is None:
                skill = existing[slug] = Skill(slug=slug, name=name, group=group, synonyms=synonyms)
                db.session.add(skill)
                created += 1
            elif (skill.name, skill.group, skill.synonyms) != (name, group, synonyms):
                skill.name, skill.group, skill.synonyms = name, group, synonyms
                updated += 1
    return created, updated


def coop_counts() -> dict[Any, Any]:
    """{skill_id: number of co-ops offering it} (co-op profiles are public)."""
    from ..coops.models import coop_skill

    rows = db.session.execute(
        select(coop_skill.c.skill_id, func.count()).group_by(coop_skill.c.skill_id)
    )
    return dict(rows.all())


def skill_counts(viewer: Viewer) -> tuple[dict[int, int], dict[int, int]]:
    """({skill_id: open jobs the viewer may see with that skill}, {skill_id: co-ops offering
    it}): from the search index when it has caught up with the database (counts that do not
    grow with the jobs), else counted in the database."""
    from ..search.services import counts_by_skill

    found = counts_by_skill(viewer)
    if found is None:
        return visible_open_job_counts(viewer), coop_counts()
    ids = {skill.slug: skill.id for skill in all_skills()}
    jobs, coops = ({ids[slug]: n for slug, n in found[kind].items() if slug in ids} for kind in ("job", "coop"))
    return jobs, coops


def open_job_count(viewer: Viewer, skill: Skill) -> int | None:
    """Open jobs the viewer may see with ``skill``, from the search index; None when the index
    cannot say (the job list then counts them itself)."""
    from ..search.services import counts_by_skill

    found = counts_by_skill(viewer)
    return None if found is None else found["job"].get(skill.slug, 0)


def visible_open_job_counts(viewer: Viewer) -> dict[Any, Any]:
    """{skill_id: open jobs the viewer may see with that skill}, counted in the database."""
    from ..federation import visible_jobs
    from ..jobs.models import Job, JobState, job_skill

    stmt = (
        select(job_skill.c.skill_id, func.count())
        .join(Job, Job.id == job_skill.c.job_id)
        .where(Job.in_state(JobState.OPEN))
        .group_by(job_skill.c.skill_id)
    )
    return dict(db.session.execute(visible_jobs(stmt, viewer)).all())
