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
"""
import heapq
import logging
import multiprocessing
import os
import queue
import re
import shutil
import threading
import time
import uuid
from array import array
from bisect import bisect_right
from collections import Counter, OrderedDict
from contextlib import contextmanager
from datetime import datetime
from functools import cached_property, lru_cache, partial
from itertools import compress, islice
from operator import itemgetter

from markupsafe import Markup, escape

# First: whoosh_codec imports Whoosh without its SyntaxWarning.
from .whoosh_codec import BulkWriter, Codec, commit_segments, frequency_value, positions_value
from whoosh import columns, fields, formats, index  # noqa: E402
from whoosh.analysis import Analyzer, RegexTokenizer, Token  # noqa: E402
from whoosh.filedb.filestore import FileStorage  # noqa: E402
from whoosh.index import LockError  # noqa: E402
from whoosh.lang.porter import stem as porter_stem  # noqa: E402
from whoosh.support.charset import accent_map  # noqa: E402

from . import Hit, IndexBusy, IndexMissing, SearchResult, SearchUnavailable
from .documents import COOP, JOB, document_key, parse_key, place_key, state_table
from .query import And, Not, Text

log = logging.getLogger(__name__)

STOP_WORDS = frozenset(
    "a an and are as at be by for from has have in is it of on or that the to was were will with".split()
)
# Accents folded one character for one, so that offsets into the text stay right for snippets.
_FOLD = str.maketrans({code: to for code, to in accent_map.items() if len(to) == 1})


def fold(text):
    return text.lower().translate(_FOLD)


_WORD_RE = re.compile(r"\w+(?:\.?\w+)*")
_stem = lru_cache(maxsize=100_000)(porter_stem)


class _Analyzer(Analyzer):
    """Words in lower case without accents, stop words out, English stems: in one pass,
    which costs a third of a chain of filters (indexing 100,000 jobs is mostly this).
    Positions skip stop words, so "bring your own device" matches "bring own device"."""

    is_morph = True

    def __call__(self, value, positions=False, chars=False, keeporiginal=False, removestops=True,
                 start_pos=0, start_char=0, tokenize=True, mode="", no_morph=False, **kwargs):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            token.original = token.text = value
            token.pos, token.startchar, token.endchar = start_pos, start_char, start_char + len(value)
            yield token
            return
        pos = start_pos
        for match in _WORD_RE.finditer(fold(value)):
            word = match.group()
            stopped = word in STOP_WORDS
            if stopped and removestops:
                continue
            token.stopped = stopped
            token.text = word if (stopped or no_morph) else _stem(word)
            token.boost = 1.0
            if keeporiginal:
                token.original = word
            if positions:
                token.pos = pos
                pos += not stopped
            if chars:
                token.startchar, token.endchar = start_char + match.start(), start_char + match.end()
            yield token


# The same analysis for documents and queries.
ANALYZER = _Analyzer()


SCHEMA = fields.Schema(
    key=fields.ID(stored=True, unique=True),
    updated=fields.STORED(),
    text=fields.TEXT(analyzer=ANALYZER),  # everything, with positions for phrases
    title=fields.TEXT(analyzer=ANALYZER, phrase=False, spelling=True),
    # "type:job", "kind:tender", "status:published", "skill:python", "coop:12" …
    facet=fields.KEYWORD(scorable=True),  # scorable: Whoosh then caches its lengths when writing
    audience=fields.KEYWORD(scorable=True),
    place=fields.ID(),
    published=fields.COLUMN(columns.NumericColumn("q", default=0)),
    deadline=fields.COLUMN(columns.NumericColumn("q", default=0)),
    coop=fields.COLUMN(columns.NumericColumn("q", default=0)),
    location=fields.COLUMN(columns.VarBytesColumn()),
)
TERM_FACETS = ("kind", "visibility", "budget", "mode", "skill")
MAX_EXPANSION = 200  # words a prefix may stand for
SMALL_SET = 256  # a set this small is listed and sorted rather than walked in order
MAX_LOCATION_BITSETS = 2000  # different locations in a segment up to which each has its bitset
COUNT_BY_BITSETS = 200  # results per location above which counting by bitsets beats a lookup each
EPOCH = datetime(1970, 1, 1)
CURRENT = "CURRENT"


def epoch(moment):
    return int((moment - EPOCH).total_seconds()) if moment else 0


def analyse(text):
    return [t.text for t in ANALYZER(text, mode="query")]


@lru_cache(maxsize=4)
def taxonomy(alternatives):
    """The skill taxonomy as queries use it, on both backends: ({analysed name: {analysed other
    names of the same skill}}, {stem: slugs of the skills whose names contain it})."""
    synonyms, words = {}, {}
    for slug, name, others in alternatives:
        variants = {tuple(analyse(v)) for v in (name, *others)} - {()}
        for variant in variants:
            synonyms.setdefault(variant, set()).update(variants - {variant})
            for word in variant:
                words.setdefault(word, set()).add(slug)
    return synonyms, words


SNIPPET_CHARS = 240  # at most, per passage
SNIPPET_CONTEXT = 60  # characters kept before the first marked word and after the last


def snippet(text, terms, passages=2):
    """The passages of ``text`` holding the most words whose analysed forms are in ``terms``,
    in text order, the words marked with <mark> and the rest escaped; None without such words."""
    hits = [match.span() for match in _WORD_RE.finditer(fold(text))
            if match.group() not in STOP_WORDS and _stem(match.group()) in terms]
    if not hits:
        return None
    groups = [[hits[0]]]
    for hit in hits[1:]:
        if hit[1] - groups[-1][0][0] <= SNIPPET_CHARS - 2 * SNIPPET_CONTEXT:
            groups[-1].append(hit)
        else:
            groups.append([hit])
    best = sorted(heapq.nlargest(passages, groups, key=len), key=lambda group: group[0][0])
    return Markup(" … ").join(_passage(text, group) for group in best)


def _passage(text, group):
    start = max(0, group[0][0] - SNIPPET_CONTEXT)
    end = min(len(text), group[-1][1] + SNIPPET_CONTEXT)
    if start:  # begin and end at whole words
        space = text.find(" ", start, group[0][0])
        start = space + 1 if space >= 0 else start
    if end < len(text):
        space = text.rfind(" ", group[-1][1], end)
        end = space if space >= 0 else end
    out, at = [], start
    for hit_start, hit_end in group:
        out.append(escape(text[at:hit_start]))
        out.append(Markup("<mark>%s</mark>") % text[hit_start:hit_end])
        at = hit_end
    out.append(escape(text[at:end]))
    return Markup("").join(out).strip()


# --- bitsets ---------------------------------------------------------------------------------

def bits_from(docnums, size):
    """A bitset of ``docnums`` (all below ``size``)."""
    buffer = bytearray((size >> 3) + 1)
    for d in docnums:
        buffer[d >> 3] |= 1 << (d & 7)
    return int.from_bytes(buffer, "little")


_FLAGS = bytes.maketrans(b"01", b"\x00\x01")


def flags(bitset):
    """One byte per docnum from 0, 1 where ``bitset`` has it: for ``itertools.compress``,
    which then picks the members' values out of a column at C speed."""
    return format(bitset, "b")[::-1].encode("ascii").translate(_FLAGS)


