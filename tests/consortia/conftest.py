"""A small world for consortium tests: a poster co-op with an open CoTech-only job, three
CoTech co-ops that can bid on it (Alpha leads), and a workers.coop-only co-op that cannot
see it; helpers to act through the pages."""
import re

import pytest
from sqlalchemy import select

from marketplace.consortia.models import Consortium, ConsortiumMember
from marketplace.extensions import db

from ..bids.conftest import after_deadline, bid_data, client_for, make_open_job  # noqa: F401
from ..factories import make_coop, make_user


@pytest.fixture
def poster_coop(networks):
    return make_coop("Poster Co-op", {networks["cotech"]: "active"})


@pytest.fixture
def poster(poster_coop):
    return make_user("Pat Poster", coops={poster_coop: "admin"})


@pytest.fixture
def job(poster_coop, poster):
    return make_open_job(poster_coop, poster, looking_for_partners=True)


@pytest.fixture
def coops(networks):
    cotech, workers = networks["cotech"], networks["workers-coop"]
    return {
        "alpha": make_coop("Alpha Co-op", {cotech: "active"}),
        "beta": make_coop("Beta Co-op", {cotech: "active"}),
        "gamma": make_coop("Gamma Co-op", {cotech: "guest"}),
        "outsider": make_coop("Workers Only", {workers: "active"}),
    }


@pytest.fixture
def users(coops):
    return {k: make_user(f"{k.capitalize()} Person", coops=[c]) for k, c in coops.items()}


@pytest.fixture
def clients(app, users, poster):
    made = {k: client_for(app, u) for k, u in users.items()}
    made["poster"] = client_for(app, poster)
    return made


def form_consortium(client, job, name="Alpha and friends", role="Project management"):
    response = client.post(f"/consortia/new?job={job.id}", data={"name": name, "role": role})
    assert response.status_code == 302, response.get_data(as_text=True)
    return db.session.scalars(select(Consortium).order_by(Consortium.id.desc())).first()


def member(consortium, coop):
    return db.session.scalar(select(ConsortiumMember).where(
        ConsortiumMember.consortium_id == consortium.id, ConsortiumMember.coop_id == coop.id))


def invite(client, consortium, coop_name, role=""):
    return client.post(f"/consortia/{consortium.id}/invite", data={"coop": coop_name, "role": role})


def accept(client, consortium, m):
    return client.post(f"/consortia/{consortium.id}/members/{m.id}/accept")


def split(client, consortium, shares):
    """``shares``: {member: (role, work, money)} for every co-op taking part."""
    data = {"team": ",".join(str(m.id) for m in sorted(shares, key=lambda m: m.id))}
    for m, (role, work, money) in shares.items():
        data.update({f"role_{m.id}": role, f"work_{m.id}": str(work), f"money_{m.id}": str(money)})
    return client.post(f"/consortia/{consortium.id}/split", data=data)


def errors(response):
    html = response.get_data(as_text=True)
    return " ".join(re.sub(r"<[^>]+>", " ", m) for m in re.findall(r'class="error-summary".*?</div>', html, re.S)) \
        + " ".join(re.findall(r'<ul class="errors"[^>]*>(.*?)</ul>', html, re.S))


def team_of_three(clients, coops, job):
    """Alpha leads, Beta and Gamma accepted, the split agreed (50/30/20 work, 40/30/30 money)."""
    consortium = form_consortium(clients["alpha"], job)
    for key, role in (("beta", "Development"), ("gamma", "Design")):
        assert invite(clients["alpha"], consortium, coops[key].name, role).status_code == 302
    db.session.expire_all()
    lead, beta, gamma = (member(consortium, coops[k]) for k in ("alpha", "beta", "gamma"))
    response = split(clients["alpha"], consortium, {
        lead: ("Project management", 50, 40), beta: ("Development", 30, 30), gamma: ("Design", 20, 30)})
    assert response.status_code == 302, errors(response)
    for key, m in (("beta", beta), ("gamma", gamma)):
        assert accept(clients[key], consortium, m).status_code == 302
    db.session.expire_all()
    return consortium
