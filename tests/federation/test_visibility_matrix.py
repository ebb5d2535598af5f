"""The visibility matrix: every kind of viewer × every visibility × every state, on every
read path that shows jobs (job page, job list and its count, home, skill pages and their
counts, co-op pages). A cell that leaks is the worst bug this product can have.
"""
import re


from marketplace.federation import can_view_job, viewer_for, visible_jobs
from marketplace.jobs.models import Job
from marketplace.extensions import db
from sqlalchemy import select, update

from ..factories import counted_statements
from ..matrix import SEES, STATES, VISIBILITIES, as_viewer, expected

def _titles(html):
    return set(re.findall(r"MATRIX (\w+) (\w+)", html))


def _shown_count(html):
    match = re.search(r"Showing (?:[\d,]+–[\d,]+ of )?([\d,]+) jobs?\b", html)
    return int(match.group(1).replace(",", "")) if match else 0


def test_job_page(app, world, subtests):
    for kind in SEES:
        with subtests.test(viewer=kind):
            client = as_viewer(app.test_client(), world, kind)
            for (visibility, state), job in world["jobs"].items():
                status = client.get(f"/jobs/{job.id}").status_code
                assert status == (200 if expected(kind, visibility, state) else 404), (kind, visibility, state)


def test_job_list_and_counts(app, world, subtests):
    for kind in SEES:
        with subtests.test(viewer=kind):
            client = as_viewer(app.test_client(), world, kind)
            for state in STATES + ("any",):
                html = client.get(f"/jobs?state={state}").get_data(as_text=True)
                want = {
                    (v, s) for (v, s) in world["jobs"]
                    if expected(kind, v, s) and (state == "any" or s == state)
                }
                assert _titles(html) == want, (kind, state)
                assert _shown_count(html) == len(want), (kind, state)
            for visibility in VISIBILITIES:
                html = client.get(f"/jobs?state=any&visibility={visibility}").get_data(as_text=True)
                want = {(v, s) for (v, s) in world["jobs"] if v == visibility and expected(kind, v, s)}
                assert _titles(html) == want


def test_home_and_skill_pages(app, world, subtests):
    for kind in SEES:
        with subtests.test(viewer=kind):
            client = as_viewer(app.test_client(), world, kind)
            open_seen = {(v, "open") for v in VISIBILITIES if expected(kind, v, "open")}
            assert _titles(client.get("/").get_data(as_text=True)) == open_seen
            html = client.get(f"/skills/{world['skill'].slug}").get_data(as_text=True)
            assert _titles(html) == open_seen
            assert _shown_count(html) == len(open_seen)
            index = client.get("/skills/").get_data(as_text=True)
            row = re.search(rf'{world["skill"].name}</a>.*?<td>(\d+)</td><td>(\d+)</td>', index, re.S)
            assert int(row.group(2)) == len(open_seen), kind


def test_coop_page(app, world, subtests):
    for kind in SEES:
        with subtests.test(viewer=kind):
            client = as_viewer(app.test_client(), world, kind)
            html = client.get(f"/coops/{world['poster_coop'].slug}").get_data(as_text=True)
            want = {(v, s) for (v, s) in world["jobs"] if expected(kind, v, s)}
            assert _titles(html) == want
            assert _shown_count(html) == len(want)


def test_python_check_and_sql_filter_agree(world, subtests):
    for kind in SEES:
        with subtests.test(viewer=kind):
            user = world["users"][kind]
            viewer = viewer_for(user)
            in_sql = set(db.session.scalars(visible_jobs(select(Job.id), viewer)))
            for (visibility, state), job in world["jobs"].items():
                assert can_view_job(viewer, job) == expected(kind, visibility, state), (kind, visibility, state)
                assert (job.id in in_sql) == expected(kind, visibility, state), (kind, visibility, state)


def test_visibility_change_takes_effect_at_once(client, world):
    """A federation job narrowed to CoTech-only vanishes for workers.coop-only members."""
    job = world["jobs"][("federation", "open")]
    workers_client = as_viewer(client, world, "workers_only")
    assert client.get(f"/jobs/{job.id}").status_code == 200
    poster = world["users"]["poster"]
    from marketplace.jobs import services

    services.update_job(job, poster, {"visibility": "cotech"}, None)
    db.session.commit()
    assert workers_client.get(f"/jobs/{job.id}").status_code == 404
    assert ("federation", "open") not in _titles(workers_client.get("/jobs").get_data(as_text=True))
    assert ("federation", "open") not in _titles(workers_client.get("/").get_data(as_text=True))


CACHED_PAGES = ("/jobs?state=any", "/jobs?state=open", "/", "/skills/python", "/skills/")


def _seen(client, world, kind, url):
    html = client.get(url).get_data(as_text=True)
    if url == "/skills/":
        row = re.search(rf'{world["skill"].name}</a>.*?<td>(\d+)</td><td>(\d+)</td>', html, re.S)
        return int(row.group(2))
    return _titles(html), _shown_count(html) if url != "/" else None


