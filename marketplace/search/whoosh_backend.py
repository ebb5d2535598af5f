"""The Whoosh backend: a full-text index on local disk, beside the instance data.

Layout of ``SEARCH_INDEX_PATH``::

    CURRENT          names the live index directory; ``search reindex`` replaces it atomically
    index-<stamp>/   Whoosh indexes (the live one, and a new one while it is being built)
    REBUILD_LOCK     held by ``search reindex``, so that two rebuilds never run at once

Reading. Whoosh stores the postings and analyses the text; this module keeps, for each index
segment, *bitsets* (Python ints, one bit per document) of the facet values, of the audience
tokens and of recently used words. The visibility filter, the facet counts and the ranking
tiers are then a few big-integer operations, however many documents match: that is what keeps
a query over 100,000 jobs within milliseconds in pure Python (Whoosh's own collectors visit
every matching document one by one).

Writing. Whoosh lets one writer work at a time. A writer is taken with a short timeout; a
process that cannot get it leaves its changes queued in the database for the lock holder,
the next commit or ``search check --repair``. No AsyncWriter, no unbounded retries.

Rebuilding. ``search reindex`` writes new segments with ``whoosh_codec.BulkWriter`` (postings gathered by
term, written a block at a time), in several processes for a big site; the files are the
same codec's, so readers and the incremental writer cannot tell the difference.

The parts: ``whoosh_analysis`` (how text is read: analyser, schema, snippets), ``whoosh_bits``
(the bitsets of each segment and the view over them), ``whoosh_query`` (one query),
``whoosh_build`` (whole rebuilds) and, here, the backend itself (the live index, writing).
"""
from __future__ import annotations

import logging
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar


# First: whoosh_codec imports Whoosh without its SyntaxWarning.
from .whoosh_codec import Codec, commit_segments, commit_with_segments
from whoosh import index  # noqa: E402
from whoosh.filedb.filestore import FileStorage  # noqa: E402
from whoosh.index import LockError  # noqa: E402

from . import IndexBusy, IndexMissing, SearchRequest, SearchUnavailable
from .documents import document_key, place_key
from .query import ParsedQuery
from .whoosh_analysis import ANALYZER, SCHEMA, Taxonomy, analyse, epoch, fold, snippet, taxonomy  # noqa: F401  (also the backend's names)
from .whoosh_bits import BitCache, View
from .whoosh_build import PARALLEL_BUILD_MIN, build_in_processes, build_segments
from .whoosh_query import Query

if TYPE_CHECKING:
    from markupsafe import Markup
    from sqlalchemy.orm import Session

    from ..federation import Viewer
    from . import SearchResult
    from .documents import Document
    from .whoosh_bits import _Segment
    from .whoosh_build import Fields, Progress

log = logging.getLogger(__name__)
T = TypeVar("T")

CURRENT = "CURRENT"


# --- the backend -----------------------------------------------------------------------------

