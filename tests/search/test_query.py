"""The search box's grammar: anything typed parses, and what cannot be used is explained."""
import pytest

from marketplace.search.query import MAX_LEAVES, MAX_QUERY_CHARS, And, Not, Or, Text, parse

ONE_BACKEND = True  # the parser is the same for every backend


def test_words_are_separate_clauses():
    q = parse("booking  system")
    assert q.clauses == (Text("booking"), Text("system"))
    assert q.excluded == () and q.notices == []


def test_phrases_prefixes_and_joined_words():
    q = parse('"user research" design* co-op')
    assert q.clauses == (Text("user research", phrase=True), Text("design", prefix=True), Text("co-op"))


def test_operators_and_grouping():
    q = parse("python AND (django OR flask) NOT php -java")
    assert q.clauses == (And((Text("python"), Or((Text("django"), Text("flask"))))),)
    assert q.excluded == (Text("php"), Text("java"))
    assert parse("a AND NOT b").clauses == (And((Text("a"), Not(Text("b")))),)


@pytest.mark.parametrize("raw", [
    '"', '""', '"unclosed phrase', "(((", ")))", "(a", "a)", "AND", "OR", "NOT", "AND OR NOT",
    "NOT NOT", "- - -", "*", "**", "?", ":", "title:", "a AND", "OR b", "()", "(AND)", "\x00\x1f",
    "'; DROP TABLE job; --", "<script>alert(1)</script>", "%s %(x)s {}", "\\", "a" * 10_000,
])
def test_anything_parses(raw):
    q = parse(raw)
    assert len(q.text) <= MAX_QUERY_CHARS
    for leaf in q.leaves(negative=True):
        assert leaf.text.strip()


def test_lone_operators_leave_nothing_to_search():
    for raw in ("AND", "OR NOT", "AND OR NOT", "()", '""'):
        assert parse(raw).is_empty


def test_long_queries_are_cut_with_a_notice():
    q = parse("word " * 5000)
    assert len(q.text) <= MAX_QUERY_CHARS
    assert any("first 200 characters" in n for n in q.notices)
    assert any(f"first {MAX_LEAVES} words" in n for n in q.notices)
    assert len(q.leaves()) == MAX_LEAVES


def test_field_syntax_searches_the_words():
    q = parse("title:booking")
    assert q.clauses == (Text("title"), Text("booking"))
    assert any("title:" in n for n in q.notices)


def test_wildcards_need_letters_and_go_at_the_end():
    assert parse("*").is_empty and parse("*").notices
    q = parse("a*")
    assert q.clauses == (Text("a"),) and q.notices  # too short: searched as a word
    q = parse("de*sign")
    assert q.clauses == (Text("design"),) and any("end of a word" in n for n in q.notices)
    assert parse("node.js*").clauses == (Text("node.js"),)  # one word only before a star


def test_only_exclusions_is_explained():
    q = parse("-php")
    assert q.is_empty and q.excluded == (Text("php"),)
    assert any("what to look for" in n for n in q.notices)


def test_unicode_is_normalised():
    q = parse("Ｃａｆé  Zürich 東京")
    assert q.text == "Café Zürich 東京"
    assert [leaf.text for leaf in q.leaves()] == ["Café", "Zürich", "東京"]