def _want(kind, world, url):
    open_seen = {(v, "open") for v in VISIBILITIES if expected(kind, v, "open")}
    if url == "/skills/":
        return len(open_seen)
    if url == "/":
        return open_seen, None
    if url in ("/skills/python", "/jobs?state=open"):
        return open_seen, len(open_seen)
    every = {(v, s) for (v, s) in world["jobs"] if expected(kind, v, s)}
    return every, len(every)


def test_cached_pages_never_cross_audiences(app, world):
    """Every kind of viewer, one after another, on the same pages with no write in between:
    the shared parts are cached (core/fragments.py) and each viewer still sees exactly its own
    jobs and counts, whoever asked before. Twice round, so that the second round is served
    from the cache (checked by the statements each request runs)."""
    from marketplace.core.revision import SiteRevision

    from ..conftest import login
    from ..factories import make_user

    # A second viewer of two audiences, asking right after the first: served the first's part.
    users = {**world["users"], "anonymous 2": None, "no_coop 2": make_user("Another without a co-op")}
    clients = {}
    for kind, user in users.items():
        clients[kind] = app.test_client()
        if user is not None:
            login(clients[kind], user)
    db.session.commit()
    token = db.session.scalar(select(SiteRevision.token))
    statements = {}
    for round_ in (1, 2):
        for kind, client in clients.items():
            for url in CACHED_PAGES:
                with counted_statements() as ran:
                    seen, want = _seen(client, world, kind, url), _want(kind.split()[0], world, url)
                assert seen == want, (round_, kind, url)
                statements[round_, kind, url] = len(ran)
    db.session.commit()
    assert db.session.scalar(select(SiteRevision.token)) == token, "a page wrote: the cache was not used"
    for kind in world["users"]:
        for url in CACHED_PAGES:
            assert statements[2, kind, url] < statements[1, kind, url], (kind, url)
    for kind in ("anonymous", "no_coop"):
        for url in CACHED_PAGES:
            assert statements[1, f"{kind} 2", url] < statements[1, kind, url], (kind, url)


def test_cached_job_pages_never_cross_audiences(app, world, csrf):
    """The job page is shared by the viewers of one audience (core/fragments.py), forms and
    all: each kind, one after another and twice round, still gets exactly the pages it may
    see, only the poster's co-op gets its Manage section and pending questions, a second
    member of the poster's co-op (an admin: the poster is a plain member) is served the poster's
    part, and every form holds a CSRF token valid for the session it was served to alone."""
    from itsdangerous import URLSafeTimedSerializer

    from marketplace.coordinator.services import can_match
    from marketplace.core.fragments import PLACEHOLDER_PREFIX
    from marketplace.core.revision import SiteRevision, new_token

    from ..conftest import login
    from ..factories import make_user

    users = {**world["users"], "poster 2": make_user("Poster's colleague", coops={world["poster_coop"]: "admin"})}
    clients = {}
    for kind, user in users.items():
        clients[kind] = app.test_client()
        if user is not None:
            login(clients[kind], user)
    for job in world["jobs"].values():  # the poster's first visit after a deadline is a write
        clients["poster"].get(f"/jobs/{job.id}")
    db.session.execute(update(SiteRevision).values(token=new_token()))  # nothing cached before round 1
    db.session.commit()
    statements, tokens = {}, {kind: set() for kind in users}
    viewers = {kind: viewer_for(user) for kind, user in users.items()}
    for round_ in (1, 2):
        for kind, client in clients.items():
            for (visibility, state), job in world["jobs"].items():
                with counted_statements() as ran:
                    response = client.get(f"/jobs/{job.id}")
                statements[round_, kind, job.id] = len(ran)
                want = expected(kind.split()[0], visibility, state)
                assert response.status_code == (200 if want else 404), (round_, kind, visibility, state)
                if not want:
                    continue
                html = response.get_data(as_text=True)
                assert f"MATRIX {visibility} {state}" in html
                if not kind.startswith("poster"):  # the poster's co-op's page: manage, pending questions
                    assert "<h2>Manage</h2>" not in html and "waiting for an answer" not in html, (kind, state)
                elif state == "open":
                    assert "<h2>Manage</h2>" in html, (kind, visibility)
                assert PLACEHOLDER_PREFIX not in html
                # The link to suggestions: the poster's co-op, the audience's coordinators, site admins.
                assert ('id="matching"' in html) == (state == "open" and can_match(viewers[kind], job)), kind
                tokens[kind].update(re.findall(r'name="csrf_token"[^>]*value="([^"]+)"', html))
    for kind in users:
        for (visibility, state), job in world["jobs"].items():
            if expected(kind.split()[0], visibility, state):
                if kind == "poster 2":  # right after the poster: served the poster's part
                    assert statements[1, kind, job.id] < statements[1, "poster", job.id], (visibility, state)
                else:
                    assert statements[2, kind, job.id] < statements[1, kind, job.id], (kind, visibility, state)
    assert tokens["poster"] and tokens["poster 2"] and tokens["both"], "the pages had no forms"
    signed = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="wtf-csrf-token")
    for kind, seen in tokens.items():
        if not seen:
            continue
        with clients[kind].session_transaction() as session:
            own = session["csrf_token"]
        assert {signed.loads(token) for token in seen} == {own}, kind
        for other, theirs in tokens.items():
            assert kind == other or not seen & theirs, (kind, other)

