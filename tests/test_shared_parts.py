"""Shared page parts (core/fragments.py) and the site revision (core/revision.py): a cached
part is served again only to a viewer of the same audience, and never after a write or a
deadline has changed what it shows. The visibility matrix runs through the cache too
(tests/federation/test_visibility_matrix.py::test_cached_pages_never_cross_audiences)."""
import re
from dataclasses import replace
from datetime import date, datetime, time, timedelta

import pytest
from flask import g
from jinja2 import ChoiceLoader, DictLoader
from sqlalchemy import insert, select, update

from marketplace import create_app
from marketplace.api.models import ApiToken
from marketplace.bids.models import Bid, Interest
from marketplace.coops.models import CoopMember
from marketplace.core import fragments, revision
from marketplace.core.time import frozen_now, utcnow
from marketplace.extensions import db
from marketplace.federation import ANONYMOUS, Viewer, audience_key
from marketplace.jobs.models import Job

from .conftest import login
from .factories import make_coop, make_job, make_user
from .factories import counted_statements


def _token():
    return db.session.scalar(select(revision.SiteRevision.token))


def _statements(client, url):
    with counted_statements() as statements:
        body = client.get(url).get_data(as_text=True)
    return body, len(statements)


@pytest.fixture
def poster(networks):
    return make_coop("Poster Co-op", {networks["cotech"]: "active", networks["workers-coop"]: "active"})


# --- the site revision ---------------------------------------------------------------------------

def test_every_write_gives_a_new_token_and_a_read_does_not(poster):
    first = _token()
    job = make_job(poster, "public", title="First")
    second = _token()
    assert len(first) == len(second) == 32 and first != second
    db.session.scalars(select(Job)).all()
    db.session.commit()
    assert _token() == second  # nothing written
    db.session.execute(update(Job).where(Job.id == job.id).values(title="Renamed"))
    db.session.commit()
    assert _token() != second  # a statement run through the session counts too


def test_a_rolled_back_write_leaves_the_token(poster):
    job = make_job(poster)
    before = _token()
    job.title = "Never kept"
    db.session.flush()
    db.session.rollback()
    db.session.commit()
    assert _token() == before


def test_writes_no_shared_page_shows_keep_the_token():
    user = make_user()
    token = ApiToken(user=user, label="ci", token_hash="x" * 64)
    db.session.add(token)
    db.session.commit()
    before = _token()
    token.last_used_at = utcnow()  # written by every API call
    db.session.commit()
    assert _token() == before


