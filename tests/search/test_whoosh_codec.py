"""Whoosh's contract with the backend: the rebuild's posting values (``whoosh_codec``, the one
module using Whoosh's private names) against Whoosh's own ``field.index``; the query side's
reading (public API: ``skip_to``) on indexes with several segments and deleted documents, the
first documents of a posting list among them; the pinned version; no SyntaxWarning. The bulk
writer's contract (the same index as Whoosh's own writer) is in ``test_build.py``."""
import os
import re
import subprocess
import sys
import tomllib

import pytest
import whoosh
from whoosh import index

from marketplace.search import whoosh_backend as wb
from marketplace.search import whoosh_bits, whoosh_build
from marketplace.search.whoosh_codec import Codec

ONE_BACKEND = True
WORDS = "garden bakery housing energy booking library theatre cycling brewery archive".split()
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))


def _fields(n):
    words = [WORDS[(n * 7 + i * 3) % len(WORDS)] for i in range(2 + n % 5)]
    text = " ".join(words) + (" energy" if n % 4 == 0 else "")
    return {"key": f"job:{n}", "updated": "2026-01-01T00:00:00", "text": text, "title": words[0],
            "facet": f"type:job kind:{('tender', 'lead')[n % 2]}", "audience": "public",
            "place": "", "published": n, "deadline": n, "coop": n % 3, "location": b""}


@pytest.fixture
def ix(tmp_path):
    """Five segments of 40 documents; then some documents deleted in each, the first ones of
    a segment among them, and one segment's documents all deleted but one."""
    ix = index.create_in(str(tmp_path), wb.SCHEMA)
    for segment in range(5):
        with ix.writer(codec=Codec()) as writer:
            writer.merge = False
            for n in range(segment * 40, segment * 40 + 40):
                writer.add_document(**_fields(n))
    deleted = {0, 1, 2, 41, 77, 80, 81, 120, 159} | set(range(161, 200))
    with ix.writer(codec=Codec()) as writer:
        writer.merge = False
        for n in sorted(deleted):
            writer.delete_by_term("key", f"job:{n}")
    return ix


def _leaves(ix):
    searcher = ix.searcher()
    leaves = [reader for reader, _offset in searcher.reader().leaf_readers()]
    assert len(leaves) == 5 and sum(r.has_deletions() for r in leaves) == 5
    return searcher, leaves


def _public(reader, field, term):
    """{docnum: value} of the live documents, walking Whoosh's public matcher posting by posting."""
    found = {}
    matcher = reader.postings(field, term)
    while matcher.is_active():
        found[matcher.id()] = matcher.value()
        matcher.next()
    return found


def _text_of(reader, docnum):
    return _fields(int(reader.stored_fields(docnum)["key"].split(":")[1]))["text"]


def test_positions_read_by_skipping_are_those_of_a_walk(ix):
    searcher, leaves = _leaves(ix)
    with searcher:
        for reader in leaves:
            live = [d for d in range(reader.doc_count_all()) if not reader.is_deleted(d)]
            for term in reader.lexicon("text"):
                public = _public(reader, "text", term)
                assert whoosh_bits._values_in(reader, term, live) == public, term
                some = live[::7]
                assert whoosh_bits._values_in(reader, term, some) == {d: v for d, v in public.items() if d in some}


def test_phrases_on_segments_with_deletions(ix):
    """Every two-word phrase, checked in each segment against the documents' own text; the
    candidates include deleted documents, as bitsets cached before a deletion do."""
    searcher, leaves = _leaves(ix)
    with searcher:
        for reader in leaves:
            size = reader.doc_count_all()
            everything = (1 << size) - 1
            for first in WORDS[:5]:
                for second in WORDS[5:]:
                    words = (wb.analyse(first)[0], wb.analyse(second)[0])
                    found = whoosh_bits._phrase_in(reader, words, everything, size)
                    want = {d for d in range(size) if not reader.is_deleted(d)
                            and f"{first} {second}" in _text_of(reader, d)}
                    assert set(whoosh_bits.members(found)) == want, (first, second)


@pytest.mark.parametrize("name", ["text", "title", "facet", "audience", "place", "key"])
def test_the_build_shortcuts_give_whooshs_own_postings(name):
    """The rebuild's per-field indexers (analysis and posting values in one pass) against
    ``field.index``, Whoosh's public way of turning a value into postings."""
    field = wb.SCHEMA[name]
    samples = ["", "Café co-operative website rebuild: the website, again",
               "Bring your own device; the device list", "Über-fast API 2.0 e-mail 1.2.3",
               "type:job kind:tender skill:python skill:python", "coop:12 audience:public"]
    for value in samples:
        assert sorted(whoosh_build._indexer(field)(value)) == sorted(field.index(value)), (name, value)


def test_the_private_names_were_checked_against_the_whoosh_the_project_allows():
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as handle:
        pins = [d for d in tomllib.load(handle)["project"]["dependencies"] if re.match(r"whoosh\b", d, re.I)]
    assert pins == ["whoosh==2.7.4"]  # one version: widen it only with these tests run on each
    assert whoosh.versionstring() == "2.7.4"


def test_importing_the_backend_raises_no_syntax_warning(tmp_path):
    """Whoosh 2.7.4's ``fixedsize is 0`` warns when Python compiles it: compiled afresh (an
    empty bytecode cache) under ``-W error::SyntaxWarning``, the import still works."""
    result = subprocess.run(
        [sys.executable, "-X", f"pycache_prefix={tmp_path}", "-W", "error::SyntaxWarning", "-c",
         "import marketplace.search.whoosh_backend"],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_segments_files_are_read_where_they_are_mapped_not_copied(ix):
    """Whoosh hands out each file of a segment's compound file as a copy of its part of the
    memory map (every worker held a private copy of the index); the backend's ``ViewFile``
    reads the map in place, and every read gives what Whoosh's copy gives."""
    from io import BytesIO
    from mmap import mmap

    from whoosh.filedb.structfile import BufferFile

    from marketplace.search.whoosh_codec import ViewFile

    _searcher, leaves = _leaves(ix)
    storage = leaves[0].segment().open_compound_file(ix.storage)
    names = list(storage.list())
    assert names
    for name in names:
        mapped = storage.open_file(name)
        assert isinstance(mapped, ViewFile) and not isinstance(mapped.file, BytesIO)
        assert isinstance(mapped._buf.obj, mmap)  # a view of the map itself, no copy
        length = storage.file_length(name)
        copy = BufferFile(mapped.get(0, length))  # Whoosh's own reading, over a copy
        assert mapped.read() == copy.read()
        for position in sorted({0, 1, length // 2, max(length - 3, 0)}):
            assert mapped.seek(position) == copy.seek(position) and mapped.tell() == copy.tell()
            assert mapped.read(5) == copy.read(5) and mapped.tell() == copy.tell()
            assert mapped.readline() == copy.file.readline()
            assert mapped.get(position, 7) == copy.get(position, 7)
        part = mapped.subset(1, max(length - 2, 0))
        assert part.read() == copy.subset(1, max(length - 2, 0)).read()
    storage.close()


def test_a_line_longer_than_one_chunk_is_read_whole():
    from io import BytesIO

    from marketplace.search.whoosh_codec import ViewFile

    data = b"x" * 10000 + b"\nrest\n" + b"y" * 5000
    mapped, copy = ViewFile(data), BytesIO(data)
    for size in (-1, 5, 9000, 10001, 20000):
        mapped.seek(0), copy.seek(0)
        assert mapped.readline(size) == copy.readline(size), size
        assert mapped.readline() == copy.readline() and mapped.tell() == copy.tell(), size

