"""Facets: each value's count is the number of results that choosing it gives."""
from datetime import timedelta

from marketplace.core.time import utcnow

from ..factories import make_coop, make_job
from .conftest import whoosh_only


def _catalogue(coop, other, skills):
    """Jobs spread over every facet."""
    now = utcnow()
    make_job(coop, "public", "open", title="Archive website", kind="tender", work_mode="remote",
             skills=[skills["python"]], budget_min=1000, budget_max=4000)
    make_job(coop, "cotech", "open", title="Archive app", kind="lead", work_mode="on_site", location="Leeds",
             skills=[skills["python"], skills["devops"]], budget_min=30000, budget_max=45000)
    make_job(coop, "federation", "closed", title="Archive audit", kind="subcontract", work_mode="hybrid",
             location=" leeds ", skills=[skills["accessibility"]], budget_type="day_rate", budget_min=400,
             budget_max=None)
    make_job(other, "public", "withdrawn", title="Archive hosting", kind="tender", work_mode="remote",
             skills=[skills["devops"]], budget_min=0, budget_max=None)
    make_job(other, "public", "open", title="Archive search", kind="tender", work_mode="hybrid",
             location="Bristol", skills=[skills["python"]], budget_min=150000, budget_max=200000,
             bids_deadline=now + timedelta(days=20))


def _follow_every_facet(client_get, answer, depth=0):
    """Follow every facet link; each leads to exactly as many results as it promised."""
    checked = 0
    for name in answer.facet_names:
        for label, (count, url) in answer.facet(name).items():
            if url is None:
                assert count == answer.total, (name, label)
                continue
            followed = client_get(url)
            assert followed.total == count, (name, label, url)
            assert len(followed.titles) == min(count, 20), (name, label)
            checked += 1
            if depth == 0:
                checked += _follow_every_facet(client_get, followed, depth + 1)
    return checked


def test_facet_counts_equal_the_results_they_lead_to(client, poster, networks, skills, search):
    user, coop = poster
    other = make_coop("Other Co-op", {networks["cotech"]: "active"})
    _catalogue(coop, other, skills)
    from ..conftest import login
    from .conftest import Answer

    login(client, user)
    answer = search("archive")
    assert answer.total == 5
    assert set(answer.facet_names) >= {"kind", "state", "visibility", "budget", "mode", "skill", "location", "coop"}
    assert _follow_every_facet(lambda url: Answer(client.get(url)), answer) > 40


def test_facet_values_and_labels(client, poster, networks, skills, search):
    user, coop = poster
    other = make_coop("Other Co-op", {networks["cotech"]: "active"})
    _catalogue(coop, other, skills)
    from ..conftest import login

    login(client, user)
    answer = search("archive")
    assert answer.facet("state")["Open"][0] == 3 and answer.facet("state")["Closed"][0] == 1
    assert answer.facet("state")["Withdrawn"][0] == 1
    assert answer.facet("budget")["Up to 5,000"][0] == 1 and answer.facet("budget")["Day rate"][0] == 1
    assert answer.facet("budget")["Not stated"][0] == 1 and answer.facet("budget")["Over 100,000"][0] == 1
    assert answer.facet("location")["Leeds"][0] == 2  # case and spaces do not make another place
    assert answer.facet("coop")["Other Co-op"][0] == 2
    assert answer.facet("skill")["Python"][0] == 3
    narrowed = search("archive", location="leeds", kind="lead")
    assert narrowed.titles == ["Archive app"]
    # A chosen value is shown with its count and a link to remove it.
    assert narrowed.facet("kind")["Passed-on lead"] == (1, None)
    assert "Remove" in narrowed.html


def test_choosing_a_value_narrows_the_other_facets(client, poster, networks, skills, search):
    user, coop = poster
    other = make_coop("Other Co-op", {networks["cotech"]: "active"})
    _catalogue(coop, other, skills)
    from ..conftest import login

    login(client, user)
    answer = search("archive", state="open")
    assert answer.total == 3
    assert answer.facet("kind") == {"Tender": (2, answer.facet("kind")["Tender"][1]),
                                    "Passed-on lead": (1, answer.facet("kind")["Passed-on lead"][1])}
    # The state facet still offers the other states, counted with the other filters.
    assert answer.facet("state")["Closed"][0] == 1


def test_no_facet_value_with_nothing_behind_it(poster, search, skills):
    _, coop = poster
    make_job(coop, "public", "open", title="Kiosk", kind="tender", skills=[skills["python"]])
    answer = search("kiosk")
    assert set(answer.facet("kind")) == {"Tender"}
    assert set(answer.facet("skill")) == {"Python"}


@whoosh_only
def test_places_counted_by_bitsets_as_by_lookups(client, poster, networks, skills, search, monkeypatch):
    """Big result sets count places with one bitset per location as written; small ones
    look each result up. Both give the same counts and labels, for members and visitors."""
    from marketplace.search import whoosh_query

    user, coop = poster
    other = make_coop("Other Co-op", {networks["cotech"]: "active"})
    _catalogue(coop, other, skills)
    make_job(other, "cotech", "open", title="Archive LEEDS", location="LEEDS")  # members only
    from ..conftest import login

    for signed_in in (False, True):
        if signed_in:
            login(client, user)
        looked_up = search("archive").facet("location")
        monkeypatch.setattr(whoosh_query, "COUNT_BY_BITSETS", 0)
        by_bitsets = search("archive").facet("location")
        monkeypatch.setattr(whoosh_query, "COUNT_BY_BITSETS", 200)
        assert by_bitsets == looked_up
        if signed_in:
            assert looked_up["LEEDS"][0] == 3  # "LEEDS" < "Leeds": the label as one job wrote it
        else:
            assert set(looked_up) == {"Bristol"}  # the Leeds jobs are for members


def test_the_skill_filter_takes_a_name_or_synonym(poster, skills, search):
    from marketplace.extensions import db

    _, coop = poster
    skills["accessibility"].synonyms = "a11y;wcag"
    db.session.commit()
    make_job(coop, "public", "open", title="Archive audit", skills=[skills["accessibility"]])
    make_job(coop, "public", "open", title="Archive app", skills=[skills["python"]])
    for value in ("accessibility", "a11y", "WCAG", "Accessibility"):
        answer = search("archive", skill=value)
        assert answer.titles == ["Archive audit"], value
        assert answer.notices == [], value
    assert search("archive", skill="cobol").notices == ["There is no skill with that name, so it was ignored."]
