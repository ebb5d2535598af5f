"""The PostgreSQL backend's words and queries: a document's text as tsvector input (analysed as
the Whoosh backend analyses it, with runs of words for short phrases), the parsed query as
tsquery input, and the SQL of matching, skills, states and facet filters on ``search_document``.
Apart from ``postgres_backend`` (writing, the search statements, time limits): this is the part
that must agree with the Whoosh backend's analysis word for word."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Text, and_, bindparam, case, cast, false, func, not_, or_
from sqlalchemy.dialects.postgresql import ARRAY, TSQUERY

from .documents import state_table
from .models import SearchDocument as doc
from .query import And, Not, Text as Leaf
from .whoosh_analysis import ANALYZER, analyse, fold, taxonomy

if TYPE_CHECKING:
    from sqlalchemy import BindParameter, ColumnElement

    from .query import Node

# tsvector limits: positions 1-16383, 256 of them per lexeme, lexemes under 2 KB.
MAX_POSITION, MAX_POSITIONS, MAX_LEXEME_BYTES = 16383, 256, 2046
MAX_RUN = 3  # words of a phrase that the index holds as one lexeme
EVERYTHING = "!"  # a query part that every document matches (see Translator.query)


def _quoted(word: str) -> str:
    """A lexeme as tsvector/tsquery input: quoted, so that no character is an operator."""
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"


def vector(text: str | None, positions: bool = True) -> str:
    """``text`` as tsvector input, analysed as the Whoosh backend analyses it: the words with
    their positions, or (without ``positions``) the words alone."""
    found: dict[str, list[int]] = {}
    for token in ANALYZER(text or "", positions=True):
        if len(token.text.encode()) > MAX_LEXEME_BYTES:
            continue
        at = found.setdefault(token.text, [])
        if len(at) < MAX_POSITIONS:
            at.append(min(token.pos + 1, MAX_POSITION))
    if not positions:
        return " ".join(_quoted(word) for word in found)
    return " ".join(f"{_quoted(word)}:{','.join(map(str, at))}" for word, at in found.items())


def runs(text: str | None) -> str:
    """tsvector input (no positions) of the words of ``text`` and of every run of up to
    ``MAX_RUN`` of them ("web app"): a phrase that long is then one lexeme of the GIN index,
    found without reading any document's positions."""
    words = [token.text for token in ANALYZER(text or "")]
    found: set[str] = set()
    for n in range(1, MAX_RUN + 1):
        for i in range(len(words) - n + 1):
            run = " ".join(words[i:i + n])
            if len(run.encode()) <= MAX_LEXEME_BYTES:
                found.add(run)
    return " ".join(_quoted(run) for run in found)


class _Terms:
    """The analysed words to mark in snippets: these words, and any starting with a prefix."""

    def __init__(self) -> None:
        self.words: set[str] = set()
        self.prefixes: set[str] = set()

    def __contains__(self, word: object) -> bool:
        return word in self.words or (isinstance(word, str) and word.startswith(tuple(self.prefixes)))

    def __bool__(self) -> bool:
        return bool(self.words or self.prefixes)