class WhooshBackend:
    name = "whoosh"

    def __init__(self, root: str, lock_timeout: float = 0.25, cache_mb: int = 64, build_procs: int = 1,
                 build_memory_mb: int = 256) -> None:
        self.root = os.path.abspath(root)
        self.lock_timeout = lock_timeout
        self.build_procs = build_procs
        self.build_memory_mb = build_memory_mb
        self._lock = threading.RLock()  # one query or refresh at a time in this process
        self._write_lock = threading.Lock()  # Whoosh's file lock does not separate threads' writers
        self._view: View | None = None
        self._segments: dict[Any, _Segment] = {}
        self._bits = BitCache(cache_mb * 1024 * 1024)

    def cache_bytes(self) -> int:
        """Bytes of posting bitsets this process keeps (at most SEARCH_CACHE_MB)."""
        return self._bits.bytes

    # layout

    def _current(self) -> str | None:
        try:
            with open(os.path.join(self.root, CURRENT), encoding="utf-8") as handle:
                name = handle.read().strip()
        except FileNotFoundError:
            return None
        return os.path.join(self.root, name) if name else None

    def _switch_to(self, directory: str) -> None:
        os.makedirs(self.root, exist_ok=True)
        temporary = os.path.join(self.root, f"{CURRENT}.{uuid.uuid4().hex}")
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(os.path.basename(directory))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, os.path.join(self.root, CURRENT))

    def _new_directory(self) -> str:
        os.makedirs(self.root, exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%M%S")
        directory = os.path.join(self.root, f"index-{stamp}-{uuid.uuid4().hex[:8]}")
        os.makedirs(directory)
        return directory

    def _open(self, directory: str | None = None) -> Any:
        directory = directory or self._current()
        if directory is None or not os.path.isdir(directory) \
                or not any(name.endswith(".toc") for name in os.listdir(directory)):
            raise IndexMissing("The search index has not been built yet.")
        try:
            return index.open_dir(directory)
        except Exception as error:  # a damaged index: the site serves, search says so
            log.exception("search index at %s cannot be opened", directory)
            raise SearchUnavailable("The search index is damaged.") from error

    def create_empty(self) -> None:
        """Start an empty index (a new install, or a test): every later change is queued."""
        directory = self._new_directory()
        index.create_in(directory, SCHEMA)
        previous = self._current()
        self._switch_to(directory)
        self._remove_old(previous)

    def status(self) -> str:
        try:
            self._open()
        except SearchUnavailable as error:
            return str(error)
        return "ready"

    # reading

    def _fresh_view(self) -> View:
        directory = self._current()
        view = self._view
        if view is not None and view.directory == directory:
            try:
                if view.ix.latest_generation() == view.generation:
                    return view
            except Exception:
                pass
        ix = self._open(directory)
        try:
            view = View(directory, ix, self._segments, self._bits)
        except Exception as error:
            log.exception("search index at %s cannot be read", directory)
            raise SearchUnavailable("The search index is damaged.") from error
        live = {segment.id for segment, *_ in view.leaves}
        for segid in [s for s in self._segments if s not in live]:
            del self._segments[segid]
        self._bits.forget_segments(live)
        if self._view is not None:
            self._view.searcher.close()
        self._view = view
        return view

    def query(self, request: SearchRequest, viewer: Viewer, now: datetime,
              alternatives: Iterable[tuple[str, str, tuple[str, ...]]] = ()) -> SearchResult:
        return self._evaluate(Query.run, request, viewer, now, alternatives)

    def counts_by_skill(self, viewer: Viewer, now: datetime) -> dict[str, dict[str, int]]:
        return self._evaluate(Query.counts_by_skill, SearchRequest(query=ParsedQuery("")), viewer, now)

    def _evaluate(self, answer: Callable[[Query], T], request: SearchRequest, viewer: Viewer, now: datetime,
                  alternatives: Iterable[tuple[str, str, tuple[str, ...]]] = ()) -> T:
        with self._lock:
            view = self._fresh_view()
            return answer(Query(view, request, viewer.tokens, now, self._skills(alternatives)))

    def _skills(self, alternatives: Iterable[tuple[str, str, tuple[str, ...]]]) -> Taxonomy:
        return taxonomy(tuple(alternatives))

    def snippets(self, result: SearchResult, texts: Iterable[tuple[str, str]]) -> dict[str, Markup | None]:
        """{key: Markup or None} for (key, text) pairs: the best passages, words marked."""
        terms = result.highlight or frozenset()
        return {key: snippet(text, terms) if terms and text else None for key, text in texts}

    def versions(self) -> dict[str, datetime]:
        """{key: updated_at} of every document in the index."""
        with self._lock:
            view = self._fresh_view()
            return {
                fields_["key"]: datetime.fromisoformat(fields_["updated"])
                for fields_ in view.searcher.reader().all_stored_fields()
            }

    # writing

    @contextmanager
    def writer(self, session: Session, timeout: float | None = None) -> Iterator[_Batch]:
        """A batch of changes, committed to the index on leaving the block. Raises
        ``IndexBusy`` when another writer holds the lock beyond ``timeout`` seconds."""
        timeout = self.lock_timeout if timeout is None else timeout
        if not self._write_lock.acquire(timeout=timeout):
            raise IndexBusy()
        try:
            directory = self._current()
            ix = self._open(directory)
            try:
                writer = ix.writer(timeout=timeout, delay=0.02, codec=Codec())
            except LockError as error:
                raise IndexBusy() from error
            if self._current() != directory:  # rebuilt while we waited: write to the new one
                writer.cancel()
                raise IndexBusy()
            batch = _Batch(writer)
            try:
                yield batch
                batch.close()
                batch.commit(ix, self.build_memory_mb)
            except BaseException:
                batch.close()
                writer.cancel()
                raise
        finally:
            self._write_lock.release()

    def rebuild(self, documents: Iterable[Document], total: int | None = None,
                progress: Progress | None = None) -> int:
        """Build a fresh index from ``documents`` in a new directory, then switch to it.

        The live index's write lock is held meanwhile: changes committed during the build
        stay queued and are applied to the new index once it is live."""
        os.makedirs(self.root, exist_ok=True)
        rebuild_lock = FileStorage(self.root).lock("REBUILD_LOCK")
        if not rebuild_lock.acquire():
            raise IndexBusy("Another rebuild is running.")
        previous = self._current()
        old_lock = None
        try:
            if previous and os.path.isdir(previous):
                old_lock = FileStorage(previous).lock("MAIN_WRITELOCK")
                deadline = time.monotonic() + 60
                while not old_lock.acquire():
                    if time.monotonic() > deadline:
                        raise IndexBusy("The index stayed locked by another writer for a minute.")
                    time.sleep(0.1)
            directory = self._new_directory()
            try:
                ix = index.create_in(directory, SCHEMA)
                procs = self.build_procs if (total or 0) >= PARALLEL_BUILD_MIN else 1
                fields_ = (_fields(document) for document in documents)
                if procs > 1:
                    segments, count = build_in_processes(directory, fields_, procs, self.build_memory_mb,
                                                          progress)
                else:
                    segments, count = build_segments(ix, fields_, self.build_memory_mb, progress)
                commit_segments(ix, segments)
            except BaseException:
                shutil.rmtree(directory, ignore_errors=True)
                raise
            self._switch_to(directory)
        finally:
            if old_lock is not None:
                old_lock.release()
            rebuild_lock.release()
        self._remove_old(previous)
        return count

    def _remove_old(self, previous: str | None) -> None:
        # Readers in other processes keep their open files; new ones open the new index.
        if previous and previous != self._current():
            shutil.rmtree(previous, ignore_errors=True)


# Documents in a batch from which they are written as a segment of their own, as a rebuild
# writes them (whoosh_build): an import of a thousand jobs indexes about three times faster than
# through Whoosh's writer, which sorts every posting through a pool. Fewer go through the writer.
BULK_MIN = 50


class _Batch:
    def __init__(self, writer: Any) -> None:
        self.writer = writer
        self._searcher: Any = None
        self._added: list[dict[str, Any]] = []  # field dicts of the documents put, written on commit

    def put(self, document: Document) -> None:
        # update_document opens a reader of every segment for each document; one searcher
        # serves the whole batch (a key comes once in a batch, and the segments it reads
        # cannot change while this writer holds the lock).
        if self._searcher is None:
            self._searcher = self.writer.searcher()
        self.writer.delete_by_term("key", document.key, searcher=self._searcher)
        self._added.append(_fields(document))

    def close(self) -> None:
        if self._searcher is not None:
            self._searcher.close()
            self._searcher = None

    def commit(self, ix: Any, memory_mb: int) -> None:
        """Write the documents put and the deletions, in one commit of the index."""
        if len(self._added) < BULK_MIN:
            for fields_ in self._added:
                self.writer.add_document(**fields_)
            self.writer.commit()
            return
        segments, _count = build_segments(ix, self._added, memory_mb)
        commit_with_segments(self.writer, segments)

    def delete(self, kind: str, object_id: int) -> None:
        self.writer.delete_by_term("key", document_key(kind, object_id))


def _fields(document: Document) -> Fields:
    facets = [f"type:{document.kind}"] + [f"skill:{slug}" for slug in document.skills]
    facets += [f"{name}:{value}" for name, value in document.facets.items()]
    location = document.location
    return {
        "key": document.key,
        "updated": document.updated_at.isoformat(),
        "text": document.everything,
        "title": document.title,
        "facet": " ".join(facets),
        "audience": " ".join(sorted(document.audience)),
        "place": place_key(location),
        "published": epoch(document.published_at),
        "deadline": epoch(document.bids_deadline),
        "coop": int(document.facets.get("coop") or 0),
        "location": location.encode("utf-8"),
    }
