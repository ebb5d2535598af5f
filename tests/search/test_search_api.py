"""Search through the JSON API (``/api/v1/jobs?q=``): the same index, the same visibility rule,
the same facets as filters; bad input answered with a JSON 400."""
import pytest

from ..factories import make_coop, make_job
from .conftest import SEES, VISIBILITIES, as_viewer, expected


def _titles(body):
    return {tuple(j["title"].split()[1:]) for j in body["items"] if j["title"].startswith("MATRIX")}


@pytest.mark.parametrize("kind", SEES)
def test_api_search_obeys_the_matrix(client, world, kind):
    as_viewer(client, world, kind)
    want = {(v, s) for (v, s) in world["jobs"] if expected(kind, v, s)}
    body = client.get("/api/v1/jobs?q=matrix&per_page=100").get_json()
    assert _titles(body) == want, kind
    assert body["total"] == len(want)
    for v in VISIBILITIES:
        narrowed = client.get(f"/api/v1/jobs?q=matrix&per_page=100&visibility={v}").get_json()
        assert _titles(narrowed) == {(jv, js) for (jv, js) in want if jv == v}, (kind, v)
        assert narrowed["total"] == len(_titles(narrowed))


def test_api_search_ranks_and_filters(client, networks, skills):
    coop = make_coop("Search Co-op", {networks["cotech"]: "active"})
    other = make_coop("Other Search Co-op", {networks["cotech"]: "active"})
    body_match = make_job(coop, "public", "open", title="Community project",
                          description="We need a heron tracking tool.", skills=[skills["python"]])
    title_match = make_job(other, "public", "open", title="Heron tracking website",
                           skills=[skills["devops"]])
    make_job(coop, "public", "open", title="Unrelated work")
    body = client.get("/api/v1/jobs?q=heron").get_json()
    assert [j["id"] for j in body["items"]] == [title_match.id, body_match.id]
    assert body["total"] == 2 and body["notices"] == []
    by_skill = client.get(f"/api/v1/jobs?q=heron&skill={skills['python'].slug}").get_json()
    assert [j["id"] for j in by_skill["items"]] == [body_match.id]
    by_coop = client.get(f"/api/v1/jobs?q=heron&coop={other.slug}").get_json()
    assert [j["id"] for j in by_coop["items"]] == [title_match.id]
    newest = client.get("/api/v1/jobs?q=heron&sort=newest&per_page=1&page=2").get_json()
    assert newest["total"] == 2 and len(newest["items"]) == 1


@pytest.mark.parametrize("query, field", [
    ("q=" + "x" * 501, "q"),
    ("q=web&sort=cheapest", "sort"),
    ("q=web&state=sleeping", "state"),
    ("q=web&looking_for_partners=1", "looking_for_partners"),
    ("q=web&skill=no-such-skill", "skill"),
])
def test_api_search_bad_input_is_a_json_400(client, networks, skills, query, field):
    response = client.get("/api/v1/jobs?" + query)
    assert response.status_code == 400
    assert field in response.get_json()["error"]["fields"]


@pytest.mark.parametrize("q", ['"unclosed', "(((", "AND OR NOT", "title:", "*", "żółw ☃"])
def test_api_search_odd_queries_answer(client, networks, q):
    response = client.get("/api/v1/jobs", query_string={"q": q})
    assert response.status_code == 200
    assert isinstance(response.get_json()["items"], list)
