"""The search page: words, phrases, prefixes, synonyms, stemming, snippets, orders, pages, and
the pages for empty and unmatched searches."""
from datetime import timedelta

from flask import render_template_string

from marketplace.core.time import utcnow
from marketplace.extensions import db
from marketplace.skills.models import Skill

from ..factories import make_coop, make_job
from .conftest import whoosh_only


def _jobs(coop, *titles, **fields):
    return [make_job(coop, "public", "open", title=t, **fields) for t in titles]


def test_words_phrases_and_prefixes(poster, search):
    _, coop = poster
    _jobs(coop, "Booking system for a housing co-op", "System of booking rooms", "Accessible website")
    assert set(search("booking").titles) == {"Booking system for a housing co-op", "System of booking rooms"}
    assert search('"booking system"').titles == ["Booking system for a housing co-op"]
    assert search("access*").titles == ["Accessible website"]
    assert search("housing -rooms").titles == ["Booking system for a housing co-op"]


def test_english_stemming(poster, search):
    _, coop = poster
    _jobs(coop, "Designing accessible websites")
    for q in ("design", "designs", "website", "ACCESSIBLE"):
        assert search(q).titles == ["Designing accessible websites"], q


def test_skill_synonyms(poster, search, skills):
    _, coop = poster
    kubernetes = Skill(slug="kubernetes", name="Kubernetes", group="Digital products & platforms",
                       synonyms="k8s;container orchestration")
    db.session.add(kubernetes)
    db.session.commit()
    make_job(coop, "public", "open", title="Cluster upgrade", skills=[kubernetes])
    make_job(coop, "public", "open", title="Move our Kubernetes hosting", description="No tags here.")
    # The synonym finds the tagged job (its skill's names are indexed) and the one that
    # only mentions the skill's name (the query word is expanded to the skill's names).
    assert set(search("k8s").titles) == {"Cluster upgrade", "Move our Kubernetes hosting"}
    assert "Cluster upgrade" in search('"container orchestration"').titles


def test_co_op_profiles_are_searched(poster, search, networks):
    _, coop = poster
    make_coop("Digital Harbour", {networks["cotech"]: "active"}, description="We make accessible maps.")
    make_job(coop, "public", "open", title="Accessible maps for a council")
    answer = search("maps")
    assert answer.kind_counts == {"jobs": 1, "co-ops": 1}
    assert answer.titles == ["Accessible maps for a council"]
    answer = search("maps", scope="coops")
    assert answer.titles == ["Digital Harbour"] and answer.total == 1


def test_snippets_mark_the_words_and_escape_the_text(poster, search):
    _, coop = poster
    make_job(coop, "public", "open", title="Kiln", summary="A <b>bold</b> plan for energy storage",
             description="Community energy storage, with batteries.")
    snippet = search("energy").snippets[0]
    assert "<mark>energy</mark>" in snippet or 'class="match term0">energy</mark>' in snippet
    assert "<b>" not in snippet and "bold" in snippet  # shown as text, or dropped: never markup


def test_orders(poster, search):
    _, coop = poster
    now = utcnow()
    soon = make_job(coop, "public", "open", title="Garden soon", bids_deadline=now + timedelta(days=9),
                    questions_deadline=now + timedelta(days=2), published_at=now - timedelta(days=5))
    later = make_job(coop, "public", "open", title="Garden later", bids_deadline=now + timedelta(days=30),
                     questions_deadline=now + timedelta(days=2), published_at=now - timedelta(days=1))
    closed = make_job(coop, "public", "closed", title="Garden closed", published_at=now - timedelta(days=40))
    assert search("garden", sort="newest").titles == [later.title, soon.title, closed.title]
    assert search("garden", sort="closing").titles == [soon.title, later.title, closed.title]


def test_pages(app, poster, search):
    _, coop = poster
    now = utcnow()
    for n in range(25):
        make_job(coop, "public", "open", title=f"Orchard {n:02d}", published_at=now - timedelta(hours=n))
    first = search("orchard", sort="newest")
    assert first.total == 25 and len(first.titles) == 20 and first.titles[0] == "Orchard 00"
    assert 'rel="next"' in first.html
    second = search("orchard", sort="newest", page=2)
    assert second.titles == [f"Orchard {n:02d}" for n in range(20, 25)]
    assert search("orchard", sort="newest", page=99).titles == second.titles  # past the end: the last page


def test_empty_search_is_a_helpful_page(poster, search, skills):
    _, coop = poster
    make_job(coop, "public", "open", title="Python work", skills=[skills["python"]])
    answer = search("")
    assert answer.status == 200 and answer.titles == []
    assert "What are you looking for?" in answer.html
    assert "Python (1)" in answer.html  # skills with open jobs, as ways in
    assert search("   ").titles == [] and search("AND OR").status == 200


def test_unmatched_search_is_a_helpful_page(poster, search, skills):
    _, coop = poster
    _jobs(coop, "Accessible website", skills=[skills["python"]])
    answer = search("zzyzx")
    assert answer.status == 200 and answer.titles == [] and answer.total == 0
    assert "No jobs match “zzyzx”" in answer.html
    assert "Browse the open jobs" in answer.html
    assert "Python (1)" in answer.html  # skills with open jobs, as other ways in


@whoosh_only
def test_did_you_mean(poster, search):
    _, coop = poster
    _jobs(coop, "Accessible website for a museum")
    answer = search("musuem website")
    assert answer.suggestion == "museum website"
    assert search(answer.suggestion).titles == ["Accessible website for a museum"]


def test_filters_without_words(poster, search):
    _, coop = poster
    make_job(coop, "public", "open", title="A lead", kind="lead")
    make_job(coop, "public", "open", title="A tender", kind="tender")
    assert search(kind="lead").titles == ["A lead"]


def test_unknown_filter_values_are_reported_and_ignored(poster, search):
    _, coop = poster
    _jobs(coop, "Bakery website")
    answer = search("bakery", kind="nonsense", coop="no-such-coop", skill="no-such-skill", page="x")
    assert answer.status == 200 and answer.titles == ["Bakery website"]
    assert any("no co-op with that name" in n for n in answer.notices)
    assert any("no skill with that name" in n for n in answer.notices)


def test_search_box_macro(app):
    with app.test_request_context("/"):
        html = render_template_string('{% from "search/_box.html" import search_box %}{{ search_box("a&b") }}')
    assert 'role="search"' in html and 'action="/search"' in html
    assert '<label for="site-search"' in html and 'value="a&amp;b"' in html


def test_a_new_site_with_nothing_indexed_searches(search):
    """An index with no documents yet has no segments: still an answer, not 'rebuilding'."""
    answer = search("anything")
    assert answer.status == 200
    assert answer.titles == [] and "rebuilding" not in answer.html
