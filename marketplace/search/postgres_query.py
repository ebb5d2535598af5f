"""The PostgreSQL backend's words: a document's text as tsvector input, analysed as the Whoosh
backend analyses it (its stems, stop words and positions), with runs of words for short phrases,
and a word as tsquery input. This is the part that must agree with the Whoosh backend's analysis
word for word; the rest of a query is evaluated as the Whoosh backend evaluates it
(``postgres_view``)."""
from __future__ import annotations

from .whoosh_analysis import ANALYZER

# tsvector limits: positions 1-16383, 256 of them per lexeme, lexemes under 2 KB.
MAX_POSITION, MAX_POSITIONS, MAX_LEXEME_BYTES = 16383, 256, 2046
MAX_RUN = 3  # words of a phrase that the index holds as one lexeme


def quoted(word: str) -> str:
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
        return " ".join(quoted(word) for word in found)
    return " ".join(f"{quoted(word)}:{','.join(map(str, at))}" for word, at in found.items())


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
    return " ".join(quoted(run) for run in found)
