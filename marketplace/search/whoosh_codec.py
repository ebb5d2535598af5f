"""Every use of Whoosh's private names, in one place: the rebuild's bulk writer.

Queries read the index through Whoosh's public API alone (``reader.postings``, ``all_ids``,
``skip_to``, ``value``). A rebuild writes whole segments through the W3 codec's own block
writer, below the segment writer's public methods, where Whoosh's writer sorts every posting
through an on-disk pool and hands them over one at a time: about 1.8× faster (figures from
``bench/bench_whoosh_codec.py`` in the README). The private names are those of Whoosh 2.7.4,
the one version ``pyproject.toml`` allows; ``tests/search/test_build.py`` checks that a bulk
rebuild writes exactly what Whoosh's own writer writes, and ``tests/search/test_whoosh_codec.py``
the posting values against Whoosh's formats, so a Whoosh that changes them fails there.

Whoosh 2.7.4's codec has ``fixedsize is 0``, a SyntaxWarning when Python compiles it (an error
under ``-W error``): the modules are imported here, first, with that warning silenced.

Reading: Whoosh maps each segment's compound file into memory, then hands out each file inside
it as a ``BufferFile`` over a view of the map, which copies that file into the process's own
heap (``BytesIO(view)``): every worker held a private copy of the index's postings and columns,
some 80 MB at 100,000 jobs. ``ViewFile`` reads the view in place instead, so the pages stay the
kernel's, shared by every worker and dropped under memory pressure.
"""
from __future__ import annotations

import pickle
import warnings
from array import array
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

with warnings.catch_warnings():
    warnings.simplefilter("ignore", SyntaxWarning)
    from whoosh.codec.whoosh3 import W3Codec
    from whoosh.filedb import compound
    from whoosh.filedb.structfile import BufferFile
    from whoosh.system import pack_uint
    from whoosh.writing import SegmentWriter


# --- reading in place -------------------------------------------------------------------------

class _InPlace:
    """A read-only file over a memory view: reads copy only the bytes asked for."""

    def __init__(self, view: memoryview) -> None:
        self.view = view
        self.pos = 0

    def read(self, size: int | None = -1) -> bytes:
        end = len(self.view) if size is None or size < 0 else min(self.pos + size, len(self.view))
        data = bytes(self.view[self.pos:end])
        self.pos = max(end, self.pos)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def readline(self, size: int | None = -1) -> bytes:
        limit = len(self.view) if size is None or size < 0 else min(self.pos + size, len(self.view))
        start = self.pos
        while start < limit:  # a chunk at a time: a line may be longer than one
            end = bytes(self.view[start:min(start + 4096, limit)]).find(b"\n")
            if end >= 0:
                return self.read(start + end + 1 - self.pos)
            start += 4096
        return self.read(limit - self.pos)

    def seek(self, offset: int, whence: int = 0) -> int:
        self.pos = max(0, offset + (0, self.pos, len(self.view))[whence])
        return self.pos

    def tell(self) -> int:
        return self.pos

    def close(self) -> None:
        self.view = memoryview(b"")


class ViewFile(BufferFile):
    """Whoosh's ``BufferFile`` without its copy: random reads (``get``, ``get_array``, which
    the codec's readers use) slice the view as before; sequential reads go through ``_InPlace``."""

    def __init__(self, buf: Any, name: str | None = None, onclose: Any = None) -> None:
        self._buf = memoryview(buf)
        self._name = name
        self.file = _InPlace(self._buf)
        self.onclose = onclose
        self.is_real = False
        self.is_closed = False

    def subset(self, position: int, length: int, name: str | None = None) -> ViewFile:
        return ViewFile(self._buf[position:position + length], name=name or self._name)


# Segments' files are read from the map, not copied: Whoosh's compound storage names the class it
# wraps them in at module level, and this module is imported before any index is opened.
compound.BufferFile = ViewFile


class Codec(W3Codec):
    """Whoosh's codec without per-block length statistics: they serve BM25's block skipping,
    which this backend does not use, and cost a column read for every posting written."""

    length_stats = False


# --- posting values, as the Positions and Frequency formats encode them ---------------------

@lru_cache(maxsize=4096)
def _one_position(pos: int) -> bytes:  # most words occur once in a document: one shared value each
    return pack_uint(1) + pickle.dumps([pos], 2)


frequency_value: Callable[[int], bytes] = lru_cache(maxsize=4096)(pack_uint)


def positions_value(where: Sequence[int]) -> bytes:
    """The Positions format's value of a word at the positions ``where`` (ascending)."""
    if len(where) == 1:
        return _one_position(where[0])
    deltas = [where[0]] + [b - a for a, b in zip(where, where[1:])]
    return pack_uint(len(where)) + pickle.dumps(deltas, 2)


