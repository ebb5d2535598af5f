"""A NUL character (or a lone surrogate) in what is sent is refused in one place
(``core/input.py``, run before every view): 400 with a clear message on pages, 422 naming the
field in the API, and nothing written. PostgreSQL cannot
store a NUL, so without the guard these were 500s there."""
from sqlalchemy import func, select

from marketplace.consortia.models import Consortium
from marketplace.extensions import db
from marketplace.questions.models import Question

from .conftest import login
from .factories import bearer, make_coop, make_job, make_user

MESSAGE = "holds a NUL character or text that is not valid"


def test_forms_with_a_nul_are_refused_and_nothing_is_written(client, networks):
    coop = make_coop("Member Co-op", {networks["cotech"]: "active"})
    user = make_user("Ann Example", coops={coop: "admin"})
    login(client, user)
    response = client.post("/account/name", data={"name-name": "Ann\x00Example"})
    assert response.status_code == 400 and MESSAGE in response.get_data(as_text=True)
    db.session.refresh(user)
    assert user.name == "Ann Example"
    response = client.post("/consortia/new", data={"coop": coop.id, "name": "Team\x00", "description": "",
                                                   "role": ""})
    assert response.status_code == 400 and MESSAGE in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Consortium)) == 0
    # The same forms without the NUL work.
    assert client.post("/account/name", data={"name-name": "Ann B. Example"}).status_code == 302
    assert client.post("/consortia/new", data={"coop": coop.id, "name": "Team", "description": "",
                                               "role": ""}).status_code == 302


def test_api_bodies_with_a_nul_anywhere_are_refused(client, networks):
    poster = make_coop("Poster", {networks["cotech"]: "active"})
    asker = make_coop("Asker", {networks["cotech"]: "active"})
    job = make_job(poster, "public", "open")
    headers = bearer(make_user(coops=[asker]))
    cases = [({"text": "Why\x00?"}, "text"), ({"text": "Why?", "coop\x00": "x"}, "body"),
             ({"text": "Why?", "extra": ["a", {"b": "\x00"}]}, "extra"), ({"text": "Why \ud800?"}, "text")]
    for body, field in cases:
        response = client.post(f"/api/v1/jobs/{job.id}/questions", json=body, headers=headers)
        assert response.status_code == 422, body
        error = response.get_json()["error"]
        assert error["code"] == "invalid" and MESSAGE in error["message"] and field in error["fields"], body
    assert db.session.scalar(select(func.count()).select_from(Question)) == 0
    response = client.post(f"/api/v1/jobs/{job.id}/questions", json={"text": "Why?"}, headers=headers)
    assert response.status_code == 201


def test_a_multipart_part_with_an_unreadable_name_is_refused_not_a_500(client, networks):
    user = make_user("Ann Example", coops={make_coop("Member Co-op", {networks["cotech"]: "active"}): "admin"})
    login(client, user)
    boundary = "6f9cf19471cdba90f3de805033f91d6e"
    body = f'--{boundary}\r\nContent-Disposition: form-data; name="\\"\r\n\r\nnull\r\n--{boundary}--\r\n'
    response = client.post("/account/name", data=body,
                           headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert response.status_code == 400 and MESSAGE in response.get_data(as_text=True)
