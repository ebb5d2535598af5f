"""The ranking gives the same answers as before its scoring was split into named parts.

``fixtures/rankings.json`` was written by ``python -m tests.coordinator.golden`` from the code of
``main`` BEFORE ``rank`` and ``_reasons`` were split into small scoring functions: it holds, for
every fourth published job of a seeded network (the benchmark's generator at a small size, with
capacity, bids, awards and referrals) and for two kinds of viewer, the order of the co-ops, their
fit, close-match and capacity flags, every reason, and the suggested consortia. The split must
give exactly the same."""
import json

from . import golden


def test_rankings_are_unchanged_on_a_seeded_network():
    golden.build()
    answers = json.loads(json.dumps(golden.rankings()))
    with open(golden.FIXTURE) as f:
        expected = json.load(f)
    assert answers.keys() == expected.keys()
    different = [key for key in expected if answers[key] != expected[key]]
    assert not different, f"{len(different)} rankings changed, first {different[0]}: " \
                          f"{answers[different[0]]} != {expected[different[0]]}"
    # The seeded network exercises every part of the score.
    matches = [m for answer in expected.values() for m in answer["matches"]]
    assert any(m["close_match"] for m in matches) and any(not m["close_match"] for m in matches)
    assert any(m["no_capacity"] for m in matches)
    assert any(answer["consortia"] for answer in expected.values())
    reasons = " ".join(r for m in matches for r in m["reasons"])
    for phrase in ("Has not said how many people", "Says nobody is free", "is within the budget",
                   "is above the budget", "Has not stated its day rates", "Has bid on", "where the work is"):
        assert phrase in reasons, phrase
