"""One query: a ``SearchRequest`` evaluated on a view with bitsets all the way (the visibility
filter, facet counts, ranking tiers), documents looked up at the end. The evaluator of both
backends: the view is the Whoosh index's (``whoosh_bits.View``) or the PostgreSQL documents'
as one process holds them (``postgres_view.PostgresView``)."""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from itertools import compress
from operator import itemgetter
from typing import TYPE_CHECKING


from ..jobs.models import JobState
from . import SearchRequest, SearchResult
from .documents import COOP, JOB, place_key, state_table
from .query import And, Node, Not, Text
from .whoosh_analysis import Taxonomy, Terms, analyse, epoch, fold
from .whoosh_bits import MAX_EXPANSION, flags

if TYPE_CHECKING:
    from .postgres_view import PostgresView
    from .whoosh_bits import View

# Of each clause of a query: (documents matching it anywhere, in the title, in the skills).
Clause = tuple[int, int, int]


TERM_FACETS = ("kind", "visibility", "budget", "mode", "skill")
COUNT_BY_BITSETS = 200  # results per location above which counting by bitsets beats a lookup each
# Answers a view keeps, the oldest going first: each is a few hundred bytes, and its key holds two
# bitsets of the documents (about 26 KB at 100,000): under 2 MB a worker at that size.
MEMO_ENTRIES = 64

# --- one query -------------------------------------------------------------------------------

