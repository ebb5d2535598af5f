"""What Whoosh's private names buy, on one index of synthetic job documents (the search
schema and analysis):

    .venv/bin/python bench/bench_whoosh_codec.py [--documents 50000]

Building the index through ``whoosh_codec.BulkWriter`` (the codec's block writer, private
names) against Whoosh's own ``ix.writer()``; and, on the query side (public API only), reading
the positions a phrase needs by ``skip_to`` (what the backend does) against a walk of every
posting.
"""
import argparse
import os
import random
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from marketplace.search import whoosh_backend as wb  # noqa: E402
from marketplace.search import whoosh_bits  # noqa: E402
from marketplace.search.whoosh_codec import Codec  # noqa: E402
from whoosh import index  # noqa: E402

WORDS = ("website accessible booking system energy co-op housing archive garden library data "
         "design research python django wordpress hosting migration audit council charity").split()


def documents(n, rng):
    for i in range(n):
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(20, 80)))
        yield {"key": f"job:{i}", "updated": "2026-01-01T00:00:00", "text": text, "title": text[:40],
               "facet": f"type:job kind:tender skill:{rng.choice(WORDS)}", "audience": "public",
               "place": "", "published": i, "deadline": i, "coop": i % 50, "location": b""}


def timed(function, *args):
    start = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - start, result


def build_public(directory, docs):
    ix = index.create_in(directory, wb.SCHEMA)
    with ix.writer(codec=Codec()) as writer:
        for doc in docs:
            writer.add_document(**doc)
    return ix


def build_private(directory, docs):
    ix = index.create_in(directory, wb.SCHEMA)
    segments, _count = wb.build_segments(ix, iter(docs), 512)
    wb.commit_segments(ix, segments)
    return ix


def public_values(reader, term, wanted):
    found, matcher = {}, reader.postings("text", term)
    while matcher.is_active():
        if matcher.id() in wanted:
            found[matcher.id()] = matcher.value()
        matcher.next()
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--documents", type=int, default=50_000)
    args = parser.parse_args()
    docs = list(documents(args.documents, random.Random(7)))
    rows = []
    with tempfile.TemporaryDirectory() as public_dir, tempfile.TemporaryDirectory() as private_dir:
        public_s, public_ix = timed(build_public, public_dir, docs)
        private_s, private_ix = timed(build_private, private_dir, docs)
        rows.append(("build the index (bulk writer / Whoosh's writer)", private_s, public_s))
        term = wb.analyse("website")[0].encode()
        with public_ix.searcher() as searcher:
            reader = searcher.reader()
            found = list(reader.postings("text", term).all_ids())
            for every in (10, 1000):
                wanted = found[::every]
                walk_s, values = timed(public_values, reader, term, set(wanted))
                skip_s, same = timed(whoosh_bits._values_in, reader, term, wanted)
                assert values == same
                rows.append((f"positions in {len(wanted):,} docs (skip_to / walk)", skip_s, walk_s))
    print(f"{args.documents:,} documents")
    print(f"{'':48} {'ours':>10} {'other':>10} {'other/ours':>11}")
    for label, ours_s, other_s in rows:
        print(f"{label:48} {ours_s * 1000:8.1f}ms {other_s * 1000:8.1f}ms {other_s / ours_s:10.1f}×")


if __name__ == "__main__":
    main()
