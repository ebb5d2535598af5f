"""What keeps a query fast: *bitsets* (Python ints, one bit per document) of the facet values, of
the audience tokens and of recently used words, cached across queries (``BitCache``). For the
Whoosh index: each segment's (``_Segment``) and one ``View`` that joins the segments of an open
index. The bitset helpers, the cache and ``Deadlines`` serve the PostgreSQL backend's view too
(``postgres_view``)."""
from __future__ import annotations

import heapq
import sys
from array import array
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from functools import cached_property
from itertools import compress
from datetime import datetime
from typing import Any

from . import Hit
from .documents import parse_key
from .whoosh_analysis import SCHEMA




MAX_EXPANSION = 200  # words a prefix may stand for
SMALL_SET = 256  # a set this small is listed and sorted rather than walked in order
MAX_LOCATION_BITSETS = 2000  # different locations in a segment up to which each has its bitset


# --- bitsets ---------------------------------------------------------------------------------

def bits_from(docnums: Iterable[int], size: int) -> int:
    """A bitset of ``docnums`` (all below ``size``)."""
    buffer = bytearray((size >> 3) + 1)
    for d in docnums:
        buffer[d >> 3] |= 1 << (d & 7)
    return int.from_bytes(buffer, "little")


_FLAGS = bytes.maketrans(b"01", b"\x00\x01")


def flags(bitset: int) -> bytes:
    """One byte per docnum from 0, 1 where ``bitset`` has it: for ``itertools.compress``,
    which then picks the members' values out of a column at C speed."""
    return format(bitset, "b")[::-1].encode("ascii").translate(_FLAGS)


def members(bitset: int) -> list[int]:
    """The docnums in ``bitset``, ascending."""
    if bitset.bit_count() <= 64:
        out: list[int] = []
        while bitset:
            low = bitset & -bitset
            out.append(low.bit_length() - 1)
            bitset ^= low
        return out
    return list(compress(range(bitset.bit_length()), flags(bitset)))


class Membership:
    """Fast "is docnum in this bitset" for walking a long ordered list."""

    def __init__(self, bitset: int, size: int) -> None:
        self.data = bitset.to_bytes((size >> 3) + 1, "little")

    def __contains__(self, docnum: int) -> int:  # (``in`` makes it a bool)
        return self.data[docnum >> 3] >> (docnum & 7) & 1


def _values_in(reader: Any, word: str, docnums: Iterable[int]) -> dict[int, bytes]:
    """{docnum: posting value} of ``word`` in the text, for the live ``docnums`` (ascending) that
    hold it: the codec's matcher skips the blocks that hold none of them."""
    found: dict[int, bytes] = {}
    matcher = reader.postings("text", word)
    for docnum in docnums:
        if not matcher.is_active():
            break
        if matcher.id() < docnum:
            matcher.skip_to(docnum)
        if matcher.is_active() and matcher.id() == docnum:
            found[docnum] = matcher.value()
    return found


def _phrase_in(reader: Any, words: Sequence[str], candidates: int, size: int) -> int:
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

    def __init__(self, reader: Any, cache: BitCache) -> None:
        self.id = reader.segment().segment_id()
        self.size = reader.doc_count_all()
        self.cache = cache
        self.published = array("q", reader.column_reader("published", translate=False))
        self.deadline = array("q", reader.column_reader("deadline", translate=False))
        self.coop = array("q", reader.column_reader("coop", translate=False))
        self.location = [v.decode("utf-8") for v in reader.column_reader("location", translate=False)]
        published = self.published
        self.newest = array("q", sorted(range(self.size), key=lambda d: (published[d], d), reverse=True))
        self.deadlines = Deadlines(sorted(range(self.size), key=self.deadline.__getitem__), self.deadline, self.size)

    def _cached(self, key: tuple[Any, ...], compute: Callable[[], int]) -> int:
        found = self.cache.get((self.id, *key))
        if found is None:
            found = compute()
            self.cache.put((self.id, *key), found)
        return found

    def bits(self, reader: Any, field: str, text: str) -> int:
        """Documents holding the term."""
        return self._cached((field, text), lambda: bits_from(
            reader.postings(field, text).all_ids(), self.size) if (field, text) in reader else 0)

    def phrase(self, reader: Any, words: tuple[str, ...]) -> int:
        """Documents where ``words`` stand next to each other in the text."""
        def compute() -> int:
            candidates = -1
            for word in set(words):
                candidates &= self.bits(reader, "text", word)
            return _phrase_in(reader, words, candidates, self.size) if candidates > 0 else 0
        return self._cached(("phrase", words), compute)

    @cached_property
    def by_location(self) -> dict[str, int] | None:
        """{location as written: bitset}; None when the segment has too many different
        locations for this to pay."""
        groups: dict[str, list[int]] = {}
        for docnum, label in enumerate(self.location):
            groups.setdefault(label, []).append(docnum)
        if len(groups) > MAX_LOCATION_BITSETS:
            return None
        return {label: bits_from(docnums, self.size) for label, docnums in groups.items()}

    def deadline_after(self, moment: int) -> int:
        return self.deadlines.after(moment)