def test_signing_in_keeps_the_token_and_changing_a_name_does_not(client):
    """Every sign-in sets the user's last sign-in time, which no page shows: cached parts stay."""
    user = make_user("Signing in", email="signing-in@example.org", password="a long enough password")
    before = _token()
    response = client.post("/login", data={"email": user.email, "password": "a long enough password"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(type(user), user.id).last_login_at is not None
    assert _token() == before
    user = db.session.get(type(user), user.id)
    user.name, user.last_login_at = "Renamed", utcnow()
    db.session.commit()
    assert _token() != before


# --- shared parts ---------------------------------------------------------------------------------

def test_a_cached_list_is_served_again_until_a_write(client, poster):
    make_job(poster, "public", title="Older job")
    login(client, make_user(coops=[poster]))
    first, rendering = _statements(client, "/jobs")
    again, cached = _statements(client, "/jobs")
    assert again == first and "Older job" in again
    assert cached < rendering  # served from the cache: no list queries
    make_job(poster, "public", title="Newer job")
    after, _ = _statements(client, "/jobs")
    assert "Newer job" in after and "Older job" in after


def test_a_job_made_cotech_only_leaves_the_visitors_list_at_once(client, poster):
    job = make_job(poster, "public", title="Moving job")
    assert "Moving job" in client.get("/jobs").get_data(as_text=True)
    assert "Moving job" in client.get("/jobs").get_data(as_text=True)  # now cached
    job.visibility = "cotech"
    db.session.commit()
    assert "Moving job" not in client.get("/jobs").get_data(as_text=True)
    assert "Moving job" not in client.get("/").get_data(as_text=True)


def test_a_withdrawn_job_leaves_the_list_at_once(app, client, poster):
    user = make_user(coops={poster: "admin"})
    job = make_job(poster, "public", title="Withdrawn soon", user=user)
    login(client, user)
    assert "Withdrawn soon" in client.get("/jobs").get_data(as_text=True)
    client.post(f"/jobs/{job.id}/withdraw", data={"reason": "Found someone", "confirmed": "yes"})
    assert "Withdrawn soon" not in client.get("/jobs").get_data(as_text=True)


def test_the_clock_closes_a_cached_job_without_a_write(client, poster):
    job = make_job(poster, "public", title="Closing job", questions_deadline=utcnow() + timedelta(minutes=1),
                   bids_deadline=utcnow() + timedelta(minutes=5))
    deadline = job.bids_deadline
    for url in ("/jobs", "/", "/skills/"):
        client.get(url)
    assert "Closing job" in client.get("/jobs").get_data(as_text=True)
    with frozen_now(deadline + timedelta(seconds=1)):
        assert "Closing job" not in client.get("/jobs").get_data(as_text=True)
        assert "Closing job" not in client.get("/").get_data(as_text=True)
        assert "Closing job" in client.get("/jobs?state=closed").get_data(as_text=True)


def test_the_clock_lapses_a_cached_interest_without_a_write(client, poster, networks):
    """An interest lapses at the midnight after its date: the job page kept before shows it
    lapsed from that moment (well within PAGE_CACHE_SECONDS), with no write."""
    bidder = make_coop("Interested Co-op", {networks["cotech"]: "active"})
    job = make_job(poster, "public", title="Wanted")
    bid_by = utcnow().date() + timedelta(days=2)
    db.session.add(Interest(job=job, coop=bidder, bid_by=bid_by))
    db.session.commit()
    login(client, make_user(coops=[bidder]))
    url, midnight = f"/jobs/{job.id}", datetime.combine(bid_by + timedelta(days=1), time.min)
    with frozen_now(midnight - timedelta(seconds=30)):
        _, rendering = _statements(client, url)
        body, served = _statements(client, url)
        assert "Interested Co-op registered its interest" in body and served < rendering
    with frozen_now(midnight + timedelta(seconds=1)):
        assert "Interested Co-op's interest lapsed" in client.get(url).get_data(as_text=True)


def test_a_part_is_kept_no_longer_than_the_setting(app, poster):
    job = make_job(poster, "public", title="Kept")
    with app.test_request_context("/jobs"):
        assert "Kept" in fragments.shared("test", ANONYMOUS, lambda: f"{db.session.get(Job, job.id).title}")
        # Changed without the session (and so without a new revision): the cached part is
        # served until PAGE_CACHE_SECONDS have passed.
        with db.engine.begin() as conn:
            conn.execute(update(Job.__table__).where(Job.__table__.c.id == job.id).values(title="Changed"))
        db.session.expire_all()
        render = lambda: db.session.get(Job, job.id).title  # noqa: E731
        assert fragments.shared("test", ANONYMOUS, render) == "Kept"
        seconds = app.config["PAGE_CACHE_SECONDS"]
        with frozen_now(utcnow() + timedelta(seconds=seconds)):
            assert fragments.shared("test", ANONYMOUS, render) == "Changed"


def test_a_part_rendered_inside_an_unfinished_write_is_not_kept(app, poster):
    with app.test_request_context("/jobs"):
        job = make_job(poster, "public", title="Committed")
        job.title = "Not committed"
        db.session.flush()
        render = lambda: db.session.get(Job, job.id).title  # noqa: E731
        assert fragments.shared("test", ANONYMOUS, render) == "Not committed"
        db.session.rollback()
        assert fragments.shared("test", ANONYMOUS, render) == "Committed"


def test_every_app_server_sees_a_write_made_through_another(app, poster):
    """Two apps on one database stand for two processes: each has its own cache, and the
    revision in the database tells the second that the first wrote."""
    make_job(poster, "public", title="Before")
    other = create_app({**app.config, "SERVER_NAME": app.config["SERVER_NAME"]})
    first, second = app.test_client(), other.test_client()
    for client in (first, second, first, second):
        assert "Before" in client.get("/jobs").get_data(as_text=True)
    user = make_user(coops={poster: "admin"})
    job = make_job(poster, "public", title="Going", user=user)
    assert "Going" in second.get("/jobs").get_data(as_text=True)
    login(first, user)
    first.post(f"/jobs/{job.id}/withdraw", data={"reason": "Done", "confirmed": "yes"})
    assert "Going" not in second.get("/jobs").get_data(as_text=True)
    with other.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("source", [
    "{{ current_user.name }}", "{{ current_user.id }}", "{{ current_user.get_id() }}", "{{ csrf_token() }}",
    "{{ session.get('_user_id') }}", "{{ get_flashed_messages() }}", "{{ pending_invitations() }}",
    "{{ unread_notification_count() }}",
])
def test_a_shared_part_cannot_show_who_is_viewing(app, monkeypatch, source):
    loader = ChoiceLoader([DictLoader({"probe.html": source}), app.jinja_env.loader])
    monkeypatch.setattr(app.jinja_env, "loader", loader)
    viewer = Viewer(user_id=7, visibilities=frozenset({"public", "cotech"}))
    with app.test_request_context("/"):
        with pytest.raises(fragments.SharedPartError):
            fragments.render_shared("probe.html", viewer)


def test_a_shared_part_rendered_alone_cannot_hold_a_token(app, monkeypatch):
    """Only ``shared`` puts a placeholder where the token goes: a part rendered outside it
    would hold this request's token, and is refused."""
    from marketplace.core.forms import ActionForm

    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    monkeypatch.setattr(app.jinja_env, "loader", DictLoader({"probe.html": "{{ form.hidden_tag() }}"}))
    with app.test_request_context("/"):
        with pytest.raises(fragments.SharedPartError):
            fragments.render_shared("probe.html", ANONYMOUS, form=ActionForm())


def test_a_shared_part_may_know_whether_someone_is_signed_in(app, monkeypatch):
    source = "{{ current_user.is_authenticated }} {{ viewer.is_anonymous }} {{ viewer.user_id }}"
    monkeypatch.setattr(app.jinja_env, "loader", DictLoader({"probe.html": source}))
    with app.test_request_context("/"):
        assert fragments.render_shared("probe.html", Viewer(user_id=7)) == "True False 0"
        assert fragments.render_shared("probe.html", ANONYMOUS) == "False True None"


def test_the_audience_key_is_everything_but_who(app):
    base = Viewer(user_id=1, coop_ids=frozenset({3}), visibilities=frozenset({"public", "cotech"}),
                  coordinated_network_ids=frozenset({2}), is_site_admin=False)
    assert audience_key(replace(base, user_id=99)) == audience_key(base)
    for changed in (dict(coop_ids=frozenset({4})), dict(visibilities=frozenset({"public"})),
                    dict(coordinated_network_ids=frozenset()), dict(is_site_admin=True)):
        assert audience_key(replace(base, **changed)) != audience_key(base), changed


def test_viewers_of_one_audience_share_a_part_and_see_the_same(client, app, poster):
    make_job(poster, "public", title="Shared job")
    make_job(poster, "cotech", title="Members job")
    first_user, second_user = make_user("First without a co-op"), make_user("Second without a co-op")
    login(client, first_user)
    first, rendering = _statements(client, "/jobs")
    login(client, second_user)
    second, cached = _statements(client, "/jobs")
    assert cached < rendering
    assert "Shared job" in second and "Members job" not in second
    assert "Second without a co-op" in second and "First without a co-op" not in second
    assert "Sign in" not in second


def test_caching_can_be_turned_off(client, app, poster, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_CACHE_SECONDS", 0)
    make_job(poster, "public", title="Uncached")
    _, first = _statements(client, "/jobs")
    body, again = _statements(client, "/jobs")
    assert "Uncached" in body and again == first


@pytest.mark.parametrize("own_coop", [False, True], ids=["without a co-op", "member of another co-op"])
def test_a_shared_job_page_is_built_from_the_audience_not_the_user(client, poster, networks, own_coop):
    """The job page is shared by the viewer's audience. If the user joins a co-op while the
    request runs (a commit its revision does not know of yet), the page must still not show
    that co-op's bid: it is built from the audience, not from the user's rows."""
    bidder = make_coop("Bidding Co-op", {networks["cotech"]: "active"})
    first, second = make_job(poster, "public"), make_job(poster, "public")
    db.session.add(Bid(job=second, coop=bidder, status="submitted", amount=100, available_from=date.today(),
                       proposal="p", proposal_html="<p>p</p>", submitted_at=utcnow()))
    coops = [make_coop("Own Co-op", {networks["cotech"]: "active"})] if own_coop else []
    user = make_user("Soon a member", coops=coops)
    first_url, second_url = f"/jobs/{first.id}", f"/jobs/{second.id}"
    login(client, user)
    assert client.get(first_url).status_code == 200  # the viewer, with its co-ops, is kept
    with db.engine.begin() as conn:  # a write no revision knows of: the racing commit
        conn.execute(insert(CoopMember.__table__).values(coop_id=bidder.id, user_id=user.id, role="member",
                                                         created_at=utcnow()))
    html = client.get(second_url).get_data(as_text=True)
    assert "1 bid received" in html or "1 received" in html
    assert "Your co-op" not in html and "Bidding Co-op" not in html
    assert ("Bid for Own Co-op" in html) == own_coop


# --- forms in shared parts -------------------------------------------------------------------------

def _csrf_tokens(html):
    return re.findall(r'name="csrf_token"[^>]*value="([^"]+)"', html)


def test_members_of_a_coop_share_its_job_page_each_with_a_token_of_their_own(app, poster, csrf):
    """The poster's members are served one part, forms and all; the withdraw form of each
    holds their own CSRF token, which works for them and for nobody else."""
    job = make_job(poster, "public", title="Shared with its forms")
    first, second = app.test_client(), app.test_client()
    login(first, make_user("First admin", coops={poster: "admin"}))
    login(second, make_user("Second admin", coops={poster: "admin"}))
    first_html, rendering = _statements(first, f"/jobs/{job.id}")
    second_html, served = _statements(second, f"/jobs/{job.id}")
    assert served < rendering
    assert "Withdraw this job" in first_html and "Withdraw this job" in second_html
    assert fragments.PLACEHOLDER_PREFIX not in first_html + second_html
    first_token, second_token = set(_csrf_tokens(first_html)), set(_csrf_tokens(second_html))
    assert len(first_token) == len(second_token) == 1 and first_token != second_token
    refused = second.post(f"/jobs/{job.id}/withdraw",
                          data={"reason": "x", "confirmed": "yes", "csrf_token": first_token.pop()})
    assert refused.status_code == 400
    assert db.session.get(Job, job.id).status == "published"
    done = second.post(f"/jobs/{job.id}/withdraw",
                       data={"reason": "Not needed", "confirmed": "yes", "csrf_token": second_token.pop()})
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(Job, job.id).status == "withdrawn"


def test_a_jobs_text_cannot_have_a_viewers_token_put_in_it(app, client, poster, csrf):
    """The placeholder is new for every rendering: text that looks like one (or a template
    call) stays as written, and the viewer's token is only in the forms."""
    guessed = fragments.PLACEHOLDER_PREFIX + "0" * 32
    job = make_job(poster, "public", description=f"Send {guessed} and {{{{ csrf_token() }}}} to us.")
    login(client, make_user("Member", coops={poster: "admin"}))
    for _ in range(2):  # rendered, then served from the cache
        html = client.get(f"/jobs/{job.id}").get_data(as_text=True)
        token = _csrf_tokens(html)[0]
        assert guessed in html and "{{ csrf_token() }}" in html
        assert html.count(token) == len(_csrf_tokens(html))


def test_each_rendering_has_its_own_placeholder_and_leaves_the_token_as_it_was(app):
    def failing():
        raise RuntimeError("the part failed")

    with app.test_request_context("/"):
        g.csrf_token = "this request's token"
        first, _ = fragments._with_token_placeholder(lambda: "part")
        second, _ = fragments._with_token_placeholder(lambda: "part")
        assert first != second and first.startswith(fragments.PLACEHOLDER_PREFIX)
        with pytest.raises(RuntimeError):
            fragments._with_token_placeholder(failing)
        assert g.csrf_token == "this request's token"


def test_a_form_in_a_shared_part_gets_the_token_of_whoever_it_is_served_to(app, monkeypatch, csrf):
    from flask_wtf.csrf import validate_csrf

    from marketplace.core.forms import ActionForm

    source = '{{ form.hidden_tag() }}<input name="other" value="{{ csrf_token() }}">'
    monkeypatch.setattr(app.jinja_env, "loader", ChoiceLoader([DictLoader({"probe.html": source}),
                                                               app.jinja_env.loader]))
    viewer = Viewer(user_id=7, visibilities=frozenset({"public"}))
    served, renders = [], []

    def render():
        renders.append(1)
        return fragments.render_shared("probe.html", viewer, form=ActionForm())

    for _ in range(2):  # two requests, two sessions: the second is served the first one's part
        with app.app_context(), app.test_request_context("/probe"):
            html = fragments.shared("probe", viewer, render)
            tokens = re.findall(r'value="([^"]+)"', html)
            assert len(tokens) == 2 and tokens[0] == tokens[1]
            validate_csrf(tokens[0])  # this session's own token
            served.append(tokens[0])
    assert served[0] != served[1] and len(renders) == 1


def test_a_request_reads_on_after_its_own_write(app, poster):
    """Joining a co-op and reading the viewer again in the same request gives the new
    viewer, not the one kept under the revision the request began with."""
    from flask_login import login_user

    from marketplace.federation import current_viewer, forget_current_viewer

    user = make_user("Joining")
    with app.test_request_context("/"):
        app.preprocess_request()
        login_user(user)
        assert current_viewer().coop_ids == frozenset()
        db.session.add(CoopMember(coop=poster, user=user))
        db.session.commit()
        forget_current_viewer()
        assert current_viewer().coop_ids == {poster.id}


# --- each worker's store of parts (core/partcache.py) ----------------------------------------------

def _kept_parts(app):
    """(entries, bytes of their stored values) in this app's own store of parts."""
    with app.app_context():
        store = fragments.cache.cache._cache
        return len(store), sum(len(stored) for _expires, stored in store.values())


def test_a_write_empties_the_store_of_what_older_revisions_left(client, app, poster):
    """Every part is kept under the site revision: after a write none kept before can be served
    again, so none stays in the worker's memory waiting for CACHE_THRESHOLD to push it out."""
    make_job(poster, "public", title="Listed")
    pages = ("/", "/jobs", "/jobs?page=2", "/coops/", "/skills/")
    for page in pages:
        assert client.get(page).status_code == 200
    before, _ = _kept_parts(app)
    assert before >= 3
    make_job(poster, "public", title="Written")
    assert "Written" in client.get("/jobs").get_data(as_text=True)
    after, _ = _kept_parts(app)
    assert after < before and after <= 2  # the new list part (and a value it read), nothing older


def test_the_store_keeps_to_page_cache_mb(app, poster):
    """Parts are bounded in bytes (PAGE_CACHE_MB), not only in number (CACHE_THRESHOLD): many
    different addresses at one revision leave no more than the setting, the most recently used
    kept."""
    for n in range(30):
        make_job(poster, "public", title=f"Job number {n} with a title long enough to weigh something")
    small = create_app({**app.config, "PAGE_CACHE_MB": 0.05})
    client = small.test_client()
    for page in range(1, 40):
        assert client.get(f"/jobs?page={page % 3 + 1}&q=&skill=&sort=newest&n={page}").status_code == 200
    entries, stored = _kept_parts(small)
    assert stored <= 0.05 * 1024 * 1024 and 0 < entries < 39
    with small.app_context():
        assert fragments.cache.cache.bytes <= 0.05 * 1024 * 1024
        db.engine.dispose()
    again = client.get("/jobs?page=3&q=&skill=&sort=newest&n=39")  # the newest is still there
    assert again.status_code == 200 and _kept_parts(small)[0] == entries


def test_a_cached_page_costs_a_member_one_statement_that_still_checks_their_session(client, poster):
    """A signed-in member's page served from the cache reads their row and the site revision in
    one statement (on PostgreSQL outside any transaction: one round trip); the row is read
    afresh each time, so ending their sessions elsewhere (a new session token) or closing the
    account still signs this one out at once, and the row loads what the page did not read."""
    member = make_user("Cached Member", coops=[poster])
    make_job(poster, "public", title="Listed job")
    login(client, member)
    first, _ = _statements(client, "/jobs")
    with counted_statements() as statements:
        again = client.get("/jobs").get_data(as_text=True)
    assert again == first and "Cached Member" in again and "Listed job" in again
    assert len(statements) == 1 and "site_revision" in statements[0]
    assert re.search(r'FROM "?user"?\s', statements[0])
    assert client.get("/account").status_code == 200  # a page that reads more of the user
    db.session.execute(update(type(member)).where(type(member).id == member.id).values(session_token="f" * 32))
    db.session.commit()
    signed_out = client.get("/jobs").get_data(as_text=True)
    assert "Cached Member" not in signed_out and "Sign in" in signed_out


def test_an_anonymous_cached_page_reads_the_revision_alone(client, poster):
    make_job(poster, "public", title="Listed job")
    _statements(client, "/jobs")
    with counted_statements() as statements:
        assert "Listed job" in client.get("/jobs").get_data(as_text=True)
    assert len(statements) == 1 and "site_revision" in statements[0]


def test_a_cached_skill_page_reads_the_revision_alone_and_follows_a_renamed_skill(client, poster, skills):
    """The skill's name (its page's title and feed link) is kept with the part: a page served
    from the cache runs no query for the skill. Renaming it is a write, so the next page shows
    the new name; an unknown skill answers 404 every time."""
    make_job(poster, "public", title="Python job", skills=[skills["python"]])
    first, _ = _statements(client, "/skills/python")
    with counted_statements() as statements:
        again = client.get("/skills/python").get_data(as_text=True)
    assert again == first and "<title>Python ·" in again and "Python job" in again
    assert len(statements) == 1 and "site_revision" in statements[0]
    skills["python"].name = "Python 3"
    db.session.commit()
    renamed = client.get("/skills/python").get_data(as_text=True)
    assert "<title>Python 3 ·" in renamed and "Python 3 jobs" in renamed
    assert [client.get("/skills/cobol").status_code for _ in range(2)] == [404, 404]


FRAMED_PAGES = ("/", "/jobs", "/jobs?page=2", "/skills/", "/skills/python", "/coops/", "/jobs/{job}",
                "/search?q=framed")


def test_a_kept_page_frame_is_its_own_viewers_with_their_token_and_messages(app, poster, skills, csrf):
    """What surrounds a shared part (the header with the member's name, links and sign-out form)
    is kept per session: two members of one co-op, served the same part, each see their own
    name and CSRF token, again when served from the cache, and a visitor sees neither. A
    message flashed for one of them shows once, on their next page, kept frame or not."""
    job = make_job(poster, "public", title="Framed job", skills=[skills["python"]])
    first, second, visitor = app.test_client(), app.test_client(), app.test_client()
    login(first, make_user("Frame First", coops={poster: "admin"}))
    login(second, make_user("Frame Second", coops={poster: "admin"}))
    for path in FRAMED_PAGES:
        path = path.format(job=job.id)
        for _ in range(2):  # rendered, then served from the cache
            pages = {name: _statements(client, path) for name, client in
                     (("first", first), ("second", second), ("visitor", visitor))}
            (one, _), (two, _), (anyone, statements) = pages["first"], pages["second"], pages["visitor"]
            assert "Frame First" in one and "Frame Second" not in one, path
            assert "Frame Second" in two and "Frame First" not in two, path
            assert "Frame" not in anyone.replace("Framed job", "") and "Sign in" in anyone, path
            assert "page-frame-slot-" not in one + two + anyone
            tokens = set(_csrf_tokens(one)), set(_csrf_tokens(two))
            assert all(len(found) == 1 for found in tokens) and tokens[0] != tokens[1], path
        assert pages["first"][1] == pages["second"][1] == statements == 1, path  # all from the cache
    with first.session_transaction() as session:
        session["_flashes"] = [("info", "Bid <sent>")]
    flashed = first.get("/jobs").get_data(as_text=True)
    assert "Bid &lt;sent&gt;" in flashed and "Framed job" in flashed
    assert "Bid &lt;sent&gt;" not in first.get("/jobs").get_data(as_text=True)
    assert "Bid &lt;sent&gt;" not in second.get("/jobs").get_data(as_text=True)


def test_a_kept_page_frame_follows_a_write_to_its_viewer(app, client, poster):
    """The member's new name shows on the next page: the write changed the site revision."""
    member = make_user("Old Name", coops={poster: "admin"})
    login(client, member)
    assert "Old Name" in client.get("/jobs").get_data(as_text=True)
    assert "Old Name" in client.get("/jobs").get_data(as_text=True)
    db.session.get(type(member), member.id).name = "New Name"
    db.session.commit()
    page = client.get("/jobs").get_data(as_text=True)
    assert "New Name" in page and "Old Name" not in page
