"""The PostgreSQL backend: full-text search in the database every app server shares.

One narrow row per job or co-op profile (``search_document``): its audience, its facet values
and its words (out of line, with a GIN index; see ``models.NARROW_ROWS``). The visibility rule
is the audience tokens' overlap (``federation.audience_of`` against the viewer's tokens, as in
the Whoosh index), kept in step with the job table by a trigger in the changing transaction
(``models.AUDIENCE_TRIGGER``).

Words are analysed in Python by the Whoosh backend's analyser (the same stems, stop words and
positions) and handed to PostgreSQL as ready lexemes (``postgres_query``), with every run of up
to three words as one more lexeme, so that a short phrase is one lookup of the GIN index.

Reading: each process keeps the documents' narrow columns in memory, kept current by a change
feed, and asks PostgreSQL only which documents hold a word (``postgres_view``); a search is then
evaluated with bitsets by the Whoosh backend's evaluator (``whoosh_query.Query``): the same
matching, counts, facets and ranking tiers. Every search reads one snapshot on a connection of
its own, its statements under ``SEARCH_TIMEOUT_MS`` (PostgreSQL's statement_timeout): a search
that hits it raises ``SearchTimeout``, answered 503.

Writing: the queue's documents are written in the draining transaction, one writer at a time.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Text, bindparam, cast, delete, func, select, text
from sqlalchemy.dialects.postgresql import TSVECTOR, insert

from . import IndexBusy, SearchRequest, SearchResult
from .documents import place_key
from .models import PADDING, TOMBSTONE_DAYS
from .models import SearchDocument as doc
from .postgres_query import runs, vector
from .query import ParsedQuery
from .postgres_view import limit_time, snapshot, view_of
from .whoosh_analysis import snippet, taxonomy
from .whoosh_query import Query

if TYPE_CHECKING:
    from markupsafe import Markup
    from sqlalchemy.orm import Session

    from ..federation import Viewer
    from .documents import Document
    from .whoosh_build import Progress

T = TypeVar("T")
LOCK_KEY = 0x5EA4C4  # pg advisory lock: one queue drain at a time
# Tombstones no process can still need (one that has not looked for longer reloads instead).
PRUNE_TOMBSTONES = text(f"DELETE FROM search_tombstone WHERE deleted_at < now() - interval '{TOMBSTONE_DAYS} days'")


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
        session.connection().execute(PRUNE_TOMBSTONES)  # not a change the site shows (core.revision)

    def rebuild(self, documents: Iterable[Document], total: int | None = None,
                progress: Progress | None = None) -> int:
        """Replace every document in one transaction: readers see the old ones until it commits."""
        from sqlalchemy.orm import Session

        from ..extensions import db

        with Session(db.engine) as session:
            session.execute(select(func.pg_advisory_xact_lock(LOCK_KEY)))
            session.execute(delete(doc))
            session.connection().execute(PRUNE_TOMBSTONES)  # not a change the site shows (core.revision)
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
        return self._evaluate(Query.run, request, viewer, now, alternatives)

    def counts_by_skill(self, viewer: Viewer, now: datetime) -> dict[str, dict[str, int]]:
        return self._evaluate(Query.counts_by_skill, SearchRequest(query=ParsedQuery("")), viewer, now)

    def _evaluate(self, answer: Callable[[Query], T], request: SearchRequest, viewer: Viewer, now: datetime,
                  alternatives: Iterable[tuple[str, str, tuple[str, ...]]] = ()) -> T:
        from ..extensions import db

        with snapshot(db.engine) as connection, view_of(db.engine).reading(connection) as view:
            limit_time(connection)
            return answer(Query(view, request, viewer.tokens, now, taxonomy(tuple(alternatives))))

    def cache_bytes(self) -> int:
        """Bytes of bitsets this process keeps (at most SEARCH_CACHE_MB)."""
        from ..extensions import db

        return view_of(db.engine).cache.bytes

    def snippets(self, result: SearchResult, texts: Iterable[tuple[str, str]]) -> dict[str, Markup | None]:
        """{key: Markup or None}: the passages holding the searched words, marked as the
        Whoosh backend marks them."""
        terms = result.highlight
        return {key: snippet(text, terms) if terms and text else None for key, text in texts}


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
