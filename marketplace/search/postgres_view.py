"""The PostgreSQL backend's reading side: each process keeps a view of ``search_document`` in
memory, and a search is evaluated on it with bitsets by the evaluator the Whoosh backend uses
(``whoosh_query.Query``), so both backends agree by construction.

What a process holds: the narrow columns of every document (kind, id, audience, skills, facet
values, place, location, dates), each document at a *docnum*, its position; the docnums of each
audience token, facet value and place; the documents presorted newest first and by deadline.
Not the words: the documents holding a word (a prefix, a long phrase) are asked of PostgreSQL's
GIN index when a search first needs them, and kept as a bitset in a bounded cache
(``SEARCH_CACHE_MB``), beside the bitsets made from the docnums held here.

Keeping current. Every row written is stamped with the id of its transaction (``changed_xid``)
and every deleted row leaves a tombstone so stamped (``models.CHANGE_FEED``). At the start of
each search, in one snapshot, the process reads what was stamped at or above its *watermark*,
then moves the watermark to that snapshot's xmin, the oldest transaction still running: every
change it has not seen yet is stamped at or above it, in whatever order the transactions
committed. A changed document gets a new docnum (the old one leaves ``live``) and its bit in each
cached bitset it belongs to (its words are read with it). So a search sees every change
committed before it started, the audience trigger's included, and the whole search (changes and
words) reads that one snapshot. Too many changes at once (a rebuild), too many dead docnums, or a
process idle for longer than tombstones are kept: the view is loaded afresh.
"""
from __future__ import annotations

import heapq
import sys
import threading
import time
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import OperationalError

from . import Hit, SearchTimeout, setting
from .models import TOMBSTONE_DAYS
from .postgres_query import MAX_RUN, quoted
from .whoosh_bits import (MAX_LOCATION_BITSETS, SMALL_SET, BitCache, Deadlines, Membership, bits_from,
                          members)
from .whoosh_analysis import EPOCH

# A document's narrow columns, as its terms and numbers: audience tokens and facet terms as the
# Whoosh backend indexes them (whoosh_backend._fields), dates as whoosh_analysis.epoch gives them,
# ``indexed_at`` in microseconds.
NARROW = """d.kind, d.object_id, d.changed_xid::text::bigint, array_to_string(d.audience, ' '),
concat_ws(' ', 'type:' || d.kind, 'kind:' || nullif(d.job_kind, ''), 'status:' || nullif(d.status, ''),
          'visibility:' || nullif(d.visibility, ''), 'budget:' || nullif(d.budget, ''),
          'mode:' || nullif(d.mode, ''), 'coop:' || d.coop_id,
          CASE WHEN cardinality(d.skills) > 0 THEN 'skill:' || array_to_string(d.skills, ' skill:') END),
d.place, d.location, coalesce(floor(extract(epoch FROM d.published_at))::bigint, 0),
coalesce(floor(extract(epoch FROM d.bids_deadline))::bigint, 0), d.coop_id,
(extract(epoch FROM d.source_updated_at) * 1000000)::bigint"""
WATERMARK = "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
LOAD = f"SELECT {NARROW} FROM search_document d"
# The documents written since the watermark, and those deleted since that exist again (a
# deletion may be followed by a new document under the same key), with their stamps; then the
# rows of those not applied yet, with their words.
CHANGED = """
SELECT kind, object_id, changed_xid::text::bigint FROM search_document WHERE changed_xid >= %(w)s::text::xid8
UNION
SELECT d.kind, d.object_id, d.changed_xid::text::bigint FROM search_document d
  JOIN search_tombstone t USING (kind, object_id) WHERE t.changed_xid >= %(w)s::text::xid8
"""
ROWS = f"SELECT {NARROW}" \
    ", tsvector_to_array(d.everything), tsvector_to_array(d.title) FROM search_document d" \
    " JOIN unnest(%(kinds)s::text[], %(ids)s::integer[]) AS k(kind, object_id) USING (kind, object_id)"
GONE = "SELECT kind, object_id FROM search_tombstone WHERE changed_xid >= %(w)s::text::xid8"
# A word's documents: by the GIN index of every field's words; the title's and the positions'
# words are always among them.
WHERE = {
    "text": "everything @@ %(q)s::tsquery",
    "title": "everything @@ %(q)s::tsquery AND title @@ %(q)s::tsquery",
    "phrase": "everything @@ %(runs)s::tsquery AND positions @@ %(q)s::tsquery",
}