# --- writing whole segments ------------------------------------------------------------------

# A field's indexer: value → (term bytes, frequency, weight, value bytes) of each of its terms.
Indexer = Callable[[Any], Iterable[tuple[bytes, int, float, bytes]]]
# One term's postings in a segment: (document numbers, weights, values).
Postings = tuple["array[int]", "array[float]", list[bytes]]

class BulkWriter(SegmentWriter):
    """A segment written in one go by a rebuild. Postings are gathered in memory by term and
    handed to the codec a block at a time; Whoosh's own writer sorts every single posting
    through a pool and hands them over one by one, which was most of the cost of a build.
    The files are the same codec's: readers and later writers cannot tell the difference.

    ``indexers``: {field name: callable(value) → (term bytes, frequency, weight, value bytes)},
    Whoosh's ``field.index`` or a faster equivalent."""

    def __init__(self, ix: Any, indexers: Mapping[str, Indexer]) -> None:
        super().__init__(ix, _lk=False, codec=Codec())
        self.postings: dict[str, dict[bytes, Postings]] = {}  # field name -> {term bytes: postings}
        self.spelling: dict[str, set[str]] = {}  # spelling field name -> words
        self.gathered = 0  # postings so far
        self.plan = [
            (name, field, indexers.get(name) if field.indexed else None, field.scorable,
             field.spelling_fieldname(name) if field.separate_spelling() else None)
            for name, field in sorted(self.schema.items())
        ]

    @property
    def documents(self) -> int:
        return self.docnum

    def add_document(self, **fields_: Any) -> None:
        perdoc, docnum = self.perdocwriter, self.docnum
        perdoc.start_doc(docnum)
        gathered = 0
        for name, field, indexer, scorable, spelling in self.plan:
            value = fields_.get(name)
            if value is None:
                continue
            length = 0
            if indexer is not None:
                terms = self.postings.setdefault(name, {})
                for btext, freq, weight, vbytes in indexer(value):
                    entry = terms.get(btext)
                    if entry is None:
                        entry = terms[btext] = (array("I"), array("f"), [])
                    entry[0].append(docnum)
                    entry[1].append(weight)
                    entry[2].append(vbytes)
                    length += freq
                    gathered += 1
            if spelling:
                self.spelling.setdefault(spelling, set()).update(field.spellable_words(value))
            perdoc.add_field(name, field, value if field.stored else None, length if scorable else 0)
            if field.column_type:
                perdoc.add_column_value(name, field.column_type, field.to_column_value(value))
        perdoc.finish_doc()
        self.gathered += gathered
        self._added = True
        self.docnum += 1

    def finish(self) -> Any:
        """The finished segment (for ``commit_segments``), or None when it holds nothing."""
        if self.docnum:
            return self._finalize_segment()
        self._close_segment()
        return None

    def _flush_segment(self) -> None:
        self.perdocwriter.close()
        postings = self.postings
        for name, words in self.spelling.items():  # the reader only looks at these words
            once = (array("I", [0]), array("f", [1.0]), [pack_uint(1)])  # a Frequency posting
            postings[name] = {word.encode("utf-8"): once for word in words}
        writer = self.fieldwriter
        for name in sorted(postings):
            writer.start_field(name, self.schema[name])
            terms = postings[name]
            for btext in sorted(terms):
                writer.start_term(btext)
                _write_term(writer._postwriter, *terms[btext])
                writer.finish_term()
            writer.finish_field()
        writer.close()
        self.postings, self.spelling = {}, {}


def _write_term(postwriter: Any, docnums: array[int], weights: array[float], values: list[bytes]) -> None:
    """One term's postings through the codec's own block writer, a block at a time."""
    limit = postwriter._blocklimit
    keep_values = bool(values[0])  # a format either has a value for every posting or none
    for start in range(0, len(docnums), limit):
        if start:
            postwriter._write_block()
        postwriter._ids = docnums[start:start + limit]
        postwriter._weights = weights[start:start + limit]
        postwriter._values = values[start:start + limit] if keep_values else []
        postwriter._maxweight = max(postwriter._weights)


def commit_segments(ix: Any, segments: Iterable[Any]) -> None:
    """Make ``segments`` the index's whole content, as Whoosh's multi-process writer does."""
    writer = ix.writer()
    writer._close_segment()
    writer._commit_toc(segments)
    writer._finish()


def commit_with_segments(writer: Any, segments: Sequence[Any]) -> None:
    """Commit ``writer`` (its deletions, and the merging of small segments it would do) with
    ``segments`` written beside it added to the index, as ``SegmentWriter.commit`` adds its own."""
    final = writer._merge_segments(None, None, None)
    if writer._added:
        final.append(writer._finalize_segment())
    else:
        writer._close_segment()
    writer._commit_toc(final + list(segments))
    writer._finish()
