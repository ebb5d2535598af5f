"""Search: full-text search of jobs and co-op profiles behind a small interface.

    add_to_index(kind, ids)        bring these objects' documents up to date (queued, then applied)
    remove_from_index(kind, ids)   the same call: a document whose object is gone is removed
    query_index(request, viewer)   one page of hits, with counts and facets, that the viewer may see

Two backends, chosen by ``SEARCH_BACKEND``: "whoosh" (the default: an index on local disk,
beside the instance data) and "postgres" (PostgreSQL full-text search, shared by every app
server). Only this package imports whoosh.

Changes reach the index through a queue in the database: the session hooks (``hooks.py``)
add a row in the same transaction as each change to a job or co-op, and after the commit the
process applies the queue if it can take the index's writer lock quickly. See ``drain``.
"""
from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeAlias

from flask import Flask, current_app
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from ..core.time import utcnow
from ..extensions import db
from .query import ParsedQuery

if TYPE_CHECKING:
    from ..federation import Viewer
    from .documents import Document
    from .postgres_backend import PostgresBackend
    from .whoosh_backend import WhooshBackend

    Backend: TypeAlias = WhooshBackend | PostgresBackend

log = logging.getLogger(__name__)

MAX_PAGE = 50
SORTS = ("relevance", "newest", "closing")
# Rows applied in one commit of the index: a feed import of a thousand entries becomes one segment,
# each of its words written once rather than once per batch (a tenth of indexing it).
QUEUE_BATCH = 1000
DRAIN_ROUNDS = 20


class SearchUnavailable(Exception):
    """The index is missing or damaged: the site serves, and search says it is being rebuilt."""


class IndexMissing(SearchUnavailable):
    """No index has been built yet."""


class SearchTimeout(SearchUnavailable):
    """A search ran longer than ``SEARCH_TIMEOUT_MS`` and was stopped, so that it holds no worker:
    the page and the API answer 503 and say so."""


class IndexBusy(Exception):
    """Another process holds the index's writer lock; the queue keeps the changes."""


@dataclass
class SearchRequest:
    query: ParsedQuery
    kind: str = "job"
    filters: dict[str, str] = field(default_factory=dict)  # facet name → value (co-op: its id, as text)
    sort: str = "relevance"
    page: int = 1
    per_page: int = 20


@dataclass
class Hit:
    kind: str
    object_id: int
    indexed_at: datetime | None  # the object's updated_at when its document was written

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.object_id}"


@dataclass
class SearchResult:
    hits: list[Hit]
    total: int
    facets: dict[str, list[tuple[str, int]]]  # facet name → [(value, count)], most first
    kind_counts: dict[str, int]  # "job"/"coop" → number of results of that kind
    suggestions: dict[str, list[str]] = field(default_factory=dict)  # unmatched word → [spellings]
    notices: list[str] = field(default_factory=list)
    searched: bool = True  # False when nothing searchable was left of the words
    highlight: Any = None  # what the backend needs to mark the words in snippets
    labels: dict[str, dict[str, str]] = field(default_factory=dict)  # facet → {value: label} the index knows


# --- configuration ---------------------------------------------------------------------------

def setting(name: str, app: Flask | None = None) -> Any:
    app = app or current_app
    value = app.config[name]  # defaults in marketplace/config.py
    if name == "SEARCH_INDEX_PATH" and not value:
        # A test app never writes into the instance folder that a development site uses.
        value = _scratch_directory() if app.testing else os.path.join(app.instance_path, "search-index")
    return value


_scratch: list[str] = []


def _scratch_directory() -> str:
    if not _scratch:
        _scratch.append(tempfile.mkdtemp(prefix="search-index-"))
        atexit.register(shutil.rmtree, _scratch[0], True)
    return _scratch[0]


_whoosh_backends: dict[str, WhooshBackend] = {}