def members(bitset):
    """The docnums in ``bitset``, ascending."""
    if bitset.bit_count() <= 64:
        out = []
        while bitset:
            low = bitset & -bitset
            out.append(low.bit_length() - 1)
            bitset ^= low
        return out
    return list(compress(range(bitset.bit_length()), flags(bitset)))


class _Membership:
    """Fast "is docnum in this bitset" for walking a long ordered list."""

    def __init__(self, bitset, size):
        self.data = bitset.to_bytes((size >> 3) + 1, "little")

    def __contains__(self, docnum):
        return self.data[docnum >> 3] >> (docnum & 7) & 1


def _values_in(reader, word, docnums):
    """{docnum: posting value} of ``word`` in the text, for the live ``docnums`` (ascending) that
    hold it: the codec's matcher skips the blocks that hold none of them."""
    found = {}
    matcher = reader.postings("text", word)
    for docnum in docnums:
        if not matcher.is_active():
            break
        if matcher.id() < docnum:
            matcher.skip_to(docnum)
        if matcher.is_active() and matcher.id() == docnum:
            found[docnum] = matcher.value()
    return found


def _phrase_in(reader, words, candidates, size):
    """The candidates (a bitset of one segment) where ``words`` stand next to each other: the
    positions of each word read once per document, a phrase check in sets. A candidate
    deleted since its words' bitsets were cached has no positions, and is not confirmed."""
    docnums = members(candidates)
    values = {word: _values_in(reader, word, docnums) for word in set(words)}
    decode = SCHEMA["text"].format.decode_positions
    confirmed = []
    for docnum in docnums:
        if any(docnum not in values[word] for word in words):
            continue
        starts = set(decode(values[words[0]][docnum]))
        for shift, word in enumerate(words[1:], 1):
            starts &= {p - shift for p in decode(values[word][docnum])}
            if not starts:
                break
        if starts:
            confirmed.append(docnum)
    return bits_from(confirmed, size)


