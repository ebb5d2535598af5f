"""Searching as a viewer: the index's answer, checked against the database before it is shown.

The index filters by the viewer's audience tokens, so results, counts and facets already obey
the visibility rule. The page of hits is then loaded through ``visible_jobs``: a hit the
database does not confirm (a change the index has not caught up with) is dropped and its
object queued for reindexing, so a job never shows to someone who may not see it.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from math import ceil
from typing import TYPE_CHECKING, Any

from flask_babel import format_decimal
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from ..coops.models import Coop
from ..core.time import utcnow
from ..extensions import db
from ..federation import visible_jobs
from ..jobs.models import Job
from ..skills.models import Skill
from ..skills.services import find_skill
from . import (MAX_PAGE, SORTS, SearchRequest, SearchResult, SearchTimeout, SearchUnavailable, add_to_index,
               backend, query_index, queue_length, setting)
from .documents import COOP, FACET_TITLES, FACETS, JOB, STATIC_LABELS, excerpt_of, place_key
from .query import parse

if TYPE_CHECKING:
    from ..federation import Viewer
    from .forms import SearchForm

log = logging.getLogger(__name__)
FACET_LIMIT = 12  # values shown per facet (the chosen one always is)


@dataclass
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool = False


@dataclass
class Facet:
    name: str
    title: str
    values: list[FacetValue]
    selected: FacetValue | None = None


@dataclass
class Result:
    obj: Job | Coop
    kind: str
    snippet: Any = None  # Markup, or None when there is no passage to show


@dataclass
class SearchPage:
    text: str
    scope: str
    results: list[Result] = field(default_factory=list)
    total: int = 0
    page: int = 1
    per_page: int = 20
    facets: list[Facet] = field(default_factory=list)
    kind_counts: dict[str, int] = field(default_factory=dict)
    suggestion: str | None = None
    notices: list[str] = field(default_factory=list)
    unavailable: bool = False
    timed_out: bool = False  # unavailable because the search took too long
    searched: bool = False  # a search ran (words or filters were given)
    capped: bool = False  # more results than the pages go to
    settled: bool = True  # every hit was in step with the database (the page may be kept)

    @property
    def pages(self) -> int:
        return max(1, min(MAX_PAGE, ceil(self.total / self.per_page)))

    @property
    def total_label(self) -> str:
        return format_decimal(self.total)  # exact: only the pages stop at MAX_PAGE

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def first_index(self) -> int:
        return (self.page - 1) * self.per_page + 1

    @property
    def last_index(self) -> int:
        return self.first_index + len(self.results) - 1


def filters_from(form: Any, notices: list[str]) -> dict[str, str]:
    """{facet: value} from the form; unknown skills and co-ops are reported and ignored."""
    filters: dict[str, str] = {}
    for name in FACETS:
        value = (getattr(form, name).data or "").strip()
        if not value:
            continue
        if name == "skill":
            skill = find_skill(value)
            if skill is None:
                notices.append("There is no skill with that name, so it was ignored.")
                continue
            value = form.skill.data = skill.slug
        if name == "coop":
            coop_id = db.session.scalar(select(Coop.id).where(Coop.slug == value))
            if coop_id is None:
                notices.append("There is no co-op with that name, so it was ignored.")
                continue
            value = str(coop_id)
        if name == "location":
            value = place_key(value)
        filters[name] = value
    return filters


def search(viewer: Viewer, form: SearchForm, notices: Iterable[str] = ()) -> SearchPage:
    """Run the search the (checked) form describes, as ``viewer``."""
    parsed = parse(form.q.data)
    scope = form.scope.data or "jobs"
    told = list(notices)
    filters = filters_from(form, told) if scope == "jobs" else {}
    page = SearchPage(text=parsed.text, scope=scope, per_page=int(setting("SEARCH_PER_PAGE")))
    page.searched = not parsed.is_empty or bool(filters)
    page.notices = told + parsed.notices
    if not page.searched:
        return page
    sort = form.sort.data if form.sort.data in SORTS else "relevance"
    wanted = min(form.page.data or 1, MAX_PAGE)
    request = SearchRequest(query=parsed, kind=JOB if scope == "jobs" else COOP, filters=filters,
                            sort=sort, page=wanted, per_page=page.per_page)
    try:
        result = query_index(request, viewer)
        last = max(1, min(MAX_PAGE, ceil(result.total / request.per_page)))
        if request.page > last:  # past the end: show the last page
            request.page = last
            result = query_index(request, viewer)
    except SearchUnavailable as error:
        page.unavailable, page.settled = True, False
        page.timed_out = isinstance(error, SearchTimeout)
        return page
    page.page = request.page
    page.total = result.total
    page.capped = result.total > MAX_PAGE * request.per_page
    page.kind_counts = result.kind_counts
    page.notices = _unique(page.notices + result.notices)
    page.searched = result.searched or bool(filters)
    page.results, page.settled = _confirmed(result, viewer)
    # A hit the database did not confirm is not counted either (it was queued for reindexing).
    page.total -= len(result.hits) - len(page.results)
    page.facets = _facets(result, filters) if request.kind == JOB else []
    page.suggestion = _suggestion(parsed.text, result.suggestions)
    return page


def _unique(messages: list[str]) -> list[str]:
    return list(dict.fromkeys(messages))


def search_jobs(viewer: Viewer, text: str | None, filters: dict[str, str], sort: str = "relevance", page: int = 1,
                per_page: int = 20) -> tuple[list[Job], int, list[str]]:
    """Jobs matching ``text`` and the facet ``filters``, as ``viewer`` may see them, for the
    API: (jobs, total, notices). Raises SearchUnavailable while the index is rebuilt."""
    parsed = parse(text)
    request = SearchRequest(query=parsed, kind=JOB, filters=filters, sort=sort,
                            page=min(page, MAX_PAGE), per_page=per_page)
    result = query_index(request, viewer)
    jobs = [r.obj for r in _load_confirmed(result, viewer)[0] if isinstance(r.obj, Job)]  # (all are: kind JOB)
    total = result.total - (len(result.hits) - len(jobs))
    return jobs, total, _unique(parsed.notices + result.notices)


def _confirmed(result: SearchResult, viewer: Viewer) -> tuple[list[Result], bool]:
    """(the page's objects, loaded through the visibility rule, with their snippets; whether
    every hit was in step with the database)."""
    results, settled = _load_confirmed(result, viewer)
    texts = [(f"{r.kind}:{r.obj.id}", excerpt_of(getattr(r.obj, "summary", ""), r.obj.description)) for r in results]
    try:
        snippets = backend().snippets(result, texts)
    except Exception:
        log.exception("search: snippets failed")
        snippets = {}
    for r in results:
        r.snippet = snippets.get(f"{r.kind}:{r.obj.id}")
    return results, settled


def _load_confirmed(result: SearchResult, viewer: Viewer) -> tuple[list[Result], bool]:
    """(the hits' objects, loaded through the visibility rule; whether every hit was in step).
    A hit the database does not confirm is dropped and queued for reindexing."""
    ids: dict[str, list[int]] = {JOB: [], COOP: []}
    for hit in result.hits:
        ids[hit.kind].append(hit.object_id)
    found: dict[tuple[str, int], Job | Coop] = {}
    if ids[JOB]:
        jobs = select(Job).where(Job.id.in_(ids[JOB])).options(joinedload(Job.coop), selectinload(Job.skills))
        found.update({(JOB, j.id): j for j in db.session.scalars(visible_jobs(jobs, viewer)).unique()})
    if ids[COOP]:
        coops = select(Coop).where(Coop.id.in_(ids[COOP])).options(selectinload(Coop.skills))
        found.update({(COOP, c.id): c for c in db.session.scalars(coops)})
    stale: dict[str, list[int]] = {JOB: [], COOP: []}
    results = []
    for hit in result.hits:
        obj = found.get((hit.kind, hit.object_id))
        if obj is None or obj.updated_at != hit.indexed_at:
            stale[hit.kind].append(hit.object_id)
        if obj is not None:
            results.append(Result(obj=obj, kind=hit.kind))
    for kind, object_ids in stale.items():
        if object_ids:
            log.info("search: %s %s out of step with the database, queued for reindexing", kind, object_ids)
            add_to_index(kind, object_ids)
    return results, not (stale[JOB] or stale[COOP])


def index_in_step() -> bool:
    """Whether every change committed so far has reached the index (nothing is queued)."""
    return queue_length() == 0


def counts_by_skill(viewer: Viewer) -> dict[str, dict[str, int]] | None:
    """{"job": {skill slug: open jobs ``viewer`` may see with it}, "coop": {skill slug: co-ops
    offering it}}, counted on the index's bitsets in a time that does not grow with the number
    of jobs. None when the index has not caught up with the database or cannot answer: the
    caller then counts in the database, so that a page part kept until the next write never
    shows counts older than its revision."""
    if not index_in_step():
        return None
    try:
        return backend().counts_by_skill(viewer, utcnow())
    except SearchUnavailable:
        return None


def _facets(result: SearchResult, filters: Mapping[str, str]) -> list[Facet]:
    """The facets to show, with labels from the database for skills and co-ops."""
    # Long lists (skills, co-ops, places) come most first: only their top and the chosen value show.
    found = {name: (counts if name in STATIC_LABELS else _top(counts, filters.get(name)))
             for name, counts in result.facets.items()}
    labels = {name: dict(values) for name, values in STATIC_LABELS.items()}
    labels["location"] = dict(result.labels.get("location", {}))
    wanted_skills = {v for v, _ in found.get("skill", [])} | {filters.get("skill")}
    labels["skill"] = dict(db.session.execute(
        select(Skill.slug, Skill.name).where(Skill.slug.in_([s for s in wanted_skills if s]))).all())
    wanted_coops = {int(v) for v, _ in found.get("coop", [])}
    if filters.get("coop"):
        wanted_coops.add(int(filters["coop"]))
    coops = {str(i): (slug, name) for i, slug, name in db.session.execute(
        select(Coop.id, Coop.slug, Coop.name).where(Coop.id.in_(wanted_coops)))}
    facets: list[Facet] = []
    for name in FACETS:
        counts = found.get(name, [])
        if name in STATIC_LABELS:  # a short fixed list: keep its own order
            order = list(STATIC_LABELS[name])
            counts = sorted(counts, key=lambda item: order.index(item[0]) if item[0] in order else len(order))
        values: list[FacetValue] = []
        chosen = filters.get(name)
        for value, count in counts:
            if name == "coop":
                if value not in coops:
                    continue
                slug, label = coops[value]
                values.append(FacetValue(slug, label, count, selected=value == chosen))
            else:
                label = labels[name].get(value, value)
                values.append(FacetValue(value, label, count, selected=value == chosen))
        selected = next((v for v in values if v.selected), None)
        if chosen and selected is None:  # chosen, but nothing matches it now
            if name == "coop":
                slug, label = coops.get(chosen, (chosen, chosen))
                selected = FacetValue(slug, label, 0, selected=True)
            else:
                selected = FacetValue(chosen, labels[name].get(chosen, chosen), 0, selected=True)
            values.insert(0, selected)
        shown = values[:FACET_LIMIT]
        if selected is not None and selected not in shown:
            shown.append(selected)
        if shown:
            facets.append(Facet(name=name, title=FACET_TITLES[name], values=shown, selected=selected))
    return facets


def _top(counts: list[tuple[str, int]], chosen: str | None) -> list[tuple[str, int]]:
    """The first FACET_LIMIT (value, count) pairs, and the chosen value's wherever it is."""
    return counts[:FACET_LIMIT] + [item for item in counts[FACET_LIMIT:] if item[0] == chosen]


def _suggestion(text: str, suggestions: Mapping[str, list[str]]) -> str | None:
    """The query with each unmatched word replaced by its first suggested spelling."""
    if not suggestions:
        return None
    suggested = text
    for word, options in suggestions.items():
        suggested = re.sub(rf"(?<!\w){re.escape(word)}(?!\w)", options[0], suggested, flags=re.IGNORECASE)
    return suggested if suggested != text else None


def popular_skills(viewer: Viewer, limit: int = 12) -> list[tuple[Skill, int]]:
    """Skills with the most open jobs this viewer may see (for the empty search page)."""
    from ..skills.services import skill_counts

    top = sorted(skill_counts(viewer)[0].items(), key=lambda item: -item[1])[:limit]
    skills = {s.id: s for s in db.session.scalars(select(Skill).where(Skill.id.in_([i for i, _ in top])))}
    return [(skills[i], n) for i, n in top if i in skills]