def backend(app: Flask | None = None) -> Backend:
    """The configured backend (one per index path and process: it keeps caches)."""
    app = app or current_app
    name = setting("SEARCH_BACKEND", app)
    if name == "postgres":
        from .postgres_backend import PostgresBackend

        return PostgresBackend()
    if name != "whoosh":
        raise RuntimeError(f'SEARCH_BACKEND must be "whoosh" or "postgres", not {name!r}')
    path = os.path.abspath(setting("SEARCH_INDEX_PATH", app))
    found = _whoosh_backends.get(path)
    if found is None:
        from .whoosh_backend import WhooshBackend

        found = _whoosh_backends[path] = WhooshBackend(
            path,
            lock_timeout=float(setting("SEARCH_LOCK_TIMEOUT", app)),
            cache_mb=int(setting("SEARCH_CACHE_MB", app)),
            build_procs=int(setting("SEARCH_BUILD_PROCS", app)),
            build_memory_mb=int(setting("SEARCH_BUILD_MEMORY_MB", app)),
        )
    return found


def init_app(app: Flask) -> None:
    from . import hooks, models  # noqa: F401  (the queue's table, before create_all)

    app.extensions["search"] = {"skills": None}
    hooks.register()


# --- the interface ---------------------------------------------------------------------------

def add_to_index(kind: str, ids: Iterable[int]) -> None:
    """Queue these objects and apply the queue now if the index is free."""
    enqueue(kind, ids)
    drain_quietly()


remove_from_index = add_to_index


def query_index(request: SearchRequest, viewer: Viewer, now: datetime | None = None) -> SearchResult:
    """Search as ``viewer``: only documents whose audience meets the viewer's tokens are
    counted, faceted or returned."""
    from ..operations import metrics

    engine = backend()
    with metrics.SEARCH_SECONDS.time():
        result = engine.query(request, viewer, now or utcnow(), skill_alternatives())
    metrics.search_cache_used(engine)
    return result


def warm(app: Flask) -> None:
    """Load this process's view of the index before a request needs it: otherwise a worker's
    first search or skill count waits for it (about 2 s at 100,000 jobs on PostgreSQL). An
    index that cannot be read is left for the requests to report."""
    from ..federation import ANONYMOUS

    with app.app_context():
        try:
            backend(app).counts_by_skill(ANONYMOUS, utcnow())  # reads the view, and the skills' bitsets
        except Exception:  # the site serves without search; its pages say so
            log.warning("search: the index could not be read before the first request", exc_info=True)
        finally:
            db.session.remove()


SKILLS_TTL = 60


def skill_alternatives() -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """((slug, name, synonyms), …) of the skill taxonomy, read at most once a minute per process
    (and at once after a skill changes here)."""
    from .documents import skill_alternatives as load

    state = current_app.extensions["search"]
    cached = state.get("skills")
    if cached is None or cached[0] < time.monotonic() - SKILLS_TTL:
        cached = state["skills"] = (time.monotonic(), tuple((slug, n, tuple(s)) for slug, n, s in load()))
    return cached[1]


def forget_skills() -> None:
    state = current_app.extensions.get("search")
    if state is not None:
        state["skills"] = None


# --- the queue -------------------------------------------------------------------------------

def enqueue(kind: str, ids: Iterable[int]) -> None:
    """Add queue rows in their own transaction (for changes made outside the session hooks)."""
    from .models import SearchQueue

    wanted = sorted(set(ids))
    if not wanted:
        return
    with Session(db.engine) as session:
        session.execute(insert(SearchQueue), [
            {"kind": kind, "object_id": object_id, "queued_at": utcnow()} for object_id in wanted
        ])
        session.commit()


def queue_length() -> int:
    from sqlalchemy import func

    from .models import SearchQueue

    with Session(db.engine) as session:
        return session.scalar(select(func.count()).select_from(SearchQueue)) or 0


def drain(app: Flask | None = None, timeout: float | None = None, rounds: int = DRAIN_ROUNDS) -> int:
    """Apply the queue to the index; returns the number of rows applied.

    Each object is read afresh from the database, so whatever order processes apply the
    queue in, the index ends with the last committed state. The lock is taken with a short
    timeout; if another process holds it, ``IndexBusy`` is raised and the rows stay queued
    for it (it looks at the queue again after each batch) or for the next commit.
    """
    from .documents import KINDS, load_documents
    from .models import SearchQueue

    engine = backend(app)
    applied = 0
    for _ in range(rounds):
        with Session(db.engine) as session:
            rows = session.execute(
                select(SearchQueue.id, SearchQueue.kind, SearchQueue.object_id)
                .order_by(SearchQueue.id).limit(QUEUE_BATCH)
            ).all()
            if not rows:
                break
            wanted: defaultdict[str, set[int]] = defaultdict(set)
            for _, kind, object_id in rows:
                wanted[kind].add(object_id)
            try:
                writer_context = engine.writer(session, timeout)
                with writer_context as writer:
                    for kind, ids in wanted.items():
                        if kind not in KINDS:
                            continue
                        documents = load_documents(session, kind, ids)
                        for object_id in sorted(ids):
                            if object_id in documents:
                                writer.put(documents[object_id])
                            else:
                                writer.delete(kind, object_id)
            except IndexMissing:
                session.rollback()
                if not _build_missing(app):
                    raise
                continue
            session.execute(delete(SearchQueue).where(SearchQueue.id.in_([r[0] for r in rows])))
            session.commit()
            applied += len(rows)
    return applied


