"""Whole rebuilds of the Whoosh index: the bulk writer must write exactly the index Whoosh's
own writer writes from the same documents, in one process or several."""
import os

import pytest
from sqlalchemy.orm import Session
from whoosh import index

from marketplace.extensions import db
from marketplace.search import backend, rebuild
from marketplace.search import whoosh_backend as wb
from marketplace.search import whoosh_bits as wbits, whoosh_build as wbuild
from marketplace.search.documents import KINDS, iter_documents
from marketplace.search.whoosh_codec import Codec

from ..factories import make_coop, make_job
from .conftest import whoosh_only

ONE_BACKEND = True

TEXTS = [
    ("Café co-operative website rebuild", "Rebuild the café's website: accessible, fast, "
     "and the website's booking system too. Website website website."),
    ("Bring your own device policy", "A policy for bring your own device, with the device list."),
    ("Open data portal", "An open data portal for the open data of the council; data, data."),
    ("Über-fast API 2.0", "Versions 1.2.3 and 2.0 of the API; naïve résumé parsing; e-mail."),
    ("The and of to", "Only stop words in the title; the body has real words: heating."),
]


def documents():
    with Session(db.engine) as session:
        for kind in KINDS:
            yield from iter_documents(session, kind)


@pytest.fixture
def site(networks, skills):
    coops = [
        make_coop("Outlandish Bytes", {networks["cotech"]: "active"}, skills=[skills["python"]],
                  location="Leeds", description="Websites and data for good causes."),
        make_coop("Hive Mind", {networks["workers-coop"]: "active"}, location="Bristol, UK"),
    ]
    for n, (title, description) in enumerate(TEXTS * 4):
        make_job(coops[n % 2], ("public", "federation", "cotech")[n % 3], ("open", "closed", "draft")[n % 3],
                 skills=[skills["python"]] if n % 2 else [], title=f"{title} {n}", description=description,
                 location=("Leeds", "leeds ", "Remote", "")[n % 4])
    return coops


def whoosh_build(directory):
    """The same documents through Whoosh's own writer, as every incremental change goes."""
    ix = index.create_in(directory, wb.SCHEMA)
    with ix.writer(codec=Codec()) as writer:
        for document in documents():
            writer.add_document(**wb._fields(document))
    return ix


def contents(ix):
    """Everything a reader can see in an index, document by document (by key)."""
    with ix.searcher() as searcher:
        reader = searcher.reader()
        keys = {}
        for docnum, stored in reader.iter_docs():
            keys[docnum] = stored["key"]
        docs = {key: {"stored": reader.stored_fields(docnum)} for docnum, key in keys.items()}
        for name in ("published", "deadline", "coop", "location"):
            column = reader.column_reader(name)
            for docnum, key in keys.items():
                docs[key][name] = column[docnum]
        for name in ("text", "title", "facet", "audience"):
            for docnum, key in keys.items():
                docs[key][f"length:{name}"] = reader.doc_field_length(docnum, name)
        postings = {}
        for name, term in reader.all_terms():
            if name.startswith("spell_"):
                postings[(name, term)] = "a spelling word"  # only the word matters to the reader
                continue
            matcher = reader.postings(name, term)
            postings[(name, term)] = sorted(
                (keys[docnum], weight, value) for docnum, weight, value in
                ((m.id(), m.weight(), m.value()) for m in _walk(matcher)))
        lengths = {name: reader.field_length(name) for name in ("text", "title", "facet", "audience")}
        return docs, postings, lengths, reader.doc_count()


def _walk(matcher):
    while matcher.is_active():
        yield matcher
        matcher.next()


@whoosh_only
def test_a_rebuild_writes_what_whooshs_own_writer_writes(app, site, tmp_path):
    expected = contents(whoosh_build(str(tmp_path)))
    count = rebuild(app)
    engine = backend(app)
    assert count == expected[3] == 22  # twenty jobs and two co-ops
    assert contents(index.open_dir(engine._current())) == expected


@whoosh_only
def test_a_rebuild_in_several_processes_and_segments(app, site, tmp_path, monkeypatch, search):
    """Two build processes, each closing a segment when its memory share fills: the same
    documents, terms and postings as one segment written by Whoosh."""
    before = search("website").titles  # the index the site's own changes wrote
    expected = contents(whoosh_build(str(tmp_path)))
    monkeypatch.setattr(wb, "PARALLEL_BUILD_MIN", 0)
    monkeypatch.setattr(wbuild, "_BATCH", 3)
    engine = backend(app)
    monkeypatch.setattr(engine, "build_procs", 2)
    monkeypatch.setattr(engine, "build_memory_mb", 0)  # a segment for every document
    assert rebuild(app) == 22
    ix = index.open_dir(engine._current())
    with ix.searcher() as searcher:
        assert len(searcher.reader().leaf_readers()) == 22
    docs, postings, lengths, count = contents(ix)
    assert (docs, lengths, count) == (expected[0], expected[2], expected[3])
    # Terms and weights are the same; docnums differ but contents() compares by key.
    assert postings == expected[1]
    assert before and search("website").titles == before  # and the queries read it as usual


@whoosh_only
def test_a_failed_build_process_leaves_the_live_index(app, site, monkeypatch, search):
    engine = backend(app)
    rebuild(app)
    live = engine._current()
    before = search("website").titles
    monkeypatch.setattr(wb, "PARALLEL_BUILD_MIN", 0)
    monkeypatch.setattr(engine, "build_procs", 2)
    documents_ = list(documents())
    real_fields = wb._fields

    def bad_fields(document):
        found = real_fields(document)
        if document is documents_[-1]:
            found["title"] = 12  # not text: the build process fails on it
        return found

    monkeypatch.setattr(wb, "_fields", bad_fields)
    with pytest.raises(RuntimeError, match="build process failed"):
        engine.rebuild(documents_, total=len(documents_))
    assert engine._current() == live
    assert [name for name in os.listdir(engine.root) if name.startswith("index-")] == [os.path.basename(live)]
    assert before and search("website").titles == before


@whoosh_only
def test_every_order_reads_across_segments(app, site, monkeypatch, search):
    """Long result lists are walked in order segment by segment and merged; short ones are
    sorted. Both must give the same pages, over the 22 segments of a parallel build."""
    monkeypatch.setattr(wb, "PARALLEL_BUILD_MIN", 0)
    engine = backend(app)
    monkeypatch.setattr(engine, "build_procs", 2)
    monkeypatch.setattr(engine, "build_memory_mb", 0)
    rebuild(app)
    words = "website OR policy OR data OR api OR heating"
    for sort in ("relevance", "newest", "closing"):
        sorted_ = search(words, sort=sort).titles
        monkeypatch.setattr(wbits, "SMALL_SET", 0)  # walk every list, however short
        walked = search(words, sort=sort).titles
        monkeypatch.setattr(wbits, "SMALL_SET", 256)
        assert walked == sorted_ and len(set(walked)) == 7, sort  # the public jobs


def test_folding_skips_translate_only_where_it_changes_nothing():
    """``fold`` looks up only the characters outside ASCII: the same as translating them all."""
    from marketplace.search.whoosh_analysis import _FOLD, fold

    every = "".join(chr(code) for code in _FOLD)
    for text in [every, every.upper(), "Plain ASCII, UPPER and lower", *(t + " " + b for t, b in TEXTS)]:
        assert fold(text) == text.lower().translate(_FOLD)
