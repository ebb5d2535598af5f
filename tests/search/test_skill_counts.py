"""The skills index and a skill page count open jobs on the search index (a cost that does not
grow with the number of jobs), for each kind of viewer exactly as the database would, and
count in the database whenever the index has not caught up with it."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from marketplace.core.revision import SiteRevision
from marketplace.core.time import frozen_now, utcnow
from marketplace.extensions import db
from marketplace.federation import viewer_for
from marketplace.jobs.models import Job, JobStatus
from marketplace.search import drain, enqueue
from marketplace.search.services import counts_by_skill
from marketplace.skills.services import coop_counts, skill_counts, visible_open_job_counts

from ..factories import make_coop, make_job, settle_index
from .conftest import SEES, VISIBILITIES, as_viewer, expected


def _index_count(html, skill, column=2):
    """The skills index's count of open jobs (column 2) or of co-ops (column 1) of ``skill``."""
    row = re.search(rf'{skill.name}</a>.*?<td>(\d+)</td><td>(\d+)</td>', html, re.S)
    return int(row.group(column))


def _shown(html):
    match = re.search(r"Showing (?:([\d,]+)–([\d,]+) of )?([\d,]+) jobs?\b", html)
    return tuple(int(g.replace(",", "")) if g else None for g in match.groups()) if match else None


@pytest.mark.parametrize("kind", SEES)
def test_the_index_counts_what_the_database_counts_for_every_viewer(app, client, world, kind):
    """The visibility matrix through the counts: each kind of viewer is counted the open jobs
    it may see, by the index and by the database alike, on the skills index and the skill page."""
    settle_index(app)
    skill = world["skill"]
    want = sum(1 for v in VISIBILITIES if expected(kind, v, "open"))
    user = world["users"].get(kind)
    viewer = viewer_for(user)
    from_index = counts_by_skill(viewer)
    assert from_index is not None, "the index had caught up, so it answers"
    assert from_index["job"].get(skill.slug, 0) == want, kind
    jobs, coops = skill_counts(viewer)
    assert jobs.get(skill.id, 0) == want == visible_open_job_counts(viewer).get(skill.id, 0)
    assert coops == coop_counts()  # co-op profiles are public: the same for every viewer
    as_viewer(client, world, kind)
    assert _index_count(client.get("/skills/").get_data(as_text=True), skill) == want
    assert _shown(client.get(f"/skills/{skill.slug}").get_data(as_text=True))[-1] == want


def test_a_skill_page_pages_through_the_count_the_index_gives(app, client, poster, skills, monkeypatch):
    """The count comes from the index and the jobs from the database: the pages agree with it,
    and a page past the end shows the last one."""
    _, coop = poster
    monkeypatch.setitem(app.config, "JOBS_PER_PAGE", 2)
    for n in range(5):
        make_job(coop, "public", "open", skills=[skills["python"]], title=f"Python job {n}")
    make_job(coop, "public", "closed", skills=[skills["python"]], title="Closed python job")
    make_job(coop, "cotech", "open", skills=[skills["python"]], title="Members' python job")
    settle_index(app)
    for name in ("Py One", "Py Two"):
        make_coop(name, skills=[skills["python"], skills["devops"]])
    make_coop("Ops Only", skills=[skills["devops"]])
    settle_index(app)
    assert counts_by_skill(viewer_for(None))["coop"] == {"python": 2, "devops": 3}
    index = client.get("/skills/").get_data(as_text=True)
    assert (_index_count(index, skills["python"], 1), _index_count(index, skills["devops"], 1)) == (2, 3)
    assert _shown(client.get("/skills/python").get_data(as_text=True)) == (1, 2, 5)
    assert _shown(client.get("/skills/python?page=2").get_data(as_text=True)) == (3, 4, 5)
    last = client.get("/skills/python?page=9").get_data(as_text=True)
    assert _shown(last) == (5, 5, 5) and "Python job 0" in last


def test_counts_come_from_the_database_while_changes_wait_for_the_index(app, client, poster, skills):
    """A job published by a process that died before applying the search queue: until the queue
    is applied the skills index and the skill page count it in the database, so the part kept
    until the next write is right; once the queue is applied the index answers the same."""
    _, coop = poster
    make_job(coop, "public", "open", skills=[skills["python"]], title="Counted early")
    job = make_job(coop, "public", "draft", skills=[skills["python"]], title="Published meanwhile")
    settle_index(app)
    db.session.execute(update(Job).where(Job.id == job.id).values(status=JobStatus.PUBLISHED.value,
                                                                  published_at=utcnow()))
    db.session.commit()
    enqueue("job", [job.id])  # its queue row, committed with the change; nobody applied it
    viewer = viewer_for(None)
    assert counts_by_skill(viewer) is None
    token = db.session.scalar(select(SiteRevision.token))
    for _ in range(2):  # rendered, then served from the cache
        assert _index_count(client.get("/skills/").get_data(as_text=True), skills["python"]) == 2
        page = client.get("/skills/python").get_data(as_text=True)
        assert _shown(page)[-1] == 2 and "Published meanwhile" in page
    assert drain(app) == 1
    assert db.session.scalar(select(SiteRevision.token)) == token
    assert counts_by_skill(viewer) == {"job": {"python": 2}, "coop": {}}


def test_a_worker_loads_its_view_of_the_index_before_its_first_request(app, poster, skills, search_backend):
    """gunicorn's worker start reads the index once, so the first skill count or search of a
    worker does not wait for it; an index that cannot be read leaves the worker serving."""
    from types import SimpleNamespace

    from marketplace.operations import serving
    from marketplace.search import backend
    from marketplace.search.postgres_view import view_of

    _, coop = poster
    make_job(coop, "public", "open", skills=[skills["python"]])
    settle_index(app)

    def loaded():
        if search_backend == "whoosh":
            return backend(app)._view is not None
        return view_of(db.engine).loaded

    if search_backend == "whoosh":
        backend(app)._view = None
    else:
        view_of(db.engine).loaded = False
    assert not loaded()
    serving.post_worker_init(SimpleNamespace(wsgi=app))
    assert loaded()
    app.config["SEARCH_BACKEND"] = "nonsense"  # an index it cannot read: logged, and the worker starts
    serving.post_worker_init(SimpleNamespace(wsgi=app))


def test_counts_kept_between_requests_follow_the_clock_the_index_and_the_viewer(app, poster, skills):
    """The index keeps its last answers, keyed by what they depend on: a deadline passing, a
    new job and another viewer's audience each give a new answer, never a kept one."""
    user, coop = poster
    job = make_job(coop, "public", "open", skills=[skills["python"]])
    settle_index(app)
    anonymous, member = viewer_for(None), viewer_for(user)
    for _ in range(2):  # computed, then kept
        assert counts_by_skill(anonymous)["job"] == {"python": 1}
    with frozen_now(job.bids_deadline + timedelta(seconds=1)):
        assert counts_by_skill(anonymous)["job"] == {}
    assert counts_by_skill(anonymous)["job"] == {"python": 1}
    make_job(coop, "cotech", "open", skills=[skills["python"], skills["devops"]])
    settle_index(app)
    assert counts_by_skill(anonymous)["job"] == {"python": 1}
    assert counts_by_skill(member)["job"] == {"python": 2, "devops": 1}
    assert counts_by_skill(anonymous)["job"] == {"python": 1}
