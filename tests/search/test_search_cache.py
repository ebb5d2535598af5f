"""The search page's results are a shared part (core/fragments.py): kept per audience and
address until the next write, the next deadline or PAGE_CACHE_SECONDS — and never kept when
the index had not caught up with the database when it was read."""
from sqlalchemy import select

from marketplace.core.revision import SiteRevision
from marketplace.extensions import db
from marketplace.search import backend, drain

from ..conftest import login
from ..factories import make_job, make_user, settle_index
from ..factories import counted_statements
from .conftest import SEES, Answer, expected, whoosh_only


def _matrix(answer):
    return {tuple(t.split()[1:]) for t in answer.titles if t.startswith("MATRIX")}


def test_cached_search_pages_never_cross_audiences(app, world):
    """Every kind of viewer, one after another and twice round, with no write in between: the
    second round comes from the cache (fewer statements) and each still sees its own jobs."""
    clients = {}
    for kind, user in {**world["users"], "anonymous 2": None, "no_coop 2": make_user("Someone else")}.items():
        clients[kind] = app.test_client()
        if user is not None:
            login(clients[kind], user)
    db.session.commit()
    token = db.session.scalar(select(SiteRevision.token))
    statements = {}
    for round_ in (1, 2):
        for kind, client in clients.items():
            for url in ("/search?q=matrix", "/search?q=matrix&state=open&sort=newest"):
                with counted_statements() as ran:
                    answer = Answer(client.get(url))
                want = {(v, s) for (v, s) in world["jobs"] if expected(kind.split()[0], v, s)}
                if "state=open" in url:
                    want = {(v, s) for (v, s) in want if s == "open"}
                assert _matrix(answer) == want and answer.total == len(want), (round_, kind, url)
                statements[round_, kind, url] = len(ran)
    db.session.commit()
    assert db.session.scalar(select(SiteRevision.token)) == token, "a search wrote"
    for (round_, kind, url), count in statements.items():
        if round_ == 2 and kind in SEES:
            assert count < statements[1, kind, url], (kind, url)


def test_a_write_shows_at_once(client, poster, search):
    user, coop = poster
    make_job(coop, "public", "open", title="Orchard survey")
    assert search("orchard").titles == ["Orchard survey"]
    make_job(coop, "public", "open", title="Orchard pruning")
    assert set(search("orchard").titles) == {"Orchard survey", "Orchard pruning"}


@whoosh_only
def test_a_page_read_while_changes_wait_for_the_index_is_not_kept(app, client, poster, search):
    """A change committed while another writer holds the index waits in the queue: the page
    read meanwhile lacks it, and is not kept, so the page shows it once the queue is applied
    (which writes no site revision of its own)."""
    user, coop = poster
    make_job(coop, "public", "open", title="Orchard survey")
    settle_index(app)
    engine = backend(app)
    timeout, engine.lock_timeout = engine.lock_timeout, 0.01
    try:
        with engine._write_lock:  # another worker is writing to the index
            make_job(coop, "public", "open", title="Orchard pruning")
            assert search("orchard").titles == ["Orchard survey"]
    finally:
        engine.lock_timeout = timeout
    token = db.session.scalar(select(SiteRevision.token))
    assert drain(app) == 1
    assert db.session.scalar(select(SiteRevision.token)) == token
    assert set(search("orchard").titles) == {"Orchard survey", "Orchard pruning"}


def test_the_bitset_cache_keeps_to_its_bound_in_memory():
    """SEARCH_CACHE_MB bounds what the cache really holds, keys and entries included: with a
    small index the bitsets are small and the rest is most of each entry."""
    import tracemalloc

    from marketplace.search.whoosh_bits import BitCache

    bound = 200_000
    tracemalloc.start()
    try:
        cache = BitCache(bound)
        before = tracemalloc.get_traced_memory()[0]
        for n in range(10_000):  # 1,000 documents a segment: 125-byte bitsets
            cache.put(("segment0123456789", "text", f"word{n:06d}"), (1 << 999) | n)
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert cache.bytes <= bound and 100 < len(cache.entries) < 10_000
    assert held <= bound, f"{held} bytes held for a bound of {bound}"
    assert cache.get(("segment0123456789", "text", "word009999")) is not None  # the newest stays
