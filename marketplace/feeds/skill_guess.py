"""Guessing an imported entry's skills: the source's defaults, codes (CPV), then skills named
in its title, categories and text, matched against the taxonomy's names and synonyms."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ..jobs.services import MAX_SKILLS

if TYPE_CHECKING:
    from collections.abc import Iterable

    from ..skills.models import Skill
    from .entries import Entry


class SkillMatcher:
    """Finds taxonomy skills named in text, by name, slug or synonym, as whole words.

    One pattern of every term tried at each position of a long notice costs about half a
    millisecond an entry; a term can only match where each of its words is a word of the text,
    so the pattern is made of those terms alone (and kept: many texts share the same few)."""

    def __init__(self, skills: Iterable[Skill]) -> None:
        self.by_slug = {s.slug: s for s in skills}
        self.by_term: dict[str, Any] = {}
        for skill in skills:
            for term in (skill.name, skill.slug.replace("-", " "), *skill.synonym_list):
                term = " ".join(term.lower().split())
                if len(term) >= 2:
                    self.by_term.setdefault(term, skill)
        # Longest first: "machine learning" before "machine", as the single pattern had them.
        self.terms = sorted(self.by_term, key=len, reverse=True)
        self._rank = {term: n for n, term in enumerate(self.terms)}
        self._by_word: dict[str, list[Any]] = {}
        for term in self.terms:
            words = frozenset(_WORD.findall(term))
            if words:
                self._by_word.setdefault(min(words), []).append((term, words))
        self._patterns: dict[Any, Any] = {}

    def find(self, text: str, skip: frozenset[str] = frozenset()) -> list[Any]:
        """The skills named in ``text``, in order; ``skip``: terms that do not count."""
        if not self.terms or not text:
            return []
        text = " ".join(text.split())
        words = set(_WORD.findall(text.lower()))
        candidates = sorted({term for word in words for term, needs in self._by_word.get(word, ())
                             if needs <= words}, key=self._rank.__getitem__)
        if not candidates:
            return []
        found = []
        for match in self._pattern(tuple(candidates)).finditer(text):
            term = match.group(1).lower()
            skill = None if term in skip else self.by_term.get(term)
            if skill is not None and skill not in found:
                found.append(skill)
        return found

    def _pattern(self, terms: tuple[str, ...]) -> re.Pattern[str]:
        pattern = self._patterns.get(terms)
        if pattern is None:
            if len(self._patterns) > 4096:
                self._patterns.clear()
            pattern = self._patterns[terms] = re.compile(
                r"(?<![\w+#.])(" + "|".join(re.escape(t) for t in terms) + r")(?![\w+#])", re.IGNORECASE
            )
        return pattern


# The words of a term or a text, as the pattern's edges see them: a term can only match where
# each of its words stands whole in the text.
_WORD = re.compile(r"[\w+#]+")


# Words that name a skill but mostly mean something else in a public notice ("building
# security", "LED video panel", "our strategy", "hosting an event"), and in its prose also
# "see our website": tried on real Contracts Finder tenders, they made most wrong guesses.
LOOSE_TERMS = frozenset({"security", "strategy", "campaigns", "hosting", "infrastructure", "video", "games",
                         "containers", "printing", "node", "linux", "ubuntu", "charts", "ml"})
LOOSE_IN_PROSE = LOOSE_TERMS | {"website"}


def guess_skills(entry: Entry, matcher: SkillMatcher, defaults: Iterable[Skill]) -> list[Any]:
    """The source's default skills, then skills known from codes (CPV), then skills named in
    the title and categories, then in the text, at most MAX_SKILLS.

    A classified notice (an OCDS tender with CPV codes) is read more warily: its codes stand
    for its categories (their names are whole families: "…printing and security"), loose
    words count in its title only for skills of the kind its codes name, and never in its text,
    which is long and mostly boilerplate. A forum post's text is short and about the work."""
    chosen = list(defaults)
    candidates = [matcher.by_slug[s] for s in entry.skill_slugs if s in matcher.by_slug]
    if not entry.classified:
        candidates += matcher.find(entry.title) + matcher.find(entry.keywords) + matcher.find(entry.text)
    else:
        # Its codes say what kind of work it is: a loose word of its title counts only for a skill
        # of that kind ("Email security solution" coded as software is information security;
        # "Security services" coded as guarding and events is not).
        kinds = {_kind(skill) for skill in candidates}
        strict = matcher.find(entry.title, skip=LOOSE_TERMS)
        candidates += [skill for skill in matcher.find(entry.title)
                       if skill in strict or _kind(skill) in kinds]
        candidates += matcher.find(entry.text, skip=LOOSE_IN_PROSE)
    for skill in candidates:
        if skill not in chosen:
            chosen.append(skill)
    return chosen[:MAX_SKILLS]


# Technologies are tools of digital work: codes of software or IT services vouch for them too.
_DIGITAL = "Digital products & platforms"


def _kind(skill: Any) -> str:
    return _DIGITAL if skill.group in (_DIGITAL, "Technologies") else skill.group
