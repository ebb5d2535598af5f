"""Saved searches of jobs, as feed addresses and alerts hold them: the arguments of a /jobs
query (filters), or with ``q`` those of /search (a full-text search, newest first).

``job_query(args)`` checks and reads them once; ``matching_jobs(viewer, query, limit)`` gives
the newest jobs of the query that the viewer may see, through the visibility rule (``jobs_query``,
or the search index's audience filter and ``visible_jobs``).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from dataclasses import dataclass

from werkzeug.datastructures import MultiDict

from ..federation.models import Visibility
from ..jobs.forms import JobFilterForm
from ..jobs.models import JobKind
from ..jobs.services import JobFilters, jobs_query
from ..search import services as search_services
from ..search.services import FACETS
from ..search.forms import SearchForm
from ..skills.services import all_skills

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any
    from sqlalchemy.sql.base import ExecutableOption
    from ..jobs.models import Job
    from ..federation.policy import Viewer

LIST_ARGS = ("skill", "kind", "state", "visibility", "coop", "partners", "location", "budget_from")
FULL_TEXT_ARGS = ("q",) + FACETS  # a /search query's: every state unless one is chosen
MAX_WORDS = 500
STATE_TITLES = {"open": "Open jobs", "any": "Jobs"}


class InvalidQuery(ValueError):
    """The query holds a value that cannot be used (the message says which)."""


@dataclass
class JobQuery:
    args: dict[str, str]  # the arguments that change what the query finds (no page, order or defaults)
    title: str
    filters: JobFilters | None = None  # a /jobs query
    search: tuple[str, dict[str, str]] | None = None  # (words, {facet: value}): a /search query

    @property
    def full_text(self) -> bool:
        return self.search is not None


def kept_args(args: Mapping[str, Any]) -> dict[str, str]:
    """The arguments of a /jobs or (with ``q``) a /search query that change what it finds."""
    full_text = bool((args.get("q") or "").strip())
    kept = {}
    for name in FULL_TEXT_ARGS if full_text else LIST_ARGS:
        value = (args.get(name) or "").strip()
        if value and not (name == "state" and value == "open" and not full_text):
            kept[name] = value
    return kept


def job_query(args: Mapping[str, Any]) -> JobQuery:
    """The query ``args`` (a mapping of request arguments) describe; ``InvalidQuery`` when a
    value cannot be used (a feed reader or an alert shows no notices, so nothing is ignored)."""
    args = MultiDict(args)
    if (args.get("q") or "").strip():
        return _search_query(args)
    skills = all_skills()
    form = JobFilterForm(args, skills=skills, meta={"csrf": False})
    valid = form.validate()
    filters = form.filters()
    filters.sort = "newest"  # a saved search is newest first, whatever order its list page was in
    if not valid or form.coop.errors:
        problems = "; ".join(f"{form[name].label.text}: {errors[0]}" for name, errors in form.errors.items())
        raise InvalidQuery(problems)
    return JobQuery(args=kept_args(args), title=_list_title(filters), filters=filters)


def _search_query(args: Mapping[str, Any]) -> JobQuery:
    form = SearchForm(args, meta={"csrf": False})
    problems = form.checked()
    words = " ".join(form.q.data.split())
    if len(words) > MAX_WORDS:
        problems.append(f"the words are longer than {MAX_WORDS} characters")
    facets = search_services.filters_from(form, problems)
    if problems:
        raise InvalidQuery("; ".join(problems))
    return JobQuery(args=kept_args(args), title=f"Jobs matching “{words}”", search=(words, facets))


def _list_title(filters: JobFilters) -> str:
    details = []
    if filters.skill:
        details.append(filters.skill.name)
    if filters.kind:
        details.append(JobKind(filters.kind).label)
    if filters.visibility:
        details.append(Visibility(filters.visibility).label)
    if filters.coop:
        details.append(f"posted by {filters.coop.name}")
    if filters.looking_for_partners:
        details.append("looking for partners")
    state = filters.state or "open"
    title = STATE_TITLES.get(state) or f"{state.capitalize()} jobs"
    return title + (": " + ", ".join(details) if details else "")


def listing(filters: JobFilters) -> JobQuery:
    """The query of a fixed list (a skill's, a co-op's, a kind's jobs)."""
    return JobQuery(args={}, title="", filters=filters)


def matching_jobs(viewer: Viewer, query: JobQuery, limit: int,
                  options: Sequence[ExecutableOption] = ()) -> Sequence[Job]:
    """The newest ``limit`` jobs of ``query`` that ``viewer`` may see (with ``options`` loaded
    for a list query). Raises ``SearchUnavailable`` while the search index is rebuilt."""
    from ..extensions import db

    if query.search is None:
        stmt = jobs_query(viewer, query.filters).options(*options).limit(limit)
        return db.session.scalars(stmt).unique().all()
    words, facets = query.search
    # Through the index's audience filter and visible_jobs, like the search page.
    found, _total, _notices = search_services.search_jobs(viewer, words, facets, sort="newest", per_page=limit)
    return found
