"""Each named part of the ranking's score and reasons, alone (plain functions, no database),
through ``matching``, which ranks with them."""
import math
from datetime import date

import pytest

from marketplace.coordinator import matching
from marketplace.coordinator.matching import WEIGHTS, SkillWeight, Weights

PYTHON, RUST, WELSH = (SkillWeight(1, "Python", 5, math.log(1 + 10 / 5)), SkillWeight(2, "Rust", 1, math.log(11)),
                       SkillWeight(3, "Welsh", 0, 0.0))
WEIGHT_OF = {s.id: s for s in (PYTHON, RUST, WELSH)}


def test_rarity_weighs_a_rare_skill_more_and_an_unoffered_one_not_at_all():
    assert matching.rarity(10, 1) == pytest.approx(math.log(11))
    assert matching.rarity(10, 10) == pytest.approx(math.log(2))
    assert matching.rarity(10, 0) == 0.0


def test_skill_weights_come_rarest_first():
    skills = matching.skill_weights({1: "Python", 2: "Rust", 3: "Welsh"}, {1: 5, 2: 1, 3: 0}, 10)
    assert [(s.name, s.offered_by) for s in skills] == [("Rust", 1), ("Python", 5), ("Welsh", 0)]


def test_capacity_of_is_none_only_when_nothing_was_stated():
    assert matching.capacity_of(None, None, None, None, None) is None
    assert matching.capacity_of(0, None, None, None, None) == {"1": 0, "3": None, "6": None, "min": None, "max": None}


def test_skills_score_is_the_weighted_share_covered():
    total = PYTHON.weight + RUST.weight
    assert matching.skills_score({1, 2}, WEIGHT_OF, total) == pytest.approx(WEIGHTS.skills)
    assert matching.skills_score({2}, WEIGHT_OF, total) == pytest.approx(RUST.weight / total)
    assert matching.skills_score({2}, WEIGHT_OF, total) > matching.skills_score({1}, WEIGHT_OF, total)


def test_capacity_score_full_for_anyone_free_half_for_not_saying_nothing_for_nobody():
    assert matching.capacity_score(3) == WEIGHTS.capacity
    assert matching.capacity_score(None) == WEIGHTS.capacity * WEIGHTS.capacity_unknown
    assert matching.capacity_score(0) == 0.0


def test_day_rate_score_within_above_and_unstated():
    assert matching.day_rate_score(400, 400) == WEIGHTS.day_rate
    assert matching.day_rate_score(450, 400) == 0.0
    assert matching.day_rate_score(None, 400) == WEIGHTS.day_rate * WEIGHTS.day_rate_unknown


def test_location_score_counts_the_same_place_only_for_work_somewhere():
    assert matching.location_score("Leeds", "leeds ") == WEIGHTS.location
    assert matching.location_score("Leeds", "Leeds city centre") == WEIGHTS.location
    assert matching.location_score("Bristol", "Leeds") == 0.0
    assert matching.location_score("Leeds", "") == 0.0  # remote work


def test_track_score_counts_awards_more_and_stops_at_full_marks():
    assert matching.track_score(0, 0) == 0.0
    assert matching.track_score(2, 0) == pytest.approx(WEIGHTS.track_record * 2 / 5)
    assert matching.track_score(1, 1) == pytest.approx(WEIGHTS.track_record * 3 / 5)  # an award is 3 bids
    assert matching.track_score(9, 9) == WEIGHTS.track_record
    assert matching.track_score(9, 9, Weights(track_record_full=0)) == 0.0


def test_skills_reason_names_what_is_offered_rarest_first_and_what_is_not():
    assert matching.skills_reason({1, 2}, WEIGHT_OF, 10) == (
        "Offers Rust (offered by 1 of 10 co-ops), Python (offered by 5 of 10 co-ops).")
    # Welsh is offered by nobody, so it is not held against anyone.
    assert matching.skills_reason({1}, WEIGHT_OF, 10) == "Offers Python (offered by 5 of 10 co-ops); not Rust."


def test_capacity_reason():
    day = date(2026, 3, 14)
    assert matching.capacity_reason(None, 1, day) == (
        "Has not said how many people are free within 1 month (the work starts around 14 Mar 2026).")
    assert matching.capacity_reason(0, 3, day).startswith("Says nobody is free within 3 months")
    assert matching.capacity_reason(1, 6, day).startswith("Says 1 person free within 6 months")
    assert matching.capacity_reason(4, 6, day).startswith("Says 4 people free")


def test_day_rate_reason():
    assert matching.day_rate_reason(None, None, 500) == "Has not stated its day rates."
    assert matching.day_rate_reason(400, 550, 500) == "Day rate £400–£550 is within the budget of £500 a day."
    assert matching.day_rate_reason(400, 400, 500) == "Day rate £400 is within the budget of £500 a day."
    assert matching.day_rate_reason(1200, None, 1000) == "Lowest day rate £1,200 is above the budget of £1,000 a day."


def test_track_location_and_recent_reasons():
    assert matching.track_reason(0, 0) == "Has not bid on jobs with these skills here yet."
    assert matching.track_reason(1, 0) == "Has bid on 1 job with these skills and won 0."
    assert matching.track_reason(3, 2) == "Has bid on 3 jobs with these skills and won 2."
    assert matching.location_reason("Leeds", "Leeds") == "Based in Leeds, where the work is."
    assert matching.location_reason("", "Leeds") == "Based in an unstated place; the work is in Leeds."
    assert matching.recent_reason(1, 0) == "1 referral and 0 awards in the last 12 months."
    assert matching.recent_reason(2, 1) == "2 referrals and 1 award in the last 12 months."