class Translator:
    """The parsed query as tsquery input (lexemes quoted, passed as bound parameters)."""

    def __init__(self, alternatives: Iterable[tuple[str, str, tuple[str, ...]]]) -> None:
        self.synonyms, self.skill_words = taxonomy(tuple(alternatives))
        self.terms = _Terms()
        self.long = False  # a phrase longer than MAX_RUN words was asked

    def query(self, node: Node, field: str = "text", exact: bool = False) -> str | None:
        """tsquery input for ``node``, or None when analysis leaves nothing (only stop words).

        ``field`` "title": every word, anywhere, in the title. "text": in the runs of words
        (``runs``), exact for phrases of up to ``MAX_RUN`` words; a longer phrase is asked as
        its runs (all there, maybe not in one place) and marked ``self.long``, so that the
        caller checks it on the positions: ``exact`` gives that query. Under a NOT a longer
        phrase cannot be asked of the runs: that part is ``EVERYTHING`` (left to the check)."""
        if isinstance(node, Leaf):
            return self.leaf(node, field, exact)
        if isinstance(node, Not):
            inner = self.query(node.item, field, exact)
            if inner is None:
                return None
            if field == "text" and not exact and self.has_long(node.item):
                return EVERYTHING
            return f"!{inner}"
        parts = [p for p in (self.query(item, field, exact) for item in node.items) if p is not None]
        if not parts:
            return None
        if isinstance(node, And):
            parts = [p for p in parts if p != EVERYTHING] or [EVERYTHING]
        elif EVERYTHING in parts:
            return EVERYTHING
        return parts[0] if len(parts) == 1 else "(" + (" & " if isinstance(node, And) else " | ").join(parts) + ")"

    def has_long(self, node: Node) -> bool:
        if isinstance(node, Leaf):
            return not node.prefix and any(len(o) > MAX_RUN for o in self.options(node))
        if isinstance(node, Not):
            return self.has_long(node.item)
        return any(self.has_long(item) for item in node.items)

    def options(self, node: Leaf) -> list[tuple[str, ...]]:
        words = tuple(analyse(node.text))
        return [words, *sorted(self.synonyms.get(words, ()))] if words else []

    def leaf(self, node: Leaf, field: str, exact: bool) -> str | None:
        if node.prefix:  # matched as typed (lower case, accents folded), not stemmed
            if field == "text":
                self.terms.prefixes.add(fold(node.text))
            return _quoted(fold(node.text)) + ":*"
        options = self.options(node)
        if not options:
            return None
        if field == "title":
            return "(" + " | ".join("(" + " & ".join(map(_quoted, o)) + ")" for o in options) + ")"
        self.terms.words.update(word for option in options for word in option)
        found: list[str] = []
        for option in options:
            if exact:
                found.append(" <-> ".join(map(_quoted, option)))
            elif len(option) <= MAX_RUN:
                found.append(_quoted(" ".join(option)))
            else:
                self.long = True
                found.append(" & ".join(_quoted(" ".join(option[i:i + MAX_RUN]))
                                        for i in range(len(option) - MAX_RUN + 1)))
        return "(" + " | ".join(f"({q})" for q in found) + ")"

    def skills(self, node: Node, column: Any) -> ColumnElement[bool]:
        """SQL: the document (its skills ``column``) is tagged with a skill whose names hold the
        words of ``node``."""
        if isinstance(node, Leaf):
            slugs: set[str]
            if node.prefix:
                stem = fold(node.text)
                slugs = set().union(*[s for word, s in self.skill_words.items() if word.startswith(stem)])
            else:
                words = analyse(node.text)
                slugs = set.intersection(*[self.skill_words.get(w, set()) for w in words]) if words else set()
            return column.op("&&", is_comparison=True)(text_array(slugs)) if slugs else false()
        if isinstance(node, Not):
            return not_(self.skills(node.item, column))
        parts = [self.skills(item, column) for item in node.items]
        return and_(*parts) if isinstance(node, And) else or_(*parts)


def combined(clauses: Iterable[str | None], excluded: Iterable[str | None]) -> str | None:
    """tsquery input: any of the clauses, none of the excluded (Nones dropped), or None."""
    anyof, noneof = [c for c in clauses if c is not None], [e for e in excluded if e is not None]
    if EVERYTHING in anyof:
        anyof = []
    words = " | ".join(f"({c})" for c in anyof)
    left_out = [f"!({e})" for e in noneof if e != EVERYTHING]
    if not left_out:
        return words or (EVERYTHING if noneof else None)
    return " & ".join(([f"({words})"] if words else []) + left_out)


def text_array(values: Iterable[str]) -> BindParameter[Any]:
    return bindparam(None, sorted(values), type_=ARRAY(Text))


def matches(column: Any, query: str | None) -> ColumnElement[bool]:
    return column.op("@@", is_comparison=True)(cast(bindparam(None, query, type_=Text), TSQUERY))


def state_at(now: datetime) -> ColumnElement[str]:
    """The job's state at ``now``, as ``Job.state`` derives it (``documents.state_table``)."""
    future = doc.bids_deadline > now
    return case(*[(and_(doc.status == status, future if ahead else not_(func.coalesce(future, False))), state)
                  for (status, ahead), state in state_table().items()])


def filter_clause(name: str, value: str, now: datetime) -> ColumnElement[bool]:
    if name == "skill":
        return doc.skills.op("@>", is_comparison=True)(text_array([value]))
    column = {"state": state_at(now), "kind": doc.job_kind, "visibility": doc.visibility, "budget": doc.budget,
              "mode": doc.mode, "location": doc.place, "coop": cast(doc.coop_id, Text)}[name]
    return column == str(value)
