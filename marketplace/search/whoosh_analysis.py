"""How the Whoosh index reads text, on both backends: stop words, accent folding, the analyser
(Porter stems), the index's schema, the skill taxonomy as queries use it, and snippets."""
from __future__ import annotations

import heapq
import re
from collections.abc import Container, Iterable, Iterator
from datetime import datetime
from functools import lru_cache
from typing import Any

from markupsafe import Markup, escape

# First: whoosh_codec imports Whoosh without its SyntaxWarning.
from . import whoosh_codec  # noqa: F401
from whoosh import columns, fields  # noqa: E402
from whoosh.analysis import Analyzer, Token  # noqa: E402
from whoosh.lang.porter import stem as porter_stem  # noqa: E402
from whoosh.support.charset import accent_map  # noqa: E402



STOP_WORDS = frozenset(
    "a an and are as at be by for from has have in is it of on or that the to was were will with".split()
)
# Accents folded one character for one, so that offsets into the text stay right for snippets.
_FOLD = str.maketrans({code: to for code, to in accent_map.items() if len(to) == 1})
_FOLD_CHARS = {chr(code): to for code, to in _FOLD.items() if code > 127}  # lower-case ASCII stays
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def _fold_char(match: re.Match[str]) -> str:
    char = match.group()
    return _FOLD_CHARS.get(char, char)


def fold(text: str) -> str:
    """Lower case, accents folded: ``text.lower().translate(_FOLD)``, five times faster on
    text that is mostly ASCII (translate looks every character up)."""
    text = text.lower()
    return text if text.isascii() else _NON_ASCII.sub(_fold_char, text)


WORD_RE = re.compile(r"\w+(?:\.?\w+)*")
stem = lru_cache(maxsize=100_000)(porter_stem)


class _Analyzer(Analyzer):
    """Words in lower case without accents, stop words out, English stems: in one pass,
    which costs a third of a chain of filters (indexing 100,000 jobs is mostly this).
    Positions skip stop words, so "bring your own device" matches "bring own device"."""

    is_morph = True

    def __call__(self, value: str, positions: bool = False, chars: bool = False, keeporiginal: bool = False,
                 removestops: bool = True, start_pos: int = 0, start_char: int = 0, tokenize: bool = True,
                 mode: str = "", no_morph: bool = False, **kwargs: Any) -> Iterator[Any]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            token.original = token.text = value
            token.pos, token.startchar, token.endchar = start_pos, start_char, start_char + len(value)
            yield token
            return
        pos = start_pos
        for match in WORD_RE.finditer(fold(value)):
            word = match.group()
            stopped = word in STOP_WORDS
            if stopped and removestops:
                continue
            token.stopped = stopped
            token.text = word if (stopped or no_morph) else stem(word)
            token.boost = 1.0
            if keeporiginal:
                token.original = word
            if positions:
                token.pos = pos
                pos += not stopped
            if chars:
                token.startchar, token.endchar = start_char + match.start(), start_char + match.end()
            yield token


# The same analysis for documents and queries.
ANALYZER = _Analyzer()


SCHEMA = fields.Schema(
    key=fields.ID(stored=True, unique=True),
    updated=fields.STORED(),
    text=fields.TEXT(analyzer=ANALYZER),  # everything, with positions for phrases
    title=fields.TEXT(analyzer=ANALYZER, phrase=False, spelling=True),
    # "type:job", "kind:tender", "status:published", "skill:python", "coop:12" …
    facet=fields.KEYWORD(scorable=True),  # scorable: Whoosh then caches its lengths when writing
    audience=fields.KEYWORD(scorable=True),
    place=fields.ID(),
    published=fields.COLUMN(columns.NumericColumn("q", default=0)),
    deadline=fields.COLUMN(columns.NumericColumn("q", default=0)),
    coop=fields.COLUMN(columns.NumericColumn("q", default=0)),
    location=fields.COLUMN(columns.VarBytesColumn()),
)
EPOCH = datetime(1970, 1, 1)


def epoch(moment: datetime | None) -> int:
    return int((moment - EPOCH).total_seconds()) if moment else 0


def analyse(text: str) -> list[str]:
    return [t.text for t in ANALYZER(text, mode="query")]


# ({analysed name: {analysed other names of the same skill}}, {stem: slugs of skills naming it})
Taxonomy = tuple[dict[tuple[str, ...], set[tuple[str, ...]]], dict[str, set[str]]]


@lru_cache(maxsize=4)
def taxonomy(alternatives: tuple[tuple[str, str, tuple[str, ...]], ...]) -> Taxonomy:
    """The skill taxonomy as queries use it, on both backends: ({analysed name: {analysed other
    names of the same skill}}, {stem: slugs of the skills whose names contain it})."""
    synonyms: dict[tuple[str, ...], set[tuple[str, ...]]] = {}
    words: dict[str, set[str]] = {}
    for slug, name, others in alternatives:
        variants = {tuple(analyse(v)) for v in (name, *others)} - {()}
        for variant in variants:
            synonyms.setdefault(variant, set()).update(variants - {variant})
            for word in variant:
                words.setdefault(word, set()).add(slug)
    return synonyms, words


SNIPPET_CHARS = 240  # at most, per passage
SNIPPET_CONTEXT = 60  # characters kept before the first marked word and after the last


class Terms:
    """The analysed words to mark in snippets: these words, and any starting with a prefix."""

    def __init__(self, words: Iterable[str] = (), prefixes: Iterable[str] = ()) -> None:
        self.words: set[str] = set(words)
        self.prefixes: set[str] = set(prefixes)

    def __contains__(self, word: object) -> bool:
        return word in self.words or (isinstance(word, str) and word.startswith(tuple(self.prefixes)))

    def __bool__(self) -> bool:
        return bool(self.words or self.prefixes)


def snippet(text: str, terms: Container[str], passages: int = 2) -> Markup | None:
    """The passages of ``text`` holding the most words whose analysed forms are in ``terms``,
    in text order, the words marked with <mark> and the rest escaped; None without such words."""
    hits = [match.span() for match in WORD_RE.finditer(fold(text))
            if match.group() not in STOP_WORDS and stem(match.group()) in terms]
    if not hits:
        return None
    groups: list[list[tuple[int, int]]] = [[hits[0]]]
    for hit in hits[1:]:
        if hit[1] - groups[-1][0][0] <= SNIPPET_CHARS - 2 * SNIPPET_CONTEXT:
            groups[-1].append(hit)
        else:
            groups.append([hit])
    best = sorted(heapq.nlargest(passages, groups, key=len), key=lambda group: group[0][0])
    return Markup(" … ").join(_passage(text, group) for group in best)


def _passage(text: str, group: list[tuple[int, int]]) -> Markup:
    start = max(0, group[0][0] - SNIPPET_CONTEXT)
    end = min(len(text), group[-1][1] + SNIPPET_CONTEXT)
    if start:  # begin and end at whole words
        space = text.find(" ", start, group[0][0])
        start = space + 1 if space >= 0 else start
    if end < len(text):
        space = text.rfind(" ", group[-1][1], end)
        end = space if space >= 0 else end
    out: list[Markup] = []
    at = start
    for hit_start, hit_end in group:
        out.append(escape(text[at:hit_start]))
        out.append(Markup("<mark>%s</mark>") % text[hit_start:hit_end])
        at = hit_end
    out.append(escape(text[at:end]))
    return Markup("").join(out).strip()
