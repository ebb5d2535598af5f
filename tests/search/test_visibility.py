"""The visibility matrix applied to search: results, counts and facets, for every kind of
viewer; a change of visibility, a withdrawal or a deletion leaves the results at once."""
import re

from sqlalchemy import select

from marketplace.extensions import db
from marketplace.jobs import services
from marketplace.search import SearchRequest, query_index
from marketplace.search.query import parse
from marketplace.federation import viewer_for

from ..conftest import logout
from .conftest import SEES, STATES, VISIBILITIES, as_viewer, expected, whoosh_only


def _matrix_titles(answer):
    return {tuple(t.split()[1:]) for t in answer.titles if t.startswith("MATRIX")}


def test_results_counts_and_facets(client, world, search, subtests):
    for kind in SEES:
        with subtests.test(viewer=kind):
            as_viewer(logout(client), world, kind)  # ``search`` asks as ``client``
            want = {(v, s) for (v, s) in world["jobs"] if expected(kind, v, s)}
            answer = search("matrix")
            assert _matrix_titles(answer) == want, kind
            assert answer.total == len(want)
            assert answer.kind_counts["jobs"] == len(want)
            visibility = answer.facet("visibility")
            for v in VISIBILITIES:
                label = {"cotech": "CoTech only", "federation": "workers.coop members", "public": "Public"}[v]
                n = sum(1 for (jv, _s) in want if jv == v)
                # A visibility the viewer cannot see is not even offered with a zero.
                assert visibility.get(label, (0, None))[0] == n, (kind, v)
                assert (label in visibility) == bool(n)
            for s in STATES:
                n = sum(1 for (_v, js) in want if js == s)
                assert answer.facet("state").get(s.capitalize(), (0, None))[0] == n, (kind, s)
            assert sum(count for count, _ in answer.facet("skill").values()) == len(want)
            assert sum(count for count, _ in answer.facet("coop").values()) == len(want)
            # Narrowing to each visibility shows exactly the jobs of it that the viewer may see.
            for v in VISIBILITIES:
                narrowed = search("matrix", visibility=v)
                assert _matrix_titles(narrowed) == {(jv, js) for (jv, js) in want if jv == v}, (kind, v)
                assert narrowed.total == len(_matrix_titles(narrowed))


def test_the_index_filters_before_counting(world, subtests):
    """The engine itself obeys the rule (not only the page that shows its answer)."""
    for kind in ["anonymous", "workers_only", "poster", "site_admin"]:
        with subtests.test(viewer=kind):
            viewer = viewer_for(world["users"][kind])
            result = query_index(SearchRequest(query=parse("matrix"), per_page=100), viewer)
            want = {world["jobs"][(v, s)].id for (v, s) in world["jobs"] if expected(kind, v, s)}
            assert {h.object_id for h in result.hits} == want
            assert result.total == len(want)
            counted = {value: n for value, n in result.facets["visibility"]}
            assert set(counted) == {v for (v, s) in world["jobs"] if expected(kind, v, s)}


def test_a_cotech_job_is_never_a_count_for_outsiders(client, world, search):
    as_viewer(client, world, "workers_only")
    for q in ("matrix cotech", "cotech", '"matrix cotech open"'):
        answer = search(q)
        assert not any("cotech" in t for t in answer.titles), q
        assert "CoTech only" not in answer.html.split("Narrow the results")[-1].split("Results")[0]
    answer = search("matrix", visibility="cotech")
    assert answer.total == 0 and answer.titles == []
    assert re.search(r"CoTech only \(\d+\)", answer.html) is None or "(0)" in answer.html


def test_a_visibility_change_leaves_the_results_at_once(client, world, search):
    job = world["jobs"][("federation", "open")]
    as_viewer(client, world, "workers_only")
    assert ("federation", "open") in _matrix_titles(search("matrix"))
    services.update_job(job, world["users"]["poster"], {"visibility": "cotech"}, None)
    db.session.commit()
    answer = search("matrix")
    assert ("federation", "open") not in _matrix_titles(answer)
    assert ("cotech", "open") not in _matrix_titles(answer)
    assert answer.total == len(_matrix_titles(answer))


