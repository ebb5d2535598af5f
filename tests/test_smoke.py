from .conftest import login
from .factories import make_coop, make_job, make_user


def test_home_and_lists_render(client, networks, skills):
    coop = make_coop("Alpha", {"cotech": "active"}, skills=[skills["python"]])
    make_job(coop, "public", "open", skills=[skills["python"]], title="Public Python job")
    make_job(coop, "cotech", "open", title="Secret CoTech job")
    for url in ("/", "/jobs", "/skills/", "/skills/python"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert b"Public Python job" in response.data or url == "/skills/"
        assert b"Secret CoTech job" not in response.data
    member = make_user(coops=[coop])
    login(client, member)
    assert b"Secret CoTech job" in client.get("/jobs").data


def test_ids_past_the_database_integers_are_404_not_500(client):
    for url in ("/jobs/2147483648", "/jobs/9223372036854775808", "/api/v1/jobs/2147483648",
                "/api/v1/jobs/9223372036854775808/ocds"):
        assert client.get(url).status_code == 404, url


def test_nul_characters_are_refused_not_500(client):
    answer = client.get("/api/v1/jobs?coop=%00")
    assert answer.status_code == 400 and answer.get_json()["error"]["fields"] == {"coop": "NUL character"}
    assert client.get("/api/v1/jobs?kind=tender&kind=%00").status_code == 400
    assert client.get("/api/v1/coops/%00").status_code == 404
    assert client.get("/coops/%00").status_code == 404