class Query:
    """Evaluate a ``SearchRequest`` on one view: bitsets all the way, documents at the end."""

    def __init__(self, view: View | PostgresView, request: SearchRequest, tokens: Iterable[str], now: datetime,
                 skills: Taxonomy) -> None:
        self.view = view
        self.request = request
        self.now = epoch(now)
        self.synonyms, self.skill_words = skills
        self.terms: set[str] = set()
        self.prefixes: set[str] = set()
        self.unmatched: list[str] = []
        self.notices = list(request.query.notices)
        self.labels: dict[str, str] = {}
        self.tokens = frozenset(tokens)
        audience = 0
        for token in self.tokens:
            audience |= view.bits("audience", token)
        self.audience = audience & view.live

    # text

    def leaf(self, node: Text, field: str) -> int | None:
        if field == "skills":
            return self._skill_leaf(node)
        if node.prefix:
            # A prefix is matched as typed (lower case, accents folded), not stemmed.
            found, expanded = self.view.prefix(field, fold(node.text))
            if expanded is not None and len(expanded) > MAX_EXPANSION:
                self.notices.append(f"“{node.text}*” matches too many words: type more letters.")
            if field == "text":
                if expanded is None:  # the view does not list the words: mark them by the prefix
                    self.prefixes.add(fold(node.text))
                else:
                    self.terms.update(expanded[:MAX_EXPANSION])
                if not found & self.audience:  # words only hidden documents hold are unmatched too
                    self.unmatched.append(node.text)
            return found
        words = tuple(analyse(node.text))
        if not words:
            return None
        found = self._words(words, field, phrase=len(words) > 1)
        if field == "text":
            self.terms.update(words)
            if not found & self.audience and len(words) == 1:
                self.unmatched.append(node.text)
        for alternative in self.synonyms.get(words, ()):
            found |= self._words(alternative, field, phrase=len(alternative) > 1)
            if field == "text":
                self.terms.update(alternative)
        return found

    def _skill_leaf(self, node: Text) -> int:
        """Jobs tagged with a skill whose name or synonyms hold all these words."""
        slugs: set[str]
        if node.prefix:
            stem = fold(node.text)
            slugs = set().union(*[s for w, s in self.skill_words.items() if w.startswith(stem)])
        else:
            words = analyse(node.text)
            slugs = set.intersection(*[self.skill_words.get(w, set()) for w in words]) if words else set()
        found = 0
        for slug in slugs:
            found |= self.view.bits("facet", f"skill:{slug}")
        return found

    def _words(self, words: tuple[str, ...], field: str, phrase: bool) -> int:
        if phrase and field == "text":
            return self.view.live & self.view.phrase(words)
        found = self.view.live
        for word in words:
            found &= self.view.bits(field, word)
            if not found:
                return 0
        return found

    def node(self, node: Node, field: str) -> int | None:
        if isinstance(node, Text):
            return self.leaf(node, field)
        if isinstance(node, Not):
            inner = self.node(node.item, field)
            return None if inner is None else self.view.live & ~inner
        parts = [p for p in (self.node(item, field) for item in node.items) if p is not None]
        if not parts:
            return None
        result = parts[0]
        for part in parts[1:]:
            result = (result & part) if isinstance(node, And) else (result | part)
        return result

    # the whole query

    def run(self) -> SearchResult:
        view, request = self.view, self.request
        query = request.query
        clauses: list[Clause] = []
        for clause in query.clauses:
            anywhere = self.node(clause, "text")
            if anywhere is None:
                continue
            clauses.append((anywhere, self.node(clause, "title") or 0, self.node(clause, "skills") or 0))
        searched = bool(clauses)
        if query.clauses and not searched:
            self.notices.append("Your search had only very common words; try more specific ones.")
        matched = view.live
        if searched:
            matched = 0
            for anywhere, _title, _skills in clauses:
                matched |= anywhere
        for excluded in query.excluded:
            left_out = self.node(excluded, "text")
            if left_out:
                matched &= ~left_out
        matched &= self.audience
        kinds = {kind: matched & view.bits("facet", f"type:{kind}") for kind in (JOB, COOP)}

        facets: dict[str, list[tuple[str, int]]]
        if request.kind == JOB:
            selected, facets = self._facets(kinds[JOB])
        else:
            selected, facets = kinds[COOP], {}
        kind_counts = {kind: (selected if kind == request.kind else bits).bit_count()
                       for kind, bits in kinds.items()}
        total = selected.bit_count()
        start = (request.page - 1) * request.per_page
        docnums = self._page(selected, clauses, start, request.per_page) if request.per_page > 0 else []
        hits = self.view.hits(docnums)
        suggestions = self._suggestions() if self.unmatched else {}
        return SearchResult(
            hits=hits, total=total, facets=facets, kind_counts=kind_counts,
            suggestions=suggestions, notices=self.notices, searched=searched,
            highlight=Terms(self.terms, self.prefixes) if self.prefixes else frozenset(self.terms), labels={"location": self.labels},
        )

    def counts_by_skill(self) -> dict[str, dict[str, int]]:
        """{"job": {skill slug: open jobs}, "coop": {skill slug: co-ops}} of what the viewer may
        see, each skill's bitset read once for both (the skills index's two columns)."""
        view = self.view
        # The answer depends only on the viewer's tokens, the documents (the live set: on either
        # view a changed document is a new one) and which deadlines have passed; kept under
        # those, repeating it costs a lookup rather than two bitset operations a skill.
        key = (self.tokens, view.live, view.deadline_after(self.now))
        kept = view.memo.get(key)
        if kept is not None:
            return {kind: dict(found) for kind, found in kept.items()}
        within = {JOB: self.audience & view.bits("facet", f"type:{JOB}") & self._state_bits().get(JobState.OPEN.value, 0),
                  COOP: self.audience & view.bits("facet", f"type:{COOP}")}
        counts: dict[str, dict[str, int]] = {JOB: {}, COOP: {}}
        for slug in view.values("facet", "skill:"):
            bits = view.bits("facet", f"skill:{slug}")
            for kind, selected in within.items():
                found = (selected & bits).bit_count()
                if found:
                    counts[kind][slug] = found
        view.memo[key] = counts
        while len(view.memo) > MEMO_ENTRIES:
            view.memo.pop(next(iter(view.memo)))
        return {kind: dict(found) for kind, found in counts.items()}

    # facets

    def _selection(self, name: str, value: str) -> int:
        view = self.view
        if name in TERM_FACETS:
            return view.bits("facet", f"{name}:{value}")
        if name == "coop":
            return view.bits("facet", f"coop:{value}")
        if name == "location":
            return view.bits("place", value)
        if name == "state":
            return self._state_bits().get(value, 0)
        return view.live

    def _state_bits(self) -> dict[str, int]:
        if not hasattr(self, "_states"):
            future = self.view.deadline_after(self.now)
            states: dict[str, int] = {}
            for (status, in_future), state in state_table().items():
                bits = self.view.bits("facet", f"status:{status}")
                bits &= future if in_future else ~future
                states[state] = states.get(state, 0) | bits
            self._states = states
        return self._states

    def _facets(self, base: int) -> tuple[int, dict[str, list[tuple[str, int]]]]:
        """The selected documents, and {facet: [(value, count)]} where each count is the
        number of results that choosing that value (instead of the current one) gives."""
        filters = self.request.filters
        chosen = {name: self._selection(name, value) for name, value in filters.items()}
        everything = base
        for bits in chosen.values():
            everything &= bits
        facets: dict[str, list[tuple[str, int]]] = {}
        for name in ("kind", "state", "visibility", "budget", "mode", "skill", "location", "coop"):
            if name in chosen:
                others = base
                for other, bits in chosen.items():
                    if other != name:
                        others &= bits
            else:
                others = everything
            facets[name] = self._counts(name, others)
        return everything, facets

    def _counts(self, name: str, within: int) -> list[tuple[str, int]]:
        view = self.view
        if not within:
            return []
        counts: Iterable[tuple[str, int]]
        if name in TERM_FACETS:
            counts = [(value, (within & view.bits("facet", f"{name}:{value}")).bit_count())
                      for value in view.values("facet", f"{name}:")]
        elif name == "state":
            counts = [(state, (within & bits).bit_count()) for state, bits in self._state_bits().items()]
        elif name == "coop":
            coops = Counter(compress(view.column("coop"), flags(within)))
            coops.pop(0, None)
            counts = zip(map(str, coops.keys()), coops.values())
        else:  # location: labels as written, counted by place
            by_location = view.by_location()
            found: Iterable[tuple[str, int]]
            if by_location is not None and within.bit_count() > COUNT_BY_BITSETS * len(by_location):
                found = [(label, (within & bits).bit_count()) for label, bits in by_location.items()]
            else:  # few documents: look each one up
                found = Counter(compress(view.column("location"), flags(within))).items()
            tally: Counter[str] = Counter()
            labels: dict[str, set[str]] = {}
            for label, n in found:
                key = place_key(label)
                if key and n:
                    tally[key] += n
                    labels.setdefault(key, set()).add(label.strip())
            counts = list(tally.items())
            self.labels.update({key: min(variants) for key, variants in labels.items()})
        ordered = sorted([item for item in counts if item[1]], key=itemgetter(0))
        ordered.sort(key=itemgetter(1), reverse=True)  # most first, then by value (the sort is stable)
        return ordered

    # ordering

    def _page(self, selected: int, clauses: Sequence[Clause], start: int, count: int) -> list[int]:
        sort = self.request.sort
        partitions: Iterable[tuple[int, str]]
        if sort == "closing":
            future = self.view.deadline_after(self.now)
            partitions = [(selected & future, "deadline_asc"), (selected & ~future, "deadline_desc")]
        elif sort == "relevance" and clauses:
            partitions = ((p, "newest") for p in _tiers(selected, clauses))
        else:
            partitions = [(selected, "newest")]
        out: list[int] = []
        for partition, how in partitions:
            size = partition.bit_count()
            if start >= size:
                start -= size
                continue
            out += self.view.ordered(how, partition, start, count - len(out), self.now)
            start = 0
            if len(out) >= count:
                break
        return out

    def _suggestions(self) -> dict[str, list[str]]:
        """{word: [spellings]}: title words near each unmatched word, only those in a title the
        viewer may see (so that no suggestion tells of a hidden job), the nearest first, then
        those in most of the viewer's documents. Whoosh keeps title words unstemmed in a
        spelling field; each is checked through its stems against the viewer's audience."""
        found: dict[str, list[str]] = {}
        for typed in self.unmatched:
            if not typed.isalpha():
                continue
            word = typed.lower()
            for distance in (1, 2):
                scored: list[tuple[int, str]] = []
                for option in self.view.spellings(word, distance):
                    stems = tuple(analyse(option))
                    seen = self._words(stems, "title", phrase=False) & self.audience if stems else 0
                    if option != word and seen:
                        scored.append((-seen.bit_count(), option))
                if scored:
                    found[word] = [option for _, option in sorted(scored)[:3]]
                    break
        return found


def _tiers(selected: int, clauses: Sequence[Clause]) -> Iterator[int]:
    """The selected documents split into relevance tiers, best first: by the number of the
    query's clauses matched anywhere, then in the title, then in the skills."""
    digits: list[int] = []
    for index_ in range(3):
        counter: list[int] = []
        for clause in clauses:
            carry = clause[index_] & selected
            for i in range(len(counter)):
                if not carry:
                    break
                counter[i], carry = counter[i] ^ carry, counter[i] & carry
            if carry:
                counter.append(carry)
        digits += reversed(counter)

    def walk(bits: int, i: int) -> Iterator[int]:
        if not bits:
            return
        if i == len(digits):
            yield bits
            return
        yield from walk(bits & digits[i], i + 1)
        yield from walk(bits & ~digits[i], i + 1)

    return walk(selected, 0)
