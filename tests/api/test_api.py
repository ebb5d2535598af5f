"""JSON API v1 reads, pagination, filters and JSON errors."""
from ..factories import make_coop, make_job


def test_jobs_list_paginates_with_totals(client, networks, skills):
    coop = make_coop("Api Co-op", {networks["cotech"]: "active"})
    for i in range(5):
        make_job(coop, "public", "open", skills=[skills["python"]], title=f"API job {i}")
    response = client.get("/api/v1/jobs?per_page=2&page=2")
    assert response.status_code == 200
    body = response.get_json()
    assert body["total"] == 5 and body["page"] == 2 and body["per_page"] == 2
    assert len(body["items"]) == 2
    assert body["items"][0]["coop"]["slug"] == coop.slug
    assert body["items"][0]["skills"][0]["slug"] == skills["python"].slug


def test_jobs_list_filters_by_skill_and_coop(client, networks, skills):
    coop = make_coop("Filter Co-op", {networks["cotech"]: "active"})
    other = make_coop("Other Co-op", {networks["cotech"]: "active"})
    make_job(coop, "public", "open", skills=[skills["python"]], title="Python one")
    make_job(other, "public", "open", skills=[skills["devops"]], title="DevOps one")
    by_skill = client.get(f"/api/v1/jobs?skill={skills['python'].slug}").get_json()
    assert [j["title"] for j in by_skill["items"]] == ["Python one"]
    by_coop = client.get(f"/api/v1/jobs?coop={other.slug}").get_json()
    assert [j["title"] for j in by_coop["items"]] == ["DevOps one"]


def test_bad_parameters_answer_json_400(client, skills):
    for url in ("/api/v1/jobs?page=zero", "/api/v1/jobs?per_page=1000", "/api/v1/jobs?skill=nope"):
        response = client.get(url)
        assert response.status_code == 400, url
        error = response.get_json()["error"]
        assert error["code"] == "bad_parameter" and error["fields"]


def test_unknown_route_and_method_are_json(client):
    missing = client.get("/api/v1/jobs/999999")
    assert missing.status_code == 404
    assert set(missing.get_json()["error"]) == {"code", "message", "fields"}
    wrong_method = client.delete("/api/v1/skills")
    assert wrong_method.status_code == 405
    assert wrong_method.get_json()["error"]["code"] == "method_not_allowed"


def test_coop_and_skills(client, skills):
    coop = make_coop("Readable Co-op", website="https://example.coop")
    body = client.get(f"/api/v1/coops/{coop.slug}").get_json()
    assert body["name"] == "Readable Co-op" and body["website"] == "https://example.coop"
    assert client.get("/api/v1/coops/no-such").status_code == 404
    slugs = {s["slug"] for s in client.get("/api/v1/skills").get_json()["items"]}
    assert skills["python"].slug in slugs