RELOAD_CHANGES = 2000  # more changed documents than this (or a tenth of them) at once: load afresh
RELOAD_AFTER = TOMBSTONE_DAYS * 86400 / 2  # seconds since the last look after which tombstones may be gone
WORK_MEM = "32MB"  # a word's documents, as one bitmap
QUERY_CANCELED = "57014"  # SQLSTATE of a statement stopped by statement_timeout


def _terms(row: Any) -> dict[str, list[str]]:
    """{field: terms} of a document's row (``NARROW``)."""
    return {"audience": row[3].split(), "facet": row[4].split(), "place": [row[5]] if row[5] else [],
            "location": [row[6]] if row[6] else []}


class PostgresView:
    """The documents as one process sees them: what ``whoosh_query.Query`` asks of a view."""

    def __init__(self, cache: BitCache) -> None:
        self.cache = cache
        self.lock = threading.RLock()  # one search at a time in this process
        self.connection: Connection | None = None  # the search's, while it runs
        self.loaded = False
        self._reset()

    def _reset(self) -> None:
        self.size = 0
        self.live = 0
        self.dead = 0
        self.base = 0  # docnums below this are in the presorted orders; later ones are changes
        self.watermark = 0
        self.checked = time.monotonic()
        self.kinds: list[str] = []
        self.object_ids = array("q")
        self.stamps = array("q")  # changed_xid of each docnum's row
        self.updated = array("q")  # indexed_at, microseconds since the epoch
        self.published = array("q")
        self.deadline = array("q")
        self.coop = array("q")
        self.location: list[str] = []
        self.docnums: dict[str, dict[int, int]] = {}  # kind → {id: docnum}
        self.postings: dict[tuple[str, str], array[int]] = {}  # (field, term) → docnums
        self.facet_values: dict[str, set[str]] = {}  # facet name → values
        self.labels: set[str] = set()  # locations as written
        self.memo: dict[Any, Any] = {}  # whole answers, kept by whoosh_query under the live set
        self.cache.clear()

    # keeping current

    @contextmanager
    def reading(self, connection: Connection) -> Iterator[PostgresView]:
        """The view brought up to the connection's snapshot, for one search."""
        with self.lock:
            self.connection = connection
            try:
                watermark = connection.exec_driver_sql(WATERMARK).scalar_one()
                if not self.loaded or time.monotonic() - self.checked > RELOAD_AFTER:
                    self._load(connection, watermark)
                else:
                    self._refresh(connection, watermark)
                yield self
            finally:
                self.connection = None

    def _load(self, connection: Connection, watermark: int) -> None:
        self._reset()
        # Streamed: the rows held at once are a few thousand, not every document.
        streamed = {"stream_results": True, "max_row_buffer": 10000}
        for row in connection.exec_driver_sql(LOAD, execution_options=streamed):
            self._add(row)
        self.live = (1 << self.size) - 1
        self.base = self.size
        self._presort()
        self.watermark = watermark
        self.loaded = True

    def _refresh(self, connection: Connection, watermark: int) -> None:
        changed = connection.exec_driver_sql(CHANGED, {"w": self.watermark}).all()
        present = {(kind, object_id) for kind, object_id, _ in changed}
        # Those read before are read again while the watermark stays behind a running transaction.
        wanted = [(kind, object_id) for kind, object_id, stamp in changed if self._stamp(kind, object_id) != stamp]
        if len(wanted) > max(RELOAD_CHANGES, self.base // 10):
            self._load(connection, watermark)
            return
        for kind, object_id in connection.exec_driver_sql(GONE, {"w": self.watermark}):
            if (kind, object_id) not in present:
                self._remove(kind, object_id)
        if wanted:
            kinds, ids = zip(*wanted)
            rows = connection.exec_driver_sql(ROWS, {"kinds": list(kinds), "ids": list(ids)})
            self._to_cache([self._change(row) for row in rows])
        self.watermark = watermark
        self.checked = time.monotonic()
        if self.dead > self.base // 4 + RELOAD_CHANGES or self.size - self.base > max(RELOAD_CHANGES, self.base // 10):
            self._load(connection, watermark)

    def _stamp(self, kind: str, object_id: int) -> int | None:
        docnum = self.docnums.get(kind, {}).get(object_id)
        return None if docnum is None else self.stamps[docnum]

    def _add(self, row: Any) -> int:
        kind, object_id, stamp = sys.intern(row[0]), row[1], row[2]
        docnum = self.size
        self.size += 1
        self.kinds.append(kind)
        self.object_ids.append(object_id)
        self.stamps.append(stamp)
        self.location.append(sys.intern(row[6] or ""))
        self.published.append(row[7])
        self.deadline.append(row[8])
        self.coop.append(row[9] or 0)
        self.updated.append(row[10])
        self.docnums.setdefault(kind, {})[object_id] = docnum
        postings = self.postings
        for field, terms in _terms(row).items():
            for term in terms:
                found = postings.get((field, term))
                if found is None:
                    found = postings[(field, term)] = array("i")
                    if field == "facet":
                        name, _, value = term.partition(":")
                        self.facet_values.setdefault(name, set()).add(value)
                    elif field == "location":
                        self.labels.add(term)
                found.append(docnum)
        return docnum

    def _remove(self, kind: str, object_id: int) -> None:
        docnum = self.docnums.get(kind, {}).pop(object_id, None)
        if docnum is not None:
            self.live &= ~(1 << docnum)
            self.dead += 1

    def _change(self, row: Any) -> tuple[int, dict[str, set[str]]]:
        """A document written since the last look, at a new docnum: (docnum, {field: terms})."""
        self._remove(row[0], row[1])
        docnum = self._add(row)
        self.live |= 1 << docnum
        terms = {field: set(found) for field, found in _terms(row).items()}
        terms["text"], terms["title"] = set(row[-2]), set(row[-1])
        return docnum, terms

    def _to_cache(self, changes: list[tuple[int, dict[str, set[str]]]]) -> None:
        """The changed documents' bits in every cached bitset they belong to (by a term, or a
        prefix of one); a cached long phrase is dropped (its positions are not read here)."""
        exact: dict[tuple[str, str], list[int]] = {}
        for docnum, terms in changes:
            for field, found in terms.items():
                for term in found:
                    exact.setdefault((field, term), []).append(docnum)
        updated: list[tuple[tuple[Any, ...], int]] = []
        for key, bits in list(self.cache.entries.items()):
            field = key[0]
            if field == "phrase":
                self.cache.forget(key)
                continue
            if field.endswith("*"):
                docnums = [d for d, terms in changes if any(t.startswith(key[1]) for t in terms[field[:-1]])]
            else:
                docnums = exact.get((field, key[1]), [])
            if docnums:
                updated.append((key, bits | bits_from(docnums, self.size)))
        for key, bits in updated:
            self.cache.put(key, bits)

    def _presort(self) -> None:
        published, deadline, ids = self.published, self.deadline, self.object_ids
        docnums = range(self.base)
        self.newest = array("q", sorted(docnums, key=lambda d: (published[d], ids[d]), reverse=True))
        self.closing = Deadlines(sorted(docnums, key=lambda d: (deadline[d], -published[d], -ids[d])),
                                 deadline, self.base)
        self.latest = array("q", sorted(docnums, key=lambda d: (deadline[d], published[d], ids[d]), reverse=True))

    # what a query asks

    def bits(self, field: str, text: str) -> int:
        key = (field, text)
        found = self.cache.get(key)
        if found is None:
            found = self._compute(field, text)
            self.cache.put(key, found)
        return found

    def _compute(self, field: str, text: str) -> int:
        if field in ("audience", "facet", "place", "location"):
            return bits_from(self.postings.get((field, text), ()), self.size)
        if field.endswith("*"):
            return self._fetch(WHERE[field[:-1]], q=quoted(text) + ":*")
        return self._fetch(WHERE[field], q=quoted(text))

    def _fetch(self, where: str, **params: str) -> int:
        """The documents PostgreSQL finds ``where``, in this snapshot, as a bitset."""
        assert self.connection is not None
        found: list[int] = []
        statement = f"SELECT kind, array_agg(object_id) FROM search_document WHERE {where} GROUP BY kind"
        for kind, ids in self.connection.exec_driver_sql(statement, params):
            # The view was brought to this snapshot: every document found has its docnum.
            found += [d for d in map(self.docnums.get(kind, {}).get, ids) if d is not None]
        return bits_from(found, self.size)

    def phrase(self, words: tuple[str, ...]) -> int:
        if len(words) <= MAX_RUN:  # one lexeme of the index (postgres_query.runs)
            return self.bits("text", " ".join(words))
        key = ("phrase", *words)
        found = self.cache.get(key)
        if found is None:
            runs = [quoted(" ".join(words[i:i + MAX_RUN])) for i in range(len(words) - MAX_RUN + 1)]
            found = self._fetch(WHERE["phrase"], runs=" & ".join(runs), q=" <-> ".join(map(quoted, words)))
            self.cache.put(key, found)
        return found

    def prefix(self, field: str, stem: str) -> tuple[int, None]:
        """Documents holding a word that starts with ``stem`` (the words are not listed)."""
        return self.bits(field + "*", stem), None

    def deadline_after(self, moment: int) -> int:
        found = self.closing.after(moment)
        for docnum in range(self.base, self.size):
            if self.deadline[docnum] > moment:
                found |= 1 << docnum
        return found

    def by_location(self) -> dict[str, int] | None:
        """{location as written: bitset}; None when there are too many different locations
        for this to pay. Cached as words are, so that a change does not rebuild them all."""
        if len(self.labels) > MAX_LOCATION_BITSETS:
            return None
        return {label: self.bits("location", label) for label in self.labels}

    def column(self, name: str) -> Sequence[Any]:
        found: Sequence[Any] = getattr(self, name)
        return found

    def values(self, field: str, prefix: str) -> list[str]:
        """The values of the facet ``prefix`` names ("kind:")."""
        return sorted(self.facet_values.get(prefix.rstrip(":"), ()))

    def hits(self, docnums: Iterable[int]) -> list[Hit]:
        return [Hit(self.kinds[d], self.object_ids[d], EPOCH + timedelta(microseconds=self.updated[d]))
                for d in docnums]

    def spellings(self, word: str, distance: int) -> Iterable[str]:
        return ()  # no spelling suggestions from this backend

    def ordered(self, how: str, partition: int, start: int, count: int, now: int) -> list[int]:
        """``count`` docnums of ``partition`` from ``start``, in the order ``how``: as the SQL
        of the documents would order them (by date, then the newest published, then the
        highest id)."""
        key = self._sort_key(how)
        if partition.bit_count() <= SMALL_SET:
            return sorted(members(partition), key=key)[start:start + count]
        wanted = Membership(partition, self.size)
        out: list[int] = []
        for docnum in self._walk(how, now, key):
            if docnum in wanted:
                if start:
                    start -= 1
                    continue
                out.append(docnum)
                if len(out) == count:
                    break
        return out

    def _sort_key(self, how: str) -> Callable[[int], tuple[int, ...]]:
        published, deadline, ids = self.published, self.deadline, self.object_ids
        if how == "newest":
            return lambda d: (-published[d], -ids[d])
        if how == "deadline_asc":
            return lambda d: (deadline[d], -published[d], -ids[d])
        return lambda d: (-deadline[d], -published[d], -ids[d])

    def _walk(self, how: str, now: int, key: Callable[[int], tuple[int, ...]]) -> Iterator[int]:
        """Every docnum in the order ``how`` (the deadlines from ``now`` onwards, or back): the
        presorted ones merged with those changed since."""
        if how == "newest":
            walk: Iterable[int] = self.newest
        elif how == "deadline_asc":
            walk = self.closing.order[self.closing.passed(now):]
        else:
            walk = self.latest[self.base - self.closing.passed(now):]
        changed = [d for d in range(self.base, self.size)
                   if how == "newest" or (self.deadline[d] > now) == (how == "deadline_asc")]
        if not changed:
            return iter(walk)
        return heapq.merge(walk, sorted(changed, key=key), key=key)


_views: dict[str, PostgresView] = {}


def view_of(engine: Any) -> PostgresView:
    """This process's view of the documents of ``engine``'s database."""
    name = str(engine.url)
    if name not in _views:
        _views[name] = PostgresView(BitCache(int(setting("SEARCH_CACHE_MB")) * 1024 * 1024))
    return _views[name]


@contextmanager
def snapshot(engine: Any) -> Iterator[Connection]:
    """A connection of its own for one search (never the request's, whose own changes are not
    committed): one read-only snapshot; its statements, once the view is current, run under
    ``SEARCH_TIMEOUT_MS`` (a statement stopped by it raises ``SearchTimeout``) and through the
    words' index rather than a scan of the table."""
    limit = int(setting("SEARCH_TIMEOUT_MS"))
    with engine.connect() as connection:
        try:
            connection.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield connection
        except OperationalError as error:
            if getattr(error.orig, "sqlstate", None) == QUERY_CANCELED:
                raise SearchTimeout(f"the search ran longer than {limit} ms") from error
            raise
        finally:
            connection.rollback()


def limit_time(connection: Connection) -> None:
    """The rest of the search's statements: under ``SEARCH_TIMEOUT_MS``, by the index, no JIT."""
    limit = str(max(int(setting("SEARCH_TIMEOUT_MS")), 0))
    connection.exec_driver_sql(
        "SELECT set_config('statement_timeout', %(limit)s, true), set_config('work_mem', %(memory)s, true),"
        " set_config('jit', 'off', true), set_config('enable_seqscan', 'off', true)",
        {"limit": limit, "memory": WORK_MEM})