class Deadlines:
    """Documents in order of their deadlines (epoch seconds), and the bitset of those whose
    deadline is later than a moment in a few big-integer operations."""

    CHECKPOINT = 1024

    def __init__(self, order: Iterable[int], deadline: Sequence[int], size: int) -> None:
        self.order = array("q", order)
        self.size = size
        self.sorted = array("q", (deadline[d] for d in self.order))
        # suffix[k]: the documents from position k * CHECKPOINT of the order to the end.
        suffix = [0]
        for start in range(((len(self.order) - 1) // self.CHECKPOINT) * self.CHECKPOINT, -1, -self.CHECKPOINT):
            chunk = self.order[start:start + self.CHECKPOINT]
            suffix.append(suffix[-1] | bits_from(chunk, size))
        self.suffix = suffix[::-1]

    def passed(self, moment: int) -> int:
        """How many documents' deadlines are not later than ``moment`` (the first in the order)."""
        return bisect_right(self.sorted, moment)

    def after(self, moment: int) -> int:
        """Documents whose deadline is later than ``moment``."""
        pos = self.passed(moment)
        block = -(-pos // self.CHECKPOINT)
        head = bits_from(self.order[pos:block * self.CHECKPOINT], self.size)
        return head | (self.suffix[block] if block < len(self.suffix) else 0)


# An entry's dict node and the pointers around it, beyond its key and value.
ENTRY_OVERHEAD = 100


def _cost(key: tuple[Any, ...], value: int) -> int:
    """What an entry holds in memory: the bitset, its key (a tuple of short strings) and its
    node. With a small index the bitsets are small and the rest is most of it: counting the
    bitsets alone let a full cache hold over twice SEARCH_CACHE_MB."""
    return (sys.getsizeof(value) + sys.getsizeof(key) + ENTRY_OVERHEAD
            + sum(sys.getsizeof(part) for part in key if isinstance(part, str)))


class BitCache:
    """Least-recently-used bitsets, bounded by the memory their entries take."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self.entries: OrderedDict[tuple[Any, ...], int] = OrderedDict()

    def get(self, key: tuple[Any, ...]) -> int | None:
        found = self.entries.get(key)
        if found is not None:
            self.entries.move_to_end(key)
        return found

    def put(self, key: tuple[Any, ...], value: int) -> None:
        old = self.entries.pop(key, None)
        if old is not None:
            self.bytes -= _cost(key, old)
        self.entries[key] = value
        self.bytes += _cost(key, value)
        while self.bytes > self.max_bytes and len(self.entries) > 1:
            oldest, old = self.entries.popitem(last=False)
            self.bytes -= _cost(oldest, old)

    def forget(self, key: tuple[Any, ...]) -> None:
        old = self.entries.pop(key, None)
        if old is not None:
            self.bytes -= _cost(key, old)

    def clear(self) -> None:
        self.entries.clear()
        self.bytes = 0

    def forget_segments(self, live_ids: Collection[Any]) -> None:
        for key in [k for k in self.entries if k[0] not in live_ids]:
            self.bytes -= _cost(key, self.entries.pop(key))


def _shared_term(field: str, text: str) -> bool:
    """A facet or audience term with few values site-wide (not a co-op's own, of which there
    are thousands): its bitset is worth keeping for the whole generation."""
    if field == "facet":
        return not text.startswith("coop:")
    return field == "audience" and text.startswith("visibility:")


class View:
    """One generation of the index, as the queries see it."""

    def __init__(self, directory: str | None, ix: Any, segments_cache: dict[Any, _Segment],
                 bit_cache: BitCache) -> None:
        self.directory = directory
        self.ix = ix
        self.searcher = ix.searcher()
        self.generation = ix.latest_generation()
        self.size = self.searcher.doc_count_all()
        # (segment, its first docnum in the index, its reader, its searcher)
        self.leaves: list[tuple[_Segment, int, Any, Any]] = []
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
        self._arrays: dict[Any, Any] = {}  # what is built once per generation, by name
        self.memo: dict[Any, Any] = {}  # whole answers, kept by whoosh_query (insertion ordered)

    def _joined(self, per_segment: Callable[[_Segment, Any], int]) -> int:
        """One bitset over the index from ``per_segment(segment, reader)`` of each segment."""
        total = 0
        for segment, offset, reader, _leaf in self.leaves:
            found = per_segment(segment, reader)
            if found:
                total |= found << offset
        return total

    def bits(self, field: str, text: str) -> int:
        if not _shared_term(field, text):
            return self._joined(lambda segment, reader: segment.bits(reader, field, text))
        # A term of the few that nearly every query asks for (a skill, a state, a visibility):
        # joined across the segments once per generation, not once per query.
        kept = self._arrays.setdefault("shared_bits", {})
        found = kept.get((field, text))
        if found is None:
            found = kept[(field, text)] = self._joined(lambda segment, reader: segment.bits(reader, field, text))
        return found

    def phrase(self, words: tuple[str, ...]) -> int:
        return self._joined(lambda segment, reader: segment.phrase(reader, words))

    def deadline_after(self, moment: int) -> int:
        return self._joined(lambda segment, _reader: segment.deadline_after(moment))

    def by_location(self) -> dict[str, int] | None:
        """{location as written: bitset} over the whole index, or None (see _Segment)."""
        if "by_location" not in self._arrays:
            combined: dict[str, int] = {}
            for segment, offset, _reader, _leaf in self.leaves:
                found = segment.by_location
                if found is None:
                    self._arrays["by_location"] = None
                    return None
                for label, bits in found.items():
                    combined[label] = combined.get(label, 0) | bits << offset
            self._arrays["by_location"] = combined
        return self._arrays["by_location"]

    def column(self, name: str) -> Sequence[Any]:
        """A column over the whole index (segments joined), built once per generation."""
        if name not in self._arrays:
            joined: Any = [] if name == "location" else array("q")
            for segment, _offset, _reader, _leaf in self.leaves:
                joined += getattr(segment, name)
            self._arrays[name] = joined
        return self._arrays[name]

    def values(self, field: str, prefix: str) -> list[str]:
        """The terms of ``field`` that start with ``prefix`` (strings, prefix removed)."""
        key = ("values", field, prefix)
        if key not in self._arrays:
            reader = self.searcher.reader()
            self._arrays[key] = [t.decode("utf-8")[len(prefix):] for t in reader.expand_prefix(field, prefix)]
        return self._arrays[key]

    def expand(self, field: str, prefix: str) -> list[str]:
        reader = self.searcher.reader()
        found: list[str] = []
        for term in reader.expand_prefix(field, prefix):
            found.append(term.decode("utf-8"))
            if len(found) > MAX_EXPANSION:
                break
        return found

    def prefix(self, field: str, stem: str) -> tuple[int, list[str] | None]:
        """(documents holding a word that starts with ``stem``, the words it stands for: at most
        ``MAX_EXPANSION``, one more when there are more)."""
        expanded = self.expand(field, stem)
        found = 0
        for term in expanded[:MAX_EXPANSION]:
            found |= self.bits(field, term)
        return found, expanded

    def hits(self, docnums: Iterable[int]) -> list[Hit]:
        hits = []
        for docnum in docnums:
            stored = self.searcher.stored_fields(docnum)
            kind, object_id = parse_key(stored["key"])
            hits.append(Hit(kind, object_id, datetime.fromisoformat(stored["updated"])))
        return hits

    def spellings(self, word: str, distance: int) -> Iterable[str]:
        """Title words (unstemmed) within ``distance`` edits of ``word``, the first letter alike."""
        field = SCHEMA["title"]
        source = field.spelling_fieldname("title") if field.separate_spelling() else "title"
        return self.searcher.reader().terms_within(source, word, distance, prefix=1)

    def ordered(self, how: str, partition: int, start: int, count: int, now: int) -> list[int]:
        """``count`` docnums of ``partition`` from ``start``, in the order ``how``."""
        size = partition.bit_count()
        if size <= SMALL_SET:
            keys = self._sort_key(how)
            docs = sorted(members(partition), key=keys)
            return docs[start:start + count]
        wanted = Membership(partition, self.size)
        out: list[int] = []
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

    def _sort_key(self, how: str) -> Callable[[int], tuple[int, int]]:
        if how == "newest":
            published = self.column("published")
            return lambda d: (-published[d], -d)
        deadline = self.column("deadline")
        if how == "deadline_asc":
            return lambda d: (deadline[d], d)
        return lambda d: (-deadline[d], -d)

    def _walk(self, how: str, now: int) -> Iterator[int]:
        """Every docnum, in order: newest first, or by deadline from ``now`` onwards (or back)."""
        streams = [_stream(segment, offset, how, now) for segment, offset, _reader, _leaf in self.leaves]
        if len(streams) == 1:
            return (item[2] for item in streams[0])
        return (item[2] for item in heapq.merge(*streams))


def _stream(segment: _Segment, offset: int, how: str, now: int) -> Iterator[tuple[int, int, int]]:
    """(sort key, tie-break, docnum) of one segment's documents, in the order ``how``. A function
    of its own so that each segment's generator keeps its own arrays and offset."""
    if how == "newest":
        published = segment.published
        return ((-published[d], -(d + offset), d + offset) for d in segment.newest)
    pos = segment.deadlines.passed(now)
    order, deadlines = segment.deadlines.order, segment.deadline
    if how == "deadline_asc":
        return ((deadlines[d], d + offset, d + offset) for d in order[pos:])
    return ((-deadlines[d], -(d + offset), d + offset) for d in reversed(order[:pos]))
