"""What people type into the search box, parsed once for every backend.

The grammar is forgiving on purpose: any string parses, and what cannot be used is dropped
with a notice rather than an error.

    words        any of the words; documents with more of them rank first
    "a phrase"   the words next to each other
    co-op        a joined word is searched as a phrase
    design*      words starting with "design" (at least two letters before the star)
    a AND b      both            a OR b   either        NOT a, -a   without
    (a b)        grouping

Backends analyse the leaves (``Text``) with their own stemmer and stop words.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

MAX_QUERY_CHARS = 200
MAX_LEAVES = 12
MIN_PREFIX = 2
OPERATORS = {"AND", "OR", "NOT"}

_TOKEN_RE = re.compile(r'"[^"]*"?|[()]|[^\s"()]+')
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_WORD_RE = re.compile(r"\w+")


@dataclass(frozen=True)
class Text:
    """A word as typed (or several joined ones, or a quoted phrase when ``phrase``)."""

    text: str
    prefix: bool = False
    phrase: bool = False


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    item: Node


# A parsed query's node: a word or phrase, or an operator over nodes.
Node = Text | And | Or | Not
# What the tokenizer hands the parser: ("leaf", a word, perhaps negated) or (an operator or a
# bracket, None).
Token = tuple[str, Text | Not | None]


@dataclass
class ParsedQuery:
    """``clauses``: the positive parts, each ranked as one; ``excluded``: what must not match."""

    text: str
    clauses: tuple[Node, ...] = ()
    excluded: tuple[Node, ...] = ()
    notices: list[str] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not self.clauses

    def leaves(self, negative: bool = False) -> list[Text]:
        """Every ``Text`` of the positive clauses (or, with ``negative``, of all parts)."""
        found: list[Text] = []
        roots = self.clauses + (self.excluded if negative else ())
        for root in roots:
            _collect(root, found, negative)
        return found


def _collect(node: Node, found: list[Text], negative: bool) -> None:
    if isinstance(node, Text):
        found.append(node)
    elif isinstance(node, (And, Or)):
        for item in node.items:
            _collect(item, found, negative)
    elif isinstance(node, Not) and negative:
        _collect(node.item, found, negative)


def normalise(text: str | None) -> str:
    """NFKC, no control characters, single spaces."""
    text = unicodedata.normalize("NFKC", text or "")
    return " ".join(_CONTROL_RE.sub(" ", text).split())


def parse(raw: str | None) -> ParsedQuery:
    """Parse the search box text into a ``ParsedQuery``; never raises."""
    text = normalise(raw)
    notices: list[str] = []
    if len(text) > MAX_QUERY_CHARS:
        text = text[:MAX_QUERY_CHARS].rsplit(" ", 1)[0] or text[:MAX_QUERY_CHARS]
        notices.append(f"Your search was long, so only its first {MAX_QUERY_CHARS} characters were used.")
    parser = _Parser(_tokens(text, notices), notices)
    items = parser.sequence(top=True)
    if parser.leaf_count > MAX_LEAVES:
        notices.append(f"Only the first {MAX_LEAVES} words of your search were used.")
    clauses = tuple(i for i in items if not isinstance(i, Not))
    excluded = tuple(i.item for i in items if isinstance(i, Not))
    if excluded and not clauses:
        notices.append("Say what to look for as well as what to leave out.")
    return ParsedQuery(text=text, clauses=clauses, excluded=excluded, notices=_unique(notices))


def _unique(messages: list[str]) -> list[str]:
    return list(dict.fromkeys(messages))


def _tokens(text: str, notices: list[str]) -> list[Token]:
    """Split into phrases, brackets, operators and words; clean each word."""
    tokens: list[Token] = []
    for match in _TOKEN_RE.finditer(text):
        token = match.group()
        if token.startswith('"'):
            inner = token.strip('"').replace("*", " ").replace("?", " ")
            if _WORD_RE.search(inner):
                tokens.append(("leaf", Text(" ".join(inner.split()), phrase=True)))
            continue
        if token in "()":
            tokens.append((token, None))
            continue
        if token in OPERATORS:
            tokens.append((token, None))
            continue
        negative = token.startswith("-") and len(token) > 1
        token = token.lstrip("-+")
        if ":" in token:
            notices.append("Searching one field (such as title:) is not supported: every field was searched.")
        # A field prefix or a colon separates words: "title:python" searches for "title" and "python".
        for part in token.split(":"):
            leaf = _leaf(part, notices)
            if leaf is not None:
                tokens.append(("leaf", Not(leaf) if negative else leaf))
    return tokens


def _leaf(part: str, notices: list[str]) -> Text | None:
    prefix = part.endswith("*")
    stem = part.rstrip("*?")
    if "*" in stem or "?" in stem:
        notices.append("Wildcards work only at the end of a word, as in design*.")
        stem = stem.replace("*", "").replace("?", "")
    if not _WORD_RE.search(stem):
        if prefix:
            notices.append(f"Type at least {MIN_PREFIX} letters before a *.")
        return None
    if prefix and (len(_WORD_RE.findall(stem)) > 1 or len(stem) < MIN_PREFIX or not _WORD_RE.fullmatch(stem)):
        notices.append(f"A * needs at least {MIN_PREFIX} letters of one word before it, as in design*.")
        prefix = False
    return Text(stem, prefix=prefix)


class _Parser:
    """Recursive descent over the tokens; stray operators and brackets are skipped."""

    def __init__(self, tokens: list[Token], notices: list[str]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.notices = notices
        self.leaf_count = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos][0] if self.pos < len(self.tokens) else None

    def take(self) -> Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def sequence(self, top: bool = False) -> list[Node]:
        items: list[Node] = []
        while self.pos < len(self.tokens):
            kind = self.peek()
            if kind == ")":
                if not top:
                    return items
                self.take()  # a closing bracket with no opening one
                continue
            if kind in ("AND", "OR"):
                self.take()  # an operator with nothing on its left
                continue
            item = self.and_expr()
            if item is not None:
                items.append(item)
        return items

    def and_expr(self) -> Node | None:
        items = [self.or_expr()]
        while self.peek() == "AND":
            self.take()
            items.append(self.or_expr())
        present = [i for i in items if i is not None]
        if not present:
            return None
        return present[0] if len(present) == 1 else And(tuple(present))

    def or_expr(self) -> Node | None:
        items = [self.unary()]
        while self.peek() == "OR":
            self.take()
            items.append(self.unary())
        present = [i for i in items if i is not None]
        if not present:
            return None
        return present[0] if len(present) == 1 else Or(tuple(present))

    def unary(self) -> Node | None:
        kind = self.peek()
        if kind == "NOT":
            self.take()
            item = self.unary()
            return None if item is None else (item.item if isinstance(item, Not) else Not(item))
        return self.atom()

    def atom(self) -> Node | None:
        kind = self.peek()
        if kind is None or kind in ("AND", "OR", ")"):
            return None
        kind, value = self.take()
        if kind == "(":
            items = self.sequence()
            if self.peek() == ")":
                self.take()
            if not items:
                return None
            return items[0] if len(items) == 1 else Or(tuple(items))
        self.leaf_count += 1
        if self.leaf_count > MAX_LEAVES:
            return None
        return value
