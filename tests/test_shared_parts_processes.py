"""Several processes (as gunicorn workers are), each with its own cache of shared page parts,
post, edit and read jobs at once against one database: every process's job list shows every
change committed before it asked, its own and the others', so no process serves a part that a
write in another has made stale. Commits on the site revision's one row never deadlock."""
import re
import traceback

from sqlalchemy import select

from marketplace.extensions import db
from marketplace.jobs.models import Job

from .factories import job_values, make_coop, make_user
from .processes import fresh_processes

WORKERS = 3
JOBS_EACH = 5


def _titles(client):
    html = client.get("/jobs?state=any").get_data(as_text=True)
    return set(re.findall(r"Shared job (w\d+n\d+) (\w+)", html))


def _committed(app_db_session):
    """What the database holds now, as (token, version) pairs."""
    titles = app_db_session.scalars(select(Job.title).where(Job.title.like("Shared job %"))).all()
    return {tuple(t.split()[2:4]) for t in titles}


def _worker(config, coop_id, user_id, worker, results):
    try:
        from marketplace import create_app
        from marketplace.accounts.models import User
        from marketplace.coops.models import Coop
        from marketplace.jobs import services

        app = create_app(config)
        client = app.test_client()
        with app.app_context():
            coop, user = db.session.get(Coop, coop_id), db.session.get(User, user_id)
            for n in range(JOBS_EACH):
                token = f"w{worker}n{n}"
                job = services.post_job(coop, user, job_values(f"Shared job {token} posted"), [], publish=True)
                db.session.commit()
                for step in ("posted", "edited"):
                    if step == "edited":
                        services.update_job(job, user, {"title": f"Shared job {token} edited"}, None)
                        db.session.commit()
                    before = _committed(db.session)
                    db.session.commit()  # end the read, so the request below starts after it
                    shown = _titles(client)
                    # Everything committed before the request (by anyone) is on the page, in a
                    # state at least as new; a later commit of another process may show too.
                    missing = {(t, v) for t, v in before
                               if (t, v) not in shown and not (v == "posted" and (t, "edited") in shown)}
                    if missing:
                        raise AssertionError(f"{token} {step}: the list lacks {sorted(missing)}")
            db.session.remove()
        results.put(("ok", worker, None))
    except Exception:
        results.put(("error", worker, traceback.format_exc()))


def test_processes_see_each_others_writes_through_their_caches(app, networks):
    coop = make_coop("Busy Co-op", {networks["cotech"]: "active"})
    user = make_user(coops={coop: "admin"})
    config = {
        "TESTING": True, "SECRET_KEY": "test-secret", "SERVER_NAME": app.config["SERVER_NAME"],
        "MAIL_BACKEND": "memory", "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "SEARCH_BACKEND": app.config["SEARCH_BACKEND"], "SEARCH_INDEX_PATH": app.config["SEARCH_INDEX_PATH"],
        "JOBS_PER_PAGE": 100,
    }
    assert config["JOBS_PER_PAGE"] > WORKERS * JOBS_EACH  # every job on the first page
    context = fresh_processes()
    results = context.Queue()
    processes = [context.Process(target=_worker, args=(config, coop.id, user.id, w, results))
                 for w in range(WORKERS)]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=300) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    failures = [detail for status, _, detail in outcomes if status != "ok"]
    assert not failures, failures[0]
    every = {(f"w{w}n{n}", "edited") for w in range(WORKERS) for n in range(JOBS_EACH)}
    assert _titles(app.test_client()) == every
