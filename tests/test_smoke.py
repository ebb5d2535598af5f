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
