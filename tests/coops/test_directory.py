"""The co-op directory: what it shows, its filters, name search, pagination and cost."""
import re
from datetime import date

import pytest

from marketplace.extensions import db
from marketplace.federation.models import NetworkMembership

from ..factories import counted_statements, make_coop
from .conftest import text


def slugs(response):
    return re.findall(r'<th scope="row"><a href="/coops/([^"]+)">', text(response))


@pytest.fixture
def directory(networks, skills):
    cotech, workers = networks["cotech"], networks["workers-coop"]
    make_coop("Agile Collective", {cotech: "active", workers: "active"}, skills=[skills["python"]],
              location="Oxford", size=9)
    make_coop("Blake House", {workers: "guest"}, skills=[skills["web-design"]], location="London")
    make_coop("Code Operative", {cotech: "pending"}, skills=[skills["python"], skills["devops"]])
    ended = make_coop("Dark Star", skills=[skills["accessibility"]])
    db.session.add(NetworkMembership(coop=ended, network=cotech, status="active",
                                     since=date(2018, 1, 1), until=date(2020, 1, 1)))
    db.session.commit()


def test_lists_name_location_size_skills_and_networks(client, directory):
    response = client.get("/coops/")
    assert response.status_code == 200
    html = text(response)
    assert slugs(response) == ["agile-collective", "blake-house", "code-operative", "dark-star"]
    row = html[html.index("Agile Collective"):html.index("Blake House")]
    assert "Oxford" in row and ">9<" in row and "Python" in row
    assert "CoTech, workers.coop" in row
    assert "workers.coop (guest)" in html
    assert "CoTech (pending)" in html
    dark = html[html.index("Dark Star"):]
    assert "CoTech" not in dark.split("</tr>")[0]  # an ended membership is not listed
    assert "Showing 4 co-ops" in html


@pytest.mark.parametrize("query, expected", [
    ("network=cotech", ["agile-collective"]),  # pending and ended memberships do not count
    ("network=workers-coop", ["agile-collective", "blake-house"]),  # guests do
    ("skill=python", ["agile-collective", "code-operative"]),
    ("skill=python&network=cotech", ["agile-collective"]),
    ("q=OPERATIVE", ["code-operative"]),
    ("q=a", ["agile-collective", "blake-house", "code-operative", "dark-star"]),
    ("q=star", ["dark-star"]),
    ("q=%25", []),  # LIKE wildcards are taken literally
    ("q=_", []),
    ("q=+house+", ["blake-house"]),
])
def test_filters_and_search(client, directory, query, expected):
    assert slugs(client.get("/coops/?" + query)) == expected


@pytest.mark.parametrize("query", [
    "network=nowhere", "skill=no-such-skill", "page=-3", "page=abc", "page=99999999999999",
    "q=" + "x" * 500, "network=%00", "q=%00", "skill=<script>",
])
def test_bad_filter_values_are_ignored_with_a_message(client, directory, query):
    response = client.get("/coops/?" + query)
    assert response.status_code == 200
    html = text(response)
    assert "<script>" not in html
    assert len(slugs(response)) == 4 or query == "q=%00"
    if not query.startswith("q=%00"):
        assert "Some filters were not understood and were ignored." in html


def test_a_bad_filter_leaves_the_good_ones_applied(client, directory):
    response = client.get("/coops/?network=nowhere&skill=python")
    assert slugs(response) == ["agile-collective", "code-operative"]
    assert "not understood" in text(response)


def test_pagination(client, app, networks, monkeypatch):
    for n in range(25):
        make_coop(f"Numbered {n:02d}")
    first, second = slugs(client.get("/coops/")), slugs(client.get("/coops/?page=2"))
    assert len(first) == 20 and len(second) == 5
    assert first[0] == "numbered-00" and second[-1] == "numbered-24"
    assert not set(first) & set(second)
    assert slugs(client.get("/coops/?page=7")) == second  # past the end: the last page
    html = text(client.get("/coops/?page=1"))
    assert "Showing 1–20 of 25 co-ops" in html and 'rel="next"' in html
    monkeypatch.setitem(app.config, "COOPS_PER_PAGE", 10)
    assert len(slugs(client.get("/coops/?page=3"))) == 5


def test_statement_count_does_not_grow_with_the_number_of_coops(client, networks, skills):
    def make(n, start):
        for i in range(start, start + n):
            make_coop(f"Sized {i:02d}", {networks["cotech"]: "active", networks["workers-coop"]: "pending"},
                      skills=list(skills.values())[: 1 + i % 3])

    make(2, 0)
    with counted_statements() as few:
        assert len(slugs(client.get("/coops/"))) == 2
    make(16, 2)
    with counted_statements() as many:
        assert len(slugs(client.get("/coops/"))) == 18
    assert len(many) == len(few)
    assert len(many) <= 8



def test_the_directory_is_kept_until_the_next_write(app, client, directory, skills):
    """A shared part (core/fragments.py): asked again, it is served from the cache; a signed-in
    member's part (with its link to register a co-op) is never served to a visitor, nor the
    visitor's to a member; a new co-op shows at once."""
    from ..conftest import login
    from ..factories import make_user

    member = app.test_client()
    login(member, make_user("Directory Reader"))
    db.session.commit()
    statements = {}
    for round_ in (1, 2):
        for name, viewer in (("visitor", client), ("member", member)):
            with counted_statements() as ran:
                response = viewer.get("/coops/?skill=python")
            assert slugs(response) == ["agile-collective", "code-operative"], (round_, name)
            assert ("Register a co-op" in text(response)) == (name == "member"), (round_, name)
            statements[round_, name] = len(ran)
    assert statements[2, "visitor"] < statements[1, "visitor"]
    assert statements[2, "member"] < statements[1, "member"]
    make_coop("Echo Works", skills=[skills["python"]])
    assert "echo-works" in slugs(client.get("/coops/?skill=python"))