def test_withdrawn_and_deleted_jobs(client, world, search):
    from marketplace.jobs.models import Job

    as_viewer(client, world, "poster")
    job = world["jobs"][("public", "open")]
    services.withdraw_job(job, world["users"]["poster"], "No longer needed")
    db.session.commit()
    assert search("matrix", state="open").total == sum(1 for v in VISIBILITIES)  - 1
    assert ("public", "open") not in _matrix_titles(search("matrix", state="open"))
    draft = world["jobs"][("cotech", "draft")]
    services.delete_draft(draft, world["users"]["poster"])
    db.session.commit()
    assert db.session.scalar(select(Job).where(Job.id == draft.id)) is None
    assert ("cotech", "draft") not in _matrix_titles(search("matrix"))


def test_a_hit_the_database_does_not_confirm_is_dropped_and_requeued(client, world, search, app, search_backend):
    """Should the index lag behind (a change made outside the session hooks), the page still
    shows only what the database confirms, and the lagging document is requeued."""
    from sqlalchemy import update

    from marketplace.jobs.models import Job
    from marketplace.search import check

    as_viewer(client, world, "workers_only")
    job = world["jobs"][("federation", "open")]
    # A bulk UPDATE bypasses the session hooks: the index still says "federation".
    db.session.execute(update(Job).where(Job.id == job.id).values(visibility="cotech"))
    db.session.commit()
    answer = search("matrix")
    assert ("federation", "open") not in _matrix_titles(answer)
    assert answer.total == len(_matrix_titles(answer))
    if search_backend == "whoosh":  # (PostgreSQL reads visibility from the job table itself)
        assert check(app).ok  # the dropped hit was requeued and applied


# A made-up word in the title of each matrix job: "did you mean" must offer it only to viewers
# who may see that job (a near-miss of a confidential client's name tells nothing).
SECRET_WORDS = dict(zip(
    [(v, s) for v in VISIBILITIES for s in STATES],
    ["amaranthine", "bergamotte", "candelabrum", "damascening", "eglantine", "fenugreek",
     "gossamery", "hellebore", "isinglass", "jacaranda", "kohlrabi", "lodestone"],
))


def _near_miss(word):
    return word[:3] + word[4:]  # one letter dropped: an edit distance of 1


@whoosh_only  # the PostgreSQL backend makes no suggestions
def test_suggestions_come_only_from_titles_the_viewer_may_see(client, world, search, subtests):
    for (v, s), job in world["jobs"].items():
        job.title = f"MATRIX {v} {s} {SECRET_WORDS[(v, s)]}"
    db.session.commit()
    for kind in SEES:
        with subtests.test(viewer=kind):
            as_viewer(logout(client), world, kind)  # ``search`` asks as ``client``
            for (v, s), word in SECRET_WORDS.items():
                answer = search(_near_miss(word))
                assert answer.status == 200 and answer.titles == []
                assert answer.suggestion == (word if expected(kind, v, s) else None), (kind, v, s)


@whoosh_only
def test_a_word_only_hidden_jobs_hold_is_answered_as_a_word_nobody_wrote(client, world, search, subtests):
    """Searching the exact hidden word gives what a word that is nowhere gives: no results and
    a suggestion from the titles the viewer may see."""
    world["jobs"][("public", "open")].title = "MATRIX public open cobalt"
    world["jobs"][("cotech", "open")].title = "MATRIX cotech open cobble"
    db.session.commit()
    for kind in SEES:
        with subtests.test(viewer=kind):
            as_viewer(logout(client), world, kind)  # ``search`` asks as ``client``
            hidden, nowhere = search("cobble"), search("cobbla")
            if expected(kind, "cotech", "open"):
                assert hidden.titles == ["MATRIX cotech open cobble"] and hidden.suggestion is None
            else:
                assert hidden.titles == [] and hidden.total == 0
                assert hidden.suggestion == nowhere.suggestion == "cobalt", kind