def _build_missing(app: Flask | None) -> bool:
    """Build a missing index at once when the database is small (a new install)."""
    from .documents import KINDS, count_objects

    with Session(db.engine) as session:
        total = sum(count_objects(session, kind) for kind in KINDS)
    if total > int(setting("SEARCH_AUTO_BUILD_MAX", app)):
        log.error("the search index is missing: run `flask --app marketplace search reindex`")
        return False
    rebuild(app)
    return True


def drain_quietly(app: Flask | None = None) -> int:
    """``drain``, for request paths: the index never fails a request."""
    try:
        return drain(app)
    except IndexBusy:
        log.debug("search index busy: changes left queued for the lock holder")
    except SearchUnavailable as error:
        log.warning("search index unavailable (%s): changes left queued", error)
    except Exception:
        log.exception("search index update failed: changes left queued")
    return 0


def rebuild(app: Flask | None = None, progress: Callable[[int], object] | None = None) -> int:
    """Rebuild the whole index from the database (into a fresh place, then switch)."""
    from .documents import KINDS, count_objects, iter_documents

    engine = backend(app)
    with Session(db.engine) as session:
        total = sum(count_objects(session, kind) for kind in KINDS)

        def documents() -> Iterator[Document]:
            for kind in KINDS:
                yield from iter_documents(session, kind)

        count = engine.rebuild(documents(), total=total, progress=progress)
    return count


# --- checking --------------------------------------------------------------------------------

@dataclass
class CheckReport:
    missing: list[str]  # keys of objects with no document
    stale: list[str]  # keys whose document is older than the object (by updated_at)
    orphans: list[str]  # keys of documents whose object no longer exists
    queued: list[str]  # keys of objects waiting in the queue (changed, not yet applied)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.stale or self.orphans or self.queued)


def check(app: Flask | None = None) -> CheckReport:
    """Compare the index with the database, object by object. ``updated_at`` has whole
    seconds, so a change within the second of the previous one shows as queued instead."""
    from .documents import KINDS, document_key, source_versions
    from .models import SearchQueue

    engine = backend(app)
    indexed = engine.versions()
    missing: list[str] = []
    stale: list[str] = []
    expected: set[str] = set()
    with Session(db.engine) as session:
        for kind in KINDS:
            for object_id, updated_at in source_versions(session, kind).items():
                key = document_key(kind, object_id)
                expected.add(key)
                if key not in indexed:
                    missing.append(key)
                elif indexed[key] != updated_at:
                    stale.append(key)
        queued = {document_key(kind, object_id) for kind, object_id in
                  session.execute(select(SearchQueue.kind, SearchQueue.object_id).distinct())}
    orphans = sorted(set(indexed) - expected)
    return CheckReport(missing=sorted(missing), stale=sorted(stale), orphans=orphans,
                       queued=sorted(queued - set(missing) - set(stale) - set(orphans)))


def repair(report: CheckReport, app: Flask | None = None, timeout: float = 30) -> int:
    """Queue every object the report names and apply the queue (waiting up to ``timeout``
    seconds for the writer lock)."""
    from .documents import parse_key

    by_kind: defaultdict[str, list[int]] = defaultdict(list)
    for key in report.missing + report.stale + report.orphans:  # the queued ones are queued already
        kind, object_id = parse_key(key)
        by_kind[kind].append(object_id)
    for kind, ids in by_kind.items():
        enqueue(kind, ids)
    return drain(app, timeout=timeout)
