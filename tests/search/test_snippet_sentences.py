"""Snippets read as sentences: the lines of a description's Markdown are joined with
punctuation, not run together."""
from marketplace.search.documents import excerpt_of

from ..factories import make_job


def test_lines_become_sentences():
    text = excerpt_of("Help a food co-op", "## Background\n\nWe run a shop\n- stock levels\n- orders!\n\nCall us")
    assert text == "Help a food co-op. Background: We run a shop. stock levels. orders! Call us."


def test_a_line_cut_short_is_not_ended():
    assert excerpt_of("", "word " * 400).endswith("word")


def test_a_search_snippet_keeps_the_sentences_apart(poster, search):
    _, coop = poster
    make_job(coop, "public", "open", title="Shop", summary="A shop for a food co-op",
             description="## Background\n\nThe shop sells groceries\n\n## Scope\n\nGroceries online")
    [snippet] = search("groceries").snippets
    text = snippet.replace("<mark>", "").replace("</mark>", "")
    assert "groceries. Scope: Groceries" in text.replace('<mark class="match term0">', "")
