"""Whole rebuilds of the Whoosh index: ``search reindex`` writes new segments with
``whoosh_codec.BulkWriter`` (postings gathered by term, written a block at a time), in several
processes for a big site."""
from __future__ import annotations

import multiprocessing
import queue
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from itertools import islice
from typing import Any, TypeVar


# First: whoosh_codec imports Whoosh without its SyntaxWarning.
from .whoosh_codec import BulkWriter, frequency_value, positions_value
from whoosh import formats, index  # noqa: E402
from whoosh.analysis import RegexTokenizer  # noqa: E402

from .whoosh_analysis import ANALYZER, SCHEMA, STOP_WORDS, WORD_RE, fold, stem
from .whoosh_codec import Indexer

T = TypeVar("T")
Fields = dict[str, Any]  # one document's values by field name, as Whoosh's writers take them
Progress = Callable[[int], object]



# --- whole rebuilds ---------------------------------------------------------------------------

PARALLEL_BUILD_MIN = 20_000  # documents below which one process builds faster than several start
_BATCH = 500  # documents sent to a build process at a time
_POSTING_BYTES = 72  # memory one gathered posting takes, roughly (ids, weights, its value)


def _indexer(field: Any) -> Indexer:
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


def _analysed_postings(value: str, positions: bool) -> Iterator[tuple[bytes, int, float, bytes]]:
    """(term, frequency, weight, value) of each word of ``value``, as ANALYZER and Whoosh's
    Positions or Frequency format give them."""
    found: dict[bytes, list[int]] = {}
    terms = _TERMS
    pos = 0
    for word in WORD_RE.findall(fold(value)):
        term = terms.get(word)
        if term is None:
            term = _term(word)
        if not term:
            continue  # a stop word
        where = found.get(term)
        if where is None:
            found[term] = [pos]
        else:
            where.append(pos)
        pos += 1
    for term, where in found.items():
        freq = len(where)
        yield term, freq, float(freq), positions_value(where) if positions else frequency_value(freq)


# Each word's term as the index stores it (b"" for a stop word): a word is stemmed and encoded
# once, not at each of its occurrences.
_TERMS: dict[str, bytes] = {}
_TERMS_KEPT = 200_000


def _term(word: str) -> bytes:
    if len(_TERMS) >= _TERMS_KEPT:
        _TERMS.clear()
    term = _TERMS[word] = b"" if word in STOP_WORDS else stem(word).encode("utf-8")
    return term


def _split_postings(split: Callable[[str], list[str]], value: str) -> Iterator[tuple[bytes, int, float, bytes]]:
    """(term, frequency, weight, value) of each token of a keyword field, as Whoosh gives them."""
    for term, freq in Counter(split(value)).items():
        yield term.encode("utf-8"), freq, float(freq), frequency_value(freq)


def build_segments(ix: Any, fields_: Iterable[Fields], memory_mb: int,
                   progress: Progress | None = None) -> tuple[list[Any], int]:
    """Index every field dict of ``fields_`` into new segments of ``ix`` (another segment
    each time the gathered postings reach ``memory_mb``): ([segments], documents)."""
    limit = memory_mb * 1024 * 1024 // _POSTING_BYTES
    segments: list[Any] = []
    count = 0
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


def _build_part(directory: str, jobs: Any, results: Any, memory_mb: int) -> None:
    """A build process: index the batches of field dicts from ``jobs`` until None."""
    try:
        def batches() -> Iterator[Fields]:
            while (batch := jobs.get()) is not None:
                yield from batch

        segments, _count = build_segments(index.open_dir(directory), batches(), memory_mb)
        results.put(("segments", segments))
    except BaseException as error:  # reported to the parent, which raises it
        results.put(("error", f"{type(error).__name__}: {error}"))


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Lists of ``size`` items (the last one shorter)."""
    rest = iter(items)
    while batch := list(islice(rest, size)):
        yield batch


def build_in_processes(directory: str, fields_: Iterable[Fields], procs: int, memory_mb: int,
                       progress: Progress | None = None) -> tuple[list[Any], int]:
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

    def send(turn: int, batch: list[Fields] | None) -> None:
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
        parts: list[list[Any]] = []
        while len(parts) < procs:
            try:
                kind, found = results.get(timeout=1)
            except queue.Empty:
                if not any(process.is_alive() for process, _jobs in workers):
                    raise RuntimeError("A search index build process stopped.") from None
                continue
            if kind == "error":
                raise RuntimeError(f"A search index build process failed: {found}")
            parts.append(found)
        segments = [segment for found in parts for segment in found]
    finally:
        for process, _jobs in workers:
            process.join(timeout=5)
            if process.is_alive():
                process.terminate()
    return segments, count
