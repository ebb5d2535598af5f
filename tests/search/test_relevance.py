"""Ranking: more of the query's words first, then a match in the title, then in the skills,
then newest."""
from datetime import timedelta

from marketplace.core.time import utcnow

from ..factories import make_job


def _job(coop, title, age_days, **fields):
    return make_job(coop, "public", "open", title=title, published_at=utcnow() - timedelta(days=age_days),
                    **fields)


def test_a_title_match_outranks_a_body_match(poster, search):
    _, coop = poster
    # The body-only match is newer, so only relevance can put the title match first.
    _job(coop, "Website for a museum", 10, summary="Exhibitions online.")
    _job(coop, "Exhibitions online", 1, summary="A museum needs a website.", description="Museum museum museum.")
    assert search("museum").titles == ["Website for a museum", "Exhibitions online"]


def test_all_words_beat_some(poster, search):
    _, coop = poster
    _job(coop, "Bakery ordering", 1, summary="Online orders for a bakery.")
    _job(coop, "Bakery rota", 2, summary="A rota app for a co-operative bakery in Leeds.")
    _job(coop, "Leeds website", 0, summary="A site for a Leeds charity.")
    answer = search("bakery leeds")
    # Every job with either word is found; the one with both comes first, although it is not newest.
    assert answer.titles[0] == "Bakery rota"
    assert set(answer.titles) == {"Bakery ordering", "Bakery rota", "Leeds website"}
    assert answer.total == 3


def test_a_skill_match_outranks_a_body_match(poster, search, skills):
    _, coop = poster
    _job(coop, "Maintenance", 5, skills=[skills["devops"]])
    _job(coop, "Support contract", 1, description="Some devops now and then.")
    assert search("devops").titles == ["Maintenance", "Support contract"]


def test_ties_go_to_the_newest(poster, search):
    _, coop = poster
    for age in (3, 1, 2):
        _job(coop, f"Garden {age}", age)
    assert search("garden").titles == ["Garden 1", "Garden 2", "Garden 3"]
