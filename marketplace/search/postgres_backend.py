"""The PostgreSQL backend: full-text search in the database every app server shares.

One narrow row per job or co-op profile (``search_document``): its audience, its facet values
and its words (out of line, with a GIN index; see ``models.NARROW_ROWS``). A search of jobs is
two statements on that table alone: the other kind's count, and one statement that reads the
matching rows once for the total, every facet's counts and the page of hits. The visibility
rule is the audience tokens' overlap (``federation.audience_of`` against the viewer's tokens,
as in the Whoosh index), kept in step with the job table by a trigger in the changing
transaction (``models.AUDIENCE_TRIGGER``).

Words are analysed in Python by the Whoosh backend's analyser (the same stems, stop words and
positions) and handed to PostgreSQL as ready lexemes, and queries are translated by the same
rules (synonyms by analysed words, prefixes as typed, phrases by position), so both backends
find the same documents (that translation is ``postgres_query``). Ranking follows the same
tiers: the number of the query's clauses matched, then matched in the title, then in the
skills, then newest first.

Every search runs under ``SEARCH_TIMEOUT_MS`` (PostgreSQL's statement_timeout, for the search's
statements only): a search that hits it raises ``SearchTimeout``, answered 503.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from itertools import combinations
from typing import TYPE_CHECKING, Any, TypeAlias

from sqlalchemy import (DateTime, Integer, Text, and_, bindparam, case, cast, delete, false, func, literal, null, or_,
                        select, true, tuple_, union_all)
from sqlalchemy.dialects.postgresql import ARRAY, TSVECTOR, aggregate_order_by, insert
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import aliased

from . import Hit, IndexBusy, SearchResult, SearchTimeout, setting
from .documents import COOP, JOB, place_key, state_table
from .models import PADDING
from .models import SearchDocument as doc
from .postgres_query import (EVERYTHING, Translator, combined, filter_clause, matches, runs, text_array,
                             vector)
from .whoosh_analysis import snippet

if TYPE_CHECKING:
    from markupsafe import Markup
    from sqlalchemy import ColumnElement
    from sqlalchemy.orm import Session, scoped_session

    from ..federation import Viewer
    from . import SearchRequest
    from .documents import Document
    from .query import Node
    from .whoosh_build import Progress

    AnySession: TypeAlias = Session | scoped_session[Any]  # the request's or one of its own

# How a search orders its page: (closing soonest?, the relevance tiers of a row, page size, offset).
PageSpec = tuple[bool, Callable[[Any], list[Any]], int, int]

LOCK_KEY = 0x5EA4C4  # pg advisory lock: one queue drain at a time
WORK_MEM = "32MB"  # a search's matching rows, held once and grouped in memory
QUERY_CANCELED = "57014"  # SQLSTATE of a statement stopped by statement_timeout


class PostgresBackend:
    name = "postgres"

    def status(self) -> str:
        return "ready"

    # writing

    @contextmanager
    def writer(self, session: Session, timeout: float | None = None) -> Iterator[_Batch]:
        """Changes written in ``session``'s transaction (the caller commits them with the
        queue rows they came from). One writer at a time, so that an earlier state never
        overwrites a later one."""
        deadline = time.monotonic() + (0.25 if timeout is None else timeout)
        while not session.scalar(select(func.pg_try_advisory_xact_lock(LOCK_KEY))):
            if time.monotonic() > deadline:
                raise IndexBusy()
            time.sleep(0.02)
        batch = _Batch(session)
        yield batch
        batch.flush()

    def rebuild(self, documents: Iterable[Document], total: int | None = None,
                progress: Progress | None = None) -> int:
        """Replace every document in one transaction: readers see the old ones until it commits."""
        from sqlalchemy.orm import Session

        from ..extensions import db

        with Session(db.engine) as session:
            session.execute(select(func.pg_advisory_xact_lock(LOCK_KEY)))
            session.execute(delete(doc))
            batch = _Batch(session)
            count = 0
            for document in documents:
                batch.put(document, flush=False)
                count += 1
                if progress:
                    progress(1)
            batch.flush()
            session.commit()
        return count

    def versions(self) -> dict[str, datetime]:
        from ..extensions import db

        rows = db.session.execute(select(doc.kind, doc.object_id, doc.source_updated_at))
        return {f"{kind}:{object_id}": updated for kind, object_id, updated in rows}

    # reading

    def query(self, request: SearchRequest, viewer: Viewer, now: datetime,
              alternatives: Iterable[tuple[str, str, tuple[str, ...]]] = ()) -> SearchResult:
        from ..extensions import db

        session = db.session
        translate = Translator(alternatives)
        # (anywhere, in the title, in the skills) of each clause that analysis leaves
        clauses: list[tuple[str, str | None, Node]] = []
        for clause in request.query.clauses:
            anywhere = translate.query(clause)
            if anywhere is not None:
                clauses.append((anywhere, translate.query(clause, "title"), clause))
        notices = list(request.query.notices)
        if request.query.clauses and not clauses:
            notices.append("Your search had only very common words; try more specific ones.")
        searched = bool(clauses)

        words = combined([anywhere for anywhere, _, _ in clauses],
                          [EVERYTHING if translate.has_long(node) else q
                           for node, q in zip(request.query.excluded, map(translate.query, request.query.excluded))
                           if q is not None])
        matched: list[ColumnElement[bool]] = [doc.audience.op("&&", is_comparison=True)(text_array(viewer.tokens))]
        if words and words != EVERYTHING:
            matched.append(matches(doc.everything, words))
        if translate.long:  # a phrase longer than the index's runs: checked on the positions
            exact = combined([translate.query(c, exact=True) for c in request.query.clauses],
                              [translate.query(e, exact=True) for e in request.query.excluded])
            matched.append(matches(doc.positions, exact))
        filters = {name: filter_clause(name, value, now) for name, value in request.filters.items()}
        other = COOP if request.kind == JOB else JOB

        # What the page is ordered by, as columns of each matching row.
        def ranking(row: Any) -> list[Any]:
            """The relevance tiers of a row (``doc``, or the columns of the matching rows)."""
            if request.sort != "relevance" or not searched:
                return []
            ranks: list[Any] = []
            if len(clauses) > 1:
                ranks.append(_clauses_matched(request.kind, [q for q, _, _ in clauses if q != EVERYTHING],
                                              row.object_id))
            in_title = [q for _, q, _ in clauses if q is not None]
            if in_title:
                ranks.append(sum(cast(matches(row.title, q), Integer) for q in in_title))
            ranks.append(sum(cast(translate.skills(node, row.skills), Integer) for _, _, node in clauses))
            return ranks

        page: PageSpec = (request.sort == "closing" and request.kind == JOB, ranking,
                          request.per_page, (request.page - 1) * request.per_page)

        facets: dict[str, list[tuple[str, int]]]
        labels: dict[str, dict[str, str]]
        rows: Sequence[Any]  # (id, indexed_at) of each hit
        with _time_limit(session, by_index=bool(words)):
            other_count = session.scalar(select(func.count()).where(doc.kind == other, *matched))
            if request.kind == JOB:
                total, facets, labels, rows = self._counts(session, matched, request.filters, filters, now, page)
            else:
                total = session.scalar(select(func.count()).where(doc.kind == COOP, *matched, *filters.values())) or 0
                facets, labels = {}, {}
                order = [r.desc() for r in ranking(doc)] + [doc.published_at.desc().nulls_last(),
                                                             doc.object_id.desc()]
                rows = session.execute(
                    select(doc.object_id, doc.source_updated_at).where(doc.kind == COOP, *matched)
                    .order_by(*order).limit(request.per_page).offset((request.page - 1) * request.per_page)
                ).all()
        return SearchResult(
            hits=[Hit(request.kind, object_id, updated) for object_id, updated in rows],
            total=total, facets=facets, kind_counts={request.kind: total, other: other_count or 0},
            notices=notices, searched=searched, highlight=translate.terms if searched else None,
            labels=labels,
        )

    def _counts(self, session: AnySession, matched: Sequence[ColumnElement[bool]], wanted: Mapping[str, str],
                filters: Mapping[str, ColumnElement[bool]], now: datetime, page: PageSpec
                ) -> tuple[int, dict[str, list[tuple[str, int]]], dict[str, dict[str, str]], list[tuple[int, datetime]]]:
        """(total, {facet: [(value, count)]}, labels, [(id, indexed_at)] of the page) in one
        statement that reads the matching jobs once: one grouped pass over them gives the small
        facets (by every combination of their values, each facet then counted here with every
        other facet's filter), the places and the co-ops; another the skills; a third the page."""
        closing, ranking, limit, offset = page
        future = func.coalesce(doc.bids_deadline > now, False)
        flagged = [name for name in ("skill", "location", "coop") if name in filters]
        found = select(doc.object_id, doc.source_updated_at, doc.published_at, doc.bids_deadline,
                       doc.job_kind.label("kind"), doc.status, future.label("future"), doc.visibility,
                       doc.budget, doc.mode, doc.place, doc.location, doc.coop_id, doc.skills, doc.title,
                       *[filters[name].label(f"f_{name}") for name in flagged]) \
            .where(doc.kind == JOB, *matched).cte("found")

        def condition(name: str, value: str) -> Any:
            if name in flagged:
                return found.c[f"f_{name}"]
            if name == "state":
                return or_(false(), *[and_(found.c.status == status, found.c.future == ahead)
                                      for (status, ahead), state in state_table().items() if state == value])
            return found.c[name] == value

        def within(name: str | None) -> ColumnElement[bool]:  # every filter but the facet's own
            return and_(true(), *[condition(other, value) for other, value in wanted.items() if other != name])

        small = [found.c[c] for c in ("kind", "status", "future", "visibility", "budget", "mode")] + \
            [found.c[f"f_{name}"] for name in flagged]
        which = func.grouping(found.c.place, found.c.coop_id)  # 3: the small facets, 1: places, 2: co-ops
        grouped = select(
            which.label("set"), *small, found.c.place, found.c.coop_id, func.count().label("n"),
            func.count().filter(within("location")).label("n_place"), func.min(found.c.location).label("label"),
            func.count().filter(within("coop")).label("n_coop"),
        ).group_by(func.grouping_sets(tuple_(*small), tuple_(found.c.place), tuple_(found.c.coop_id)))
        slugs = select(func.unnest(found.c.skills).label("slug")).where(within("skill")).subquery()
        # The skills in the same result: set 0, the slug in the place column.
        skills = select(literal(0), *[null()] * len(small), slugs.c.slug, null(), func.count(), null(), null(),
                        null(), null(), null()).group_by(slugs.c.slug)
        keys: list[tuple[Any, str]]
        if closing:  # deadlines still ahead first, soonest first; then the passed ones, latest first
            keys = [(found.c.future, "desc"), (case((found.c.future, found.c.bids_deadline), else_=None), "asc"),
                    (found.c.bids_deadline, "desc")]
        else:
            keys = [(rank, "desc") for rank in ranking(found.c)]  # only of the rows the filters leave
        keys += [(found.c.published_at, "desc"), (found.c.object_id, "desc")]
        # The page's rows (a top-N sort), then their ids and dates as arrays in the same order: set 4.
        hits = select(found.c.object_id, found.c.source_updated_at,
                      *[key.label(f"key_{i}") for i, (key, _) in enumerate(keys)]) \
            .where(within(None)).order_by(*_ordered(keys)).limit(limit).offset(offset).subquery()
        again = _ordered([(hits.c[f"key_{i}"], how) for i, (_, how) in enumerate(keys)])
        page_row = select(literal(4), *[null()] * (len(small) + 6),
                          func.array_agg(aggregate_order_by(hits.c.object_id, *again)),
                          func.array_agg(aggregate_order_by(hits.c.source_updated_at, *again)))
        grouped = grouped.add_columns(cast(null(), ARRAY(Integer)).label("ids"),
                                      cast(null(), ARRAY(DateTime)).label("dates"))

        total = 0
        counts: dict[tuple[str, str | None], int] = {}
        labels: dict[str, dict[str, str]] = {}
        rows: list[tuple[int, datetime]] = []
        for row in session.execute(union_all(grouped, skills, page_row)).mappings():
            if row["set"] == 3:
                values = {name: row[name] for name in ("kind", "visibility", "budget", "mode")}
                values["state"] = state_table().get((row["status"], row["future"]))
                values.update({name: row[f"f_{name}"] for name in flagged})
                holds = {name: (values[name] if name in flagged else values[name] == value)
                         for name, value in wanted.items()}
                if all(holds.values()):
                    total += row["n"]
                for name in ("kind", "state", "visibility", "budget", "mode"):
                    if all(ok for other, ok in holds.items() if other != name):
                        key = (name, values[name])
                        counts[key] = counts.get(key, 0) + row["n"]
            elif row["set"] == 1:
                counts[("location", row["place"])] = row["n_place"]
                labels.setdefault("location", {})[row["place"]] = row["label"]
            elif row["set"] == 2:
                counts[("coop", None if row["coop_id"] is None else str(row["coop_id"]))] = row["n_coop"]
            elif row["set"] == 4:
                rows = list(zip(row["ids"] or (), row["dates"] or ()))
            else:
                counts[("skill", row["place"])] = row["n"]
        facets: dict[str, list[tuple[str, int]]] = {}
        for (name, value), n in counts.items():
            if value not in (None, "") and n:
                facets.setdefault(name, []).append((value, n))
        return total, {name: sorted(found_, key=lambda item: (-item[1], item[0]))
                       for name, found_ in facets.items()}, labels, rows

    def snippets(self, result: SearchResult, texts: Iterable[tuple[str, str]]) -> dict[str, Markup | None]:
        """{key: Markup or None}: the passages holding the searched words, marked as the
        Whoosh backend marks them."""
        terms = result.highlight
        return {key: snippet(text, terms) if terms and text else None for key, text in texts}


def _clauses_matched(kind: str, queries: Sequence[str], object_id: Any) -> Any:
    """SQL: how many of ``queries`` a document matches, less one (its rank among the matches of
    any). Asked of the index, one set at a time (those matching at least 2, 3 … of them), and
    not of each row's words, which live out of line; past four queries, one set per query."""
    inner = aliased(doc)

    def matching(query: str) -> Any:
        return cast(object_id.in_(select(inner.object_id).where(inner.kind == kind,
                                                                     matches(inner.everything, query))), Integer)

    if len(queries) > 4:
        return sum(matching(q) for q in queries)
    return sum(matching(" | ".join("(" + " & ".join(combo) + ")" for combo in combinations(queries, k)))
               for k in range(2, len(queries) + 1))


def _ordered(keys: Iterable[tuple[Any, str]]) -> list[Any]:
    """ORDER BY terms of (expression, "asc" or "desc") pairs; no value sorts last either way."""
    return [(key.desc() if how == "desc" else key.asc()).nulls_last() for key, how in keys]


@contextmanager
def _time_limit(session: AnySession, by_index: bool = False) -> Iterator[None]:
    """The statements inside run under ``SEARCH_TIMEOUT_MS``, in a savepoint: a search stopped
    by it raises ``SearchTimeout`` and leaves the request's transaction usable. They also get
    the memory to hold and group a search's matches (``WORK_MEM``), no JIT compilation (which
    costs more than these statements run) and, with ``by_index``, the index rather than a
    scan of the table for words: the planner does not count the cost of reading each row's
    words back from TOAST, which a scan pays and the GIN index spares."""
    limit = int(setting("SEARCH_TIMEOUT_MS"))
    settings = {"statement_timeout": str(max(limit, 0)), "work_mem": WORK_MEM, "jit": "off"}
    if by_index:
        settings["enable_seqscan"] = "off"
    try:
        with session.begin_nested():
            previous = session.execute(select(*[func.current_setting(name) for name in settings])).one()
            session.execute(select(*[func.set_config(name, value, True) for name, value in settings.items()]))
            yield
            session.execute(select(*[func.set_config(name, value, True) for name, value in zip(settings, previous)]))
    except OperationalError as error:
        if getattr(error.orig, "sqlstate", None) == QUERY_CANCELED:
            raise SearchTimeout(f"the search ran longer than {limit} ms") from error
        raise


def _text(value: object) -> str | None:
    return None if value is None else str(value)


class _Batch:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.pending: list[dict[str, Any]] = []

    def put(self, document: Document, flush: bool = False) -> None:
        # Written 500 at a time (and at the end of the writer's block): a statement a document
        # was more than half of what indexing an import of a thousand jobs cost.
        facets = document.facets
        self.pending.append({
            "kind": document.kind, "object_id": document.object_id,
            "everything": runs(document.everything), "positions": vector(document.everything),
            "title": vector(document.title, positions=False),
            "audience": sorted(document.audience), "skills": list(document.skills),
            "published_at": document.published_at, "bids_deadline": document.bids_deadline,
            "status": _text(facets.get("status")), "job_kind": _text(facets.get("kind")),
            "visibility": _text(facets.get("visibility")), "budget": _text(facets.get("budget")),
            "mode": _text(facets.get("mode")), "coop_id": facets.get("coop"),
            "place": place_key(document.location), "location": document.location,
            "source_updated_at": document.updated_at, "pad": PADDING,
        })
        if flush or len(self.pending) >= 500:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        values: dict[str, Any] = {column: bindparam(column) for column in self.pending[0]}
        values["everything"] = cast(bindparam("everything", type_=Text), TSVECTOR)
        values["positions"] = cast(bindparam("positions", type_=Text), TSVECTOR)
        values["title"] = cast(bindparam("title", type_=Text), TSVECTOR)
        stmt = insert(doc).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[doc.kind, doc.object_id],
            set_={column: stmt.excluded[column] for column in values if column not in ("kind", "object_id")},
        )
        self.session.connection().execute(stmt, self.pending)
        self.pending = []

    def delete(self, kind: str, object_id: int) -> None:
        self.flush()  # in the order they came
        self.session.execute(delete(doc).where(doc.kind == kind, doc.object_id == object_id))
