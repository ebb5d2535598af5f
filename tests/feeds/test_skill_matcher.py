"""Finding skills named in text: the matcher tries only the terms whose words are all in the
text, and must find exactly what one pattern of every term finds (the oracle below, as the
matcher worked before), on real notices (data/SOURCES.md) and on generated text."""
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.feeds.entries import parse_rss
from marketplace.feeds.skill_guess import LOOSE_IN_PROSE, SkillMatcher
from marketplace.feeds.ocds import parse_ocds
from marketplace.skills.models import Skill

from .conftest import data_file


def one_pattern(matcher, text, skip=frozenset()):
    """The oracle: one case-blind pattern of every term, longest first, tried everywhere."""
    pattern = re.compile(r"(?<![\w+#.])(" + "|".join(re.escape(t) for t in matcher.terms) + r")(?![\w+#])",
                         re.IGNORECASE)
    found = []
    for match in pattern.finditer(" ".join(text.split())):
        term = match.group(1).lower()
        skill = None if term in skip else matcher.by_term.get(term)
        if skill is not None and skill not in found:
            found.append(skill)
    return found


def real_texts():
    texts = []
    for name in ("contracts-finder-2022-10-20.json", "contracts-finder-2022-10-22.json", "contracts-finder.json"):
        texts += [t for e in parse_ocds(data_file(name)) for t in (e.title, e.text, e.keywords)]
    for name in ("discourse-jobs.rss", "partner-board.atom"):
        texts += [t for e in parse_rss(data_file(name)) for t in (e.title, e.text, e.keywords)]
    return [t for t in texts if t]


def test_real_notices_give_what_one_pattern_gives(taxonomy):
    matcher = SkillMatcher(db.session.scalars(select(Skill)).all())
    texts = real_texts()
    assert len(texts) > 300
    named = 0
    for text in texts:
        for skip in (frozenset(), LOOSE_IN_PROSE):
            expected = one_pattern(matcher, text, skip)
            assert matcher.find(text, skip) == expected, text[:200]
            named += bool(expected)
    assert named > 50  # the comparison is not between two empty lists


SEPARATORS = st.sampled_from([" ", "  ", "\n", ".", ",", "-", "/", "+", "#", "(", ")", ": ", "'", "é", "_", "x"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_generated_text_gives_what_one_pattern_gives(taxonomy, data):
    matcher = SkillMatcher(db.session.scalars(select(Skill)).all())
    pieces = data.draw(st.lists(st.one_of(
        st.sampled_from(matcher.terms).map(lambda t: data.draw(st.sampled_from([t, t.upper(), t.title()]))),
        SEPARATORS, st.text(max_size=6)), max_size=25))
    text = "".join(pieces)
    assert matcher.find(text) == one_pattern(matcher, text)
    assert matcher.find(text, LOOSE_IN_PROSE) == one_pattern(matcher, text, LOOSE_IN_PROSE)