# --- per-segment data ------------------------------------------------------------------------

class _Segment:
    """What queries need from one segment; built once and kept while the segment lives."""

    CHECKPOINT = 1024

    def __init__(self, reader, cache):
        self.id = reader.segment().segment_id()
        self.size = reader.doc_count_all()
        self.cache = cache
        self.published = array("q", reader.column_reader("published", translate=False))
        self.deadline = array("q", reader.column_reader("deadline", translate=False))
        self.coop = array("q", reader.column_reader("coop", translate=False))
        self.location = [v.decode("utf-8") for v in reader.column_reader("location", translate=False)]
        published = self.published
        self.newest = array("q", sorted(range(self.size), key=lambda d: (published[d], d), reverse=True))
        self.by_deadline = array("q", sorted(range(self.size), key=self.deadline.__getitem__))
        self.sorted_deadlines = array("q", (self.deadline[d] for d in self.by_deadline))
        # suffix[k]: the documents from position k * CHECKPOINT of by_deadline to the end.
        suffix = [0]
        for start in range(((self.size - 1) // self.CHECKPOINT) * self.CHECKPOINT, -1, -self.CHECKPOINT):
            chunk = self.by_deadline[start:start + self.CHECKPOINT]
            suffix.append(suffix[-1] | bits_from(chunk, self.size))
        self.suffix = suffix[::-1]

    def _cached(self, key, compute):
        found = self.cache.get((self.id, *key))
        if found is None:
            found = compute()
            self.cache.put((self.id, *key), found)
        return found

    def bits(self, reader, field, text):
        """Documents holding the term."""
        return self._cached((field, text), lambda: bits_from(
            reader.postings(field, text).all_ids(), self.size) if (field, text) in reader else 0)

    def phrase(self, reader, words):
        """Documents where ``words`` stand next to each other in the text."""
        def compute():
            candidates = -1
            for word in set(words):
                candidates &= self.bits(reader, "text", word)
            return _phrase_in(reader, words, candidates, self.size) if candidates > 0 else 0
        return self._cached(("phrase", words), compute)

    @cached_property
    def by_location(self):
        """{location as written: bitset}; None when the segment has too many different
        locations for this to pay."""
        groups = {}
        for docnum, label in enumerate(self.location):
            groups.setdefault(label, []).append(docnum)
        if len(groups) > MAX_LOCATION_BITSETS:
            return None
        return {label: bits_from(docnums, self.size) for label, docnums in groups.items()}

    def deadline_after(self, moment):
        """Documents whose deadline is later than ``moment`` (epoch seconds)."""
        pos = bisect_right(self.sorted_deadlines, moment)
        block = -(-pos // self.CHECKPOINT)
        head = bits_from(self.by_deadline[pos:block * self.CHECKPOINT], self.size)
        return head | (self.suffix[block] if block < len(self.suffix) else 0)


class _BitCache:
    """Least-recently-used bitsets, bounded by their total size in bytes."""

    def __init__(self, max_bytes):
        self.max_bytes = max_bytes
        self.bytes = 0
        self.entries = OrderedDict()

    def get(self, key):
        found = self.entries.get(key)
        if found is not None:
            self.entries.move_to_end(key)
        return found

    def put(self, key, value):
        self.entries[key] = value
        self.bytes += (value.bit_length() >> 3) + 32
        while self.bytes > self.max_bytes and len(self.entries) > 1:
            _, old = self.entries.popitem(last=False)
            self.bytes -= (old.bit_length() >> 3) + 32

    def forget_segments(self, live_ids):
        for key in [k for k in self.entries if k[0] not in live_ids]:
            self.bytes -= (self.entries.pop(key).bit_length() >> 3) + 32


class _View:
    """One generation of the index, as the queries see it."""

    def __init__(self, directory, ix, segments_cache, bit_cache):
        self.directory = directory
        self.ix = ix
        self.searcher = ix.searcher()
        self.generation = ix.latest_generation()
        self.size = self.searcher.doc_count_all()
        self.leaves = []
        live = 0
        for leaf, offset in self.searcher.leaf_searchers():
            reader = leaf.reader()
            if reader.segment() is None:  # an index with no documents yet has no segments
                continue
            segid = reader.segment().segment_id()
            segment = segments_cache.get(segid)
            if segment is None:
                segment = segments_cache[segid] = _Segment(reader, bit_cache)
            deleted = bits_from(reader.segment().deleted_docs() or (), segment.size) \
                if reader.has_deletions() else 0
            live |= (((1 << segment.size) - 1) & ~deleted) << offset
            self.leaves.append((segment, offset, reader, leaf))
        self.live = live
        self._arrays = {}

    def _joined(self, per_segment):
        """One bitset over the index from ``per_segment(segment, reader)`` of each segment."""
        total = 0
        for segment, offset, reader, _leaf in self.leaves:
            found = per_segment(segment, reader)
            if found:
                total |= found << offset
        return total

    def bits(self, field, text):
        return self._joined(lambda segment, reader: segment.bits(reader, field, text))

    def phrase(self, words):
        return self._joined(lambda segment, reader: segment.phrase(reader, words))

    def deadline_after(self, moment):
        return self._joined(lambda segment, _reader: segment.deadline_after(moment))

    def by_location(self):
        """{location as written: bitset} over the whole index, or None (see _Segment)."""
        if "by_location" not in self._arrays:
            combined = {}
            for segment, offset, _reader, _leaf in self.leaves:
                found = segment.by_location
                if found is None:
                    combined = None
                    break
                for label, bits in found.items():
                    combined[label] = combined.get(label, 0) | bits << offset
            self._arrays["by_location"] = combined
        return self._arrays["by_location"]

    def column(self, name):
        """A column over the whole index (segments joined), built once per generation."""
        if name not in self._arrays:
            joined = [] if name == "location" else array("q")
            for segment, _offset, _reader, _leaf in self.leaves:
                joined += getattr(segment, name)
            self._arrays[name] = joined
        return self._arrays[name]

    def values(self, field, prefix):
        """The terms of ``field`` that start with ``prefix`` (strings, prefix removed)."""
        key = ("values", field, prefix)
        if key not in self._arrays:
            reader = self.searcher.reader()
            self._arrays[key] = [t.decode("utf-8")[len(prefix):] for t in reader.expand_prefix(field, prefix)]
        return self._arrays[key]

    def expand(self, field, prefix):
        reader = self.searcher.reader()
        found = []
        for term in reader.expand_prefix(field, prefix):
            found.append(term.decode("utf-8"))
            if len(found) > MAX_EXPANSION:
                break
        return found

    def ordered(self, how, partition, start, count, now):
        """``count`` docnums of ``partition`` from ``start``, in the order ``how``."""
        size = partition.bit_count()
        if size <= SMALL_SET:
            keys = self._sort_key(how)
            docs = sorted(members(partition), key=keys)
            return docs[start:start + count]
        wanted = _Membership(partition, self.size)
        out = []
        skipped = 0
        for docnum in self._walk(how, now):
            if docnum in wanted:
                if skipped < start:
                    skipped += 1
                    continue
                out.append(docnum)
                if len(out) == count:
                    break
        return out

    def _sort_key(self, how):
        if how == "newest":
            published = self.column("published")
            return lambda d: (-published[d], -d)
        deadline = self.column("deadline")
        if how == "deadline_asc":
            return lambda d: (deadline[d], d)
        return lambda d: (-deadline[d], -d)

    def _walk(self, how, now):
        """Every docnum, in order: newest first, or by deadline from ``now`` onwards (or back)."""
        streams = [_stream(segment, offset, how, now) for segment, offset, _reader, _leaf in self.leaves]
        if len(streams) == 1:
            return (item[2] for item in streams[0])
        return (item[2] for item in heapq.merge(*streams))


def _stream(segment, offset, how, now):
    """(sort key, tie-break, docnum) of one segment's documents, in the order ``how``. A function
    of its own so that each segment's generator keeps its own arrays and offset."""
    if how == "newest":
        published = segment.published
        return ((-published[d], -(d + offset), d + offset) for d in segment.newest)
    pos = bisect_right(segment.sorted_deadlines, now)
    order, deadlines = segment.by_deadline, segment.deadline
    if how == "deadline_asc":
        return ((deadlines[d], d + offset, d + offset) for d in order[pos:])
    return ((-deadlines[d], -(d + offset), d + offset) for d in reversed(order[:pos]))


# --- the backend -----------------------------------------------------------------------------

class WhooshBackend:
    name = "whoosh"

    def __init__(self, root, lock_timeout=0.25, cache_mb=64, build_procs=1, build_memory_mb=256):
        self.root = os.path.abspath(root)
        self.lock_timeout = lock_timeout
        self.build_procs = build_procs
        self.build_memory_mb = build_memory_mb
        self._lock = threading.RLock()  # one query or refresh at a time in this process
        self._write_lock = threading.Lock()  # Whoosh's file lock does not separate threads' writers
        self._view = None
        self._segments = {}
        self._bits = _BitCache(cache_mb * 1024 * 1024)

    def cache_bytes(self):
        """Bytes of posting bitsets this process keeps (at most SEARCH_CACHE_MB)."""
        return self._bits.bytes

    # layout

    def _current(self):
        try:
            with open(os.path.join(self.root, CURRENT), encoding="utf-8") as handle:
                name = handle.read().strip()
        except FileNotFoundError:
            return None
        return os.path.join(self.root, name) if name else None

    def _switch_to(self, directory):
        os.makedirs(self.root, exist_ok=True)
        temporary = os.path.join(self.root, f"{CURRENT}.{uuid.uuid4().hex}")
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(os.path.basename(directory))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, os.path.join(self.root, CURRENT))

    def _new_directory(self):
        os.makedirs(self.root, exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%M%S")
        directory = os.path.join(self.root, f"index-{stamp}-{uuid.uuid4().hex[:8]}")
        os.makedirs(directory)
        return directory

    def _open(self, directory=None):
        directory = directory or self._current()
        if directory is None or not os.path.isdir(directory) \
                or not any(name.endswith(".toc") for name in os.listdir(directory)):
            raise IndexMissing("The search index has not been built yet.")
        try:
            return index.open_dir(directory)
        except Exception as error:  # a damaged index: the site serves, search says so
            log.exception("search index at %s cannot be opened", directory)
            raise SearchUnavailable("The search index is damaged.") from error

    def create_empty(self):
        """Start an empty index (a new install, or a test): every later change is queued."""
        directory = self._new_directory()
        index.create_in(directory, SCHEMA)
        previous = self._current()
        self._switch_to(directory)
        self._remove_old(previous)

    def status(self):
        try:
            self._open()
        except SearchUnavailable as error:
            return str(error)
        return "ready"

    # reading

    def _fresh_view(self):
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
            view = _View(directory, ix, self._segments, self._bits)
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

    def query(self, request, viewer, now, alternatives=()):
        with self._lock:
            view = self._fresh_view()
            return _Query(view, request, viewer.tokens, now, self._skills(alternatives)).run()

    def _skills(self, alternatives):
        return taxonomy(tuple(alternatives))

    def snippets(self, result, texts):
        """{key: Markup or None} for (key, text) pairs: the best passages, words marked."""
        terms = result.highlight or frozenset()
        return {key: snippet(text, terms) if terms and text else None for key, text in texts}

    def versions(self):
        """{key: updated_at} of every document in the index."""
        with self._lock:
            view = self._fresh_view()
            return {
                fields_["key"]: datetime.fromisoformat(fields_["updated"])
                for fields_ in view.searcher.reader().all_stored_fields()
            }

    # writing

    @contextmanager
    def writer(self, session, timeout=None):
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
            except BaseException:
                batch.close()
                writer.cancel()
                raise
            batch.close()
            writer.commit()
        finally:
            self._write_lock.release()

    def rebuild(self, documents, total=None, progress=None):
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
                    segments, count = _build_in_processes(directory, fields_, procs, self.build_memory_mb,
                                                          progress)
                else:
                    segments, count = _build_segments(ix, fields_, self.build_memory_mb, progress)
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

    def _remove_old(self, previous):
        # Readers in other processes keep their open files; new ones open the new index.
        if previous and previous != self._current():
            shutil.rmtree(previous, ignore_errors=True)


class _Batch:
    def __init__(self, writer):
        self.writer = writer
        self._searcher = None

    def put(self, document):
        # update_document opens a reader of every segment for each document; one searcher
        # serves the whole batch (a key comes once in a batch, and the segments it reads
        # cannot change while this writer holds the lock).
        if self._searcher is None:
            self._searcher = self.writer.searcher()
        self.writer.delete_by_term("key", document.key, searcher=self._searcher)
        self.writer.add_document(**_fields(document))

    def close(self):
        if self._searcher is not None:
            self._searcher.close()
            self._searcher = None

    def delete(self, kind, object_id):
        self.writer.delete_by_term("key", document_key(kind, object_id))


def _fields(document):
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


# --- whole rebuilds ---------------------------------------------------------------------------

PARALLEL_BUILD_MIN = 20_000  # documents below which one process builds faster than several start
_BATCH = 500  # documents sent to a build process at a time
_POSTING_BYTES = 72  # memory one gathered posting takes, roughly (ids, weights, its value)


def _indexer(field):
    """``field.index``, or a shortcut that gives exactly the same postings for this module's
    analyser and for keywords split at spaces (analysing text is most of a build's work)."""
    format_ = type(field.format)
    if format_ in (formats.Positions, formats.Frequency) and field.format.field_boost == 1.0:
        if field.analyzer is ANALYZER:
            return partial(_analysed_postings, positions=format_ is formats.Positions)
        if type(field.analyzer) is RegexTokenizer and not field.analyzer.gaps \
                and not field.analyzer.expression.groups:
            return partial(_split_postings, field.analyzer.expression.findall)
    return field.index


def _analysed_postings(value, positions):
    """(term, frequency, weight, value) of each word of ``value``, as ANALYZER and Whoosh's
    Positions or Frequency format give them."""
    found = {}
    pos = 0
    for word in _WORD_RE.findall(fold(value)):
        if word in STOP_WORDS:
            continue
        term = _stem(word)
        if term in found:
            found[term].append(pos)
        else:
            found[term] = [pos]
        pos += 1
    for term, where in found.items():
        freq = len(where)
        encoded = positions_value(where) if positions else frequency_value(freq)
        yield term.encode("utf-8"), freq, float(freq), encoded


def _split_postings(split, value):
    """(term, frequency, weight, value) of each token of a keyword field, as Whoosh gives them."""
    for term, freq in Counter(split(value)).items():
        yield term.encode("utf-8"), freq, float(freq), frequency_value(freq)


def _build_segments(ix, fields_, memory_mb, progress=None):
    """Index every field dict of ``fields_`` into new segments of ``ix`` (another segment
    each time the gathered postings reach ``memory_mb``): ([segments], documents)."""
    limit = memory_mb * 1024 * 1024 // _POSTING_BYTES
    segments, count = [], 0
    indexers = {name: _indexer(field) for name, field in SCHEMA.items() if field.indexed}
    writer = BulkWriter(ix, indexers)
    for document in fields_:
        writer.add_document(**document)
        count += 1
        if progress:
            progress(1)
        if writer.gathered > limit:
            segments.append(writer.finish())
            writer = BulkWriter(ix, indexers)
    last = writer.finish()
    return segments + ([last] if last is not None else []), count


def _build_part(directory, jobs, results, memory_mb):
    """A build process: index the batches of field dicts from ``jobs`` until None."""
    try:
        def batches():
            while (batch := jobs.get()) is not None:
                yield from batch

        segments, _count = _build_segments(index.open_dir(directory), batches(), memory_mb)
        results.put(("segments", segments))
    except BaseException as error:  # reported to the parent, which raises it
        results.put(("error", f"{type(error).__name__}: {error}"))


def batched(items, size):
    """Lists of ``size`` items (the last one shorter)."""
    items = iter(items)
    while batch := list(islice(items, size)):
        yield batch


def _build_in_processes(directory, fields_, procs, memory_mb, progress=None):
    """Index ``fields_`` in ``procs`` processes, each writing its own segments, while this
    one reads the database: the build takes every core (Whoosh's analysis is pure Python)."""
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    workers = []
    for _ in range(procs):
        jobs = context.Queue(maxsize=4)
        process = context.Process(target=_build_part, args=(directory, jobs, results, memory_mb // procs),
                                  daemon=True)
        process.start()
        workers.append((process, jobs))

    def send(turn, batch):
        process, jobs = workers[turn % procs]
        while True:
            try:
                jobs.put(batch, timeout=1)
                return
            except queue.Full:
                if not process.is_alive():
                    raise RuntimeError("A search index build process stopped.") from None

    count = 0
    try:
        for turn, batch in enumerate(batched(fields_, _BATCH)):
            send(turn, batch)
            count += len(batch)
            if progress:
                progress(len(batch))
        for turn in range(procs):
            send(turn, None)
        segments = []
        while len(segments) < procs:
            try:
                kind, found = results.get(timeout=1)
            except queue.Empty:
                if not any(process.is_alive() for process, _jobs in workers):
                    raise RuntimeError("A search index build process stopped.") from None
                continue
            if kind == "error":
                raise RuntimeError(f"A search index build process failed: {found}")
            segments.append(found)
        segments = [segment for found in segments for segment in found]
    finally:
        for process, _jobs in workers:
            process.join(timeout=5)
            if process.is_alive():
                process.terminate()
    return segments, count


# --- one query -------------------------------------------------------------------------------

class _Query:
    """Evaluate a ``SearchRequest`` on one view: bitsets all the way, documents at the end."""

    def __init__(self, view, request, tokens, now, skills):
        self.view = view
        self.request = request
        self.now = epoch(now)
        self.synonyms, self.skill_words = skills
        self.terms = set()
        self.unmatched = []
        self.notices = list(request.query.notices)
        self.labels = {}
        audience = 0
        for token in tokens:
            audience |= view.bits("audience", token)
        self.audience = audience & view.live

    # text

    def leaf(self, node, field):
        if field == "skills":
            return self._skill_leaf(node)
        if node.prefix:
            # A prefix is matched as typed (lower case, accents folded), not stemmed.
            expanded = self.view.expand(field, fold(node.text))
            if len(expanded) > MAX_EXPANSION:
                self.notices.append(f"“{node.text}*” matches too many words: type more letters.")
                expanded = expanded[:MAX_EXPANSION]
            found = 0
            for term in expanded:
                found |= self.view.bits(field, term)
            if field == "text":
                self.terms.update(expanded)
                if not found & self.audience:  # words only hidden documents hold are unmatched too
                    self.unmatched.append(node.text)
            return found
        words = tuple(analyse(node.text))
        if not words:
            return None
        found = self._words(words, field, phrase=len(words) > 1)
        if field == "text":
            self.terms.update(words)
            if not found & self.audience and len(words) == 1:
                self.unmatched.append(node.text)
        for alternative in self.synonyms.get(words, ()):
            found |= self._words(alternative, field, phrase=len(alternative) > 1)
            if field == "text":
                self.terms.update(alternative)
        return found

    def _skill_leaf(self, node):
        """Jobs tagged with a skill whose name or synonyms hold all these words."""
        if node.prefix:
            stem = fold(node.text)
            slugs = set().union(*[s for w, s in self.skill_words.items() if w.startswith(stem)])
        else:
            words = analyse(node.text)
            slugs = set.intersection(*[self.skill_words.get(w, set()) for w in words]) if words else set()
        found = 0
        for slug in slugs:
            found |= self.view.bits("facet", f"skill:{slug}")
        return found

    def _words(self, words, field, phrase):
        if phrase and field == "text":
            return self.view.live & self.view.phrase(words)
        found = self.view.live
        for word in words:
            found &= self.view.bits(field, word)
            if not found:
                return 0
        return found

    def node(self, node, field):
        if isinstance(node, Text):
            return self.leaf(node, field)
        if isinstance(node, Not):
            inner = self.node(node.item, field)
            return None if inner is None else self.view.live & ~inner
        parts = [self.node(item, field) for item in node.items]
        parts = [p for p in parts if p is not None]
        if not parts:
            return None
        result = parts[0]
        for part in parts[1:]:
            result = (result & part) if isinstance(node, And) else (result | part)
        return result

    # the whole query

    def run(self):
        view, request = self.view, self.request
        query = request.query
        clauses = []  # (anywhere, in title, in skills) per clause
        for clause in query.clauses:
            anywhere = self.node(clause, "text")
            if anywhere is None:
                continue
            clauses.append((anywhere, self.node(clause, "title") or 0, self.node(clause, "skills") or 0))
        searched = bool(clauses)
        if query.clauses and not searched:
            self.notices.append("Your search had only very common words; try more specific ones.")
        matched = view.live
        if searched:
            matched = 0
            for anywhere, _title, _skills in clauses:
                matched |= anywhere
        for excluded in query.excluded:
            left_out = self.node(excluded, "text")
            if left_out:
                matched &= ~left_out
        matched &= self.audience
        kinds = {kind: matched & view.bits("facet", f"type:{kind}") for kind in (JOB, COOP)}

        if request.kind == JOB:
            selected, facets = self._facets(kinds[JOB])
        else:
            selected, facets = kinds[COOP], {}
        kind_counts = {kind: (selected if kind == request.kind else bits).bit_count()
                       for kind, bits in kinds.items()}
        total = selected.bit_count()
        start = (request.page - 1) * request.per_page
        docnums = self._page(selected, clauses, start, request.per_page)
        hits = self._hits(docnums)
        suggestions = self._suggestions() if self.unmatched else {}
        return SearchResult(
            hits=hits, total=total, facets=facets, kind_counts=kind_counts,
            suggestions=suggestions, notices=self.notices, searched=searched,
            highlight=frozenset(self.terms), labels={"location": self.labels},
        )

    # facets

    def _selection(self, name, value):
        view = self.view
        if name in TERM_FACETS:
            return view.bits("facet", f"{name}:{value}")
        if name == "coop":
            return view.bits("facet", f"coop:{value}")
        if name == "location":
            return view.bits("place", value)
        if name == "state":
            return self._state_bits().get(value, 0)
        return view.live

    def _state_bits(self):
        if not hasattr(self, "_states"):
            future = self.view.deadline_after(self.now)
            states = {}
            for (status, in_future), state in state_table().items():
                bits = self.view.bits("facet", f"status:{status}")
                bits &= future if in_future else ~future
                states[state] = states.get(state, 0) | bits
            self._states = states
        return self._states

    def _facets(self, base):
        """The selected documents, and {facet: [(value, count)]} where each count is the
        number of results that choosing that value (instead of the current one) gives."""
        filters = self.request.filters
        chosen = {name: self._selection(name, value) for name, value in filters.items()}
        everything = base
        for bits in chosen.values():
            everything &= bits
        facets = {}
        for name in ("kind", "state", "visibility", "budget", "mode", "skill", "location", "coop"):
            if name in chosen:
                others = base
                for other, bits in chosen.items():
                    if other != name:
                        others &= bits
            else:
                others = everything
            facets[name] = self._counts(name, others)
        return everything, facets

    def _counts(self, name, within):
        view = self.view
        if not within:
            return []
        if name in TERM_FACETS:
            counts = [(value, (within & view.bits("facet", f"{name}:{value}")).bit_count())
                      for value in view.values("facet", f"{name}:")]
        elif name == "state":
            counts = [(state, (within & bits).bit_count()) for state, bits in self._state_bits().items()]
        elif name == "coop":
            tally = Counter(compress(view.column("coop"), flags(within)))
            tally.pop(0, None)
            counts = zip(map(str, tally.keys()), tally.values())
        else:  # location: labels as written, counted by place
            by_location = view.by_location()
            if by_location is not None and within.bit_count() > COUNT_BY_BITSETS * len(by_location):
                found = [(label, (within & bits).bit_count()) for label, bits in by_location.items()]
            else:  # few documents: look each one up
                found = Counter(compress(view.column("location"), flags(within))).items()
            tally, labels = Counter(), {}
            for label, n in found:
                key = place_key(label)
                if key and n:
                    tally[key] += n
                    labels.setdefault(key, set()).add(label.strip())
            counts = list(tally.items())
            self.labels.update({key: min(variants) for key, variants in labels.items()})
        ordered = sorted([item for item in counts if item[1]], key=itemgetter(0))
        ordered.sort(key=itemgetter(1), reverse=True)  # most first, then by value (the sort is stable)
        return ordered

    # ordering

    def _page(self, selected, clauses, start, count):
        sort = self.request.sort
        if sort == "closing":
            future = self.view.deadline_after(self.now)
            partitions = [(selected & future, "deadline_asc"), (selected & ~future, "deadline_desc")]
        elif sort == "relevance" and clauses:
            partitions = ((p, "newest") for p in _tiers(selected, clauses))
        else:
            partitions = [(selected, "newest")]
        out = []
        for partition, how in partitions:
            size = partition.bit_count()
            if start >= size:
                start -= size
                continue
            out += self.view.ordered(how, partition, start, count - len(out), self.now)
            start = 0
            if len(out) >= count:
                break
        return out

    def _hits(self, docnums):
        hits = []
        for docnum in docnums:
            stored = self.view.searcher.stored_fields(docnum)
            kind, object_id = parse_key(stored["key"])
            hits.append(Hit(kind, object_id, datetime.fromisoformat(stored["updated"])))
        return hits

    def _suggestions(self):
        """{word: [spellings]}: title words near each unmatched word, only those in a title the
        viewer may see (so that no suggestion tells of a hidden job), the nearest first, then
        those in most of the viewer's documents. Whoosh keeps title words unstemmed in a
        spelling field; each is checked through its stems against the viewer's audience."""
        reader = self.view.searcher.reader()
        field = SCHEMA["title"]
        source = field.spelling_fieldname("title") if field.separate_spelling() else "title"
        found = {}
        for word in self.unmatched:
            if not word.isalpha():
                continue
            word = word.lower()
            for distance in (1, 2):
                scored = []
                for option in reader.terms_within(source, word, distance, prefix=1):
                    stems = tuple(analyse(option))
                    seen = self._words(stems, "title", phrase=False) & self.audience if stems else 0
                    if option != word and seen:
                        scored.append((-seen.bit_count(), option))
                if scored:
                    found[word] = [option for _, option in sorted(scored)[:3]]
                    break
        return found


def _tiers(selected, clauses):
    """The selected documents split into relevance tiers, best first: by the number of the
    query's clauses matched anywhere, then in the title, then in the skills."""
    digits = []
    for index_ in range(3):
        counter = []
        for clause in clauses:
            carry = clause[index_] & selected
            for i in range(len(counter)):
                if not carry:
                    break
                counter[i], carry = counter[i] ^ carry, counter[i] & carry
            if carry:
                counter.append(carry)
        digits += reversed(counter)

    def walk(bits, i):
        if not bits:
            return
        if i == len(digits):
            yield bits
            return
        yield from walk(bits & digits[i], i + 1)
        yield from walk(bits & ~digits[i], i + 1)

    return walk(selected, 0)
