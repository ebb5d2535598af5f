"""PostgreSQL restarts under a running site: a private cluster (initdb and pg_ctl, on a free
port, never the shared server) serves gunicorn, and is restarted (``pg_ctl restart -m fast``)
while requests keep coming. The app is not restarted: requests caught in the restart get a clean
5xx answer (never a dropped connection), every request after it is served, and every write is
whole — a job with its audit event, or nothing — and done once when retried with its
Idempotency-Key.
"""
import contextlib
import glob
import http.client
import json
import os
import pwd
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from datetime import timedelta

import psycopg
import pytest
from sqlalchemy import func, select

from marketplace import create_app
from marketplace.audit.models import AuditEvent
from marketplace.core.time import utcnow
from marketplace.extensions import db
from marketplace.jobs.models import Job

from .factories import bearer, make_coop, make_job, make_networks, make_skills, make_user
from .servers import _free_port, gunicorn

BINARIES = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
CLAIM_SECONDS = 5  # a claim left by a request the restart killed is taken over after this


def _postgres_user():
    with contextlib.suppress(KeyError):
        return pwd.getpwnam("postgres")
    return None


pytestmark = [
    pytest.mark.no_app_context,
    # Its cluster is its own, whatever database the run is on: it runs once, in the PostgreSQL run.
    pytest.mark.postgres_only,
    pytest.mark.skipif(not BINARIES, reason="PostgreSQL's server programs (initdb, pg_ctl) are not installed"),
    pytest.mark.skipif(os.geteuid() == 0 and _postgres_user() is None,
                       reason="running as root, and there is no postgres user to run initdb as"),
]


def _run(*args):
    """A server program, as the postgres user when we are root (initdb refuses root)."""
    if os.geteuid() == 0:
        args = ("runuser", "-u", "postgres", "--", *args)
    subprocess.run(args, check=True, capture_output=True, timeout=120)


@contextlib.contextmanager
def private_cluster():
    """Yields (port, restart) of a new cluster with trust authentication; removed afterwards."""
    bin_dir = os.path.dirname(BINARIES[-1])
    # Not under pytest's tmp_path: as root, its parents are closed to the postgres user.
    base = tempfile.mkdtemp(prefix="marketplace-pg-")
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
    data, port = os.path.join(base, "data"), _free_port()
    ctl = (f"{bin_dir}/pg_ctl", "-D", data, "-l", os.path.join(base, "server.log"), "-w", "-t", "60",
           "-o", f"-p {port} -k {base} -c listen_addresses=127.0.0.1")
    try:
        _run(f"{bin_dir}/initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        _run(*ctl, "start")
        yield port, lambda: _run(*ctl, "restart", "-m", "fast")
    finally:
        with contextlib.suppress(Exception):
            _run(f"{bin_dir}/pg_ctl", "-D", data, "-w", "stop", "-m", "immediate")
        shutil.rmtree(base, ignore_errors=True)


def _send(port, method, path, body=None, headers=None):
    """(status, body text), or ("dropped", the error) when no answer came."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path, json.dumps(body) if body is not None else None,
                     {"Content-Type": "application/json", **(headers or {})})
        response = conn.getresponse()
        return response.status, response.read().decode()
    except (OSError, http.client.HTTPException) as error:
        return "dropped", repr(error)
    finally:
        conn.close()


def _job_body(title):
    now = utcnow()
    return {"title": title, "summary": "Written while the database restarts", "publish": True,
            "skills": ["python"], "budget_min": 1000,
            "questions_deadline": (now + timedelta(days=3)).isoformat() + "Z",
            "bids_deadline": (now + timedelta(days=9)).isoformat() + "Z", "visibility": "public"}


def test_requests_are_served_again_after_postgresql_restarts(tmp_path):
    with private_cluster() as (port, restart):
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE marketplace")
        app = create_app({"TESTING": True, "SECRET_KEY": "restart-secret", "MAIL_BACKEND": "memory",
                          "SQLALCHEMY_DATABASE_URI": f"postgresql+psycopg://postgres@127.0.0.1:{port}/marketplace"})
        with app.app_context():
            db.create_all()
            make_skills(("Python",))
            coop = make_coop("Restart Co-op", {make_networks()["cotech"]: "active"})
            token = bearer(make_user("Rita Restart", coops=[coop]))
            job_id = make_job(coop, "public", "open", title="Still here").id
        with gunicorn(app, tmp_path, workers=2, env={"IDEMPOTENCY_CLAIM_SECONDS": str(CLAIM_SECONDS)}) as base:
            site = int(base.rsplit(":", 1)[1])
            writes = {}  # Idempotency-Key: last answer

            def read():
                return _send(site, "GET", f"/jobs/{job_id}")

            bodies = {}  # a retry sends the very same request, as its key promises

            def write(key):
                body = bodies.setdefault(key, _job_body(f"Restart write {key[:8]}"))
                writes[key] = _send(site, "POST", "/api/v1/jobs", body, {**token, "Idempotency-Key": key})
                return writes[key]

            first = write(uuid.uuid4().hex)
            assert read()[0] == 200 and first[0] == 201, first
            during, stop = [], threading.Event()

            def keep_asking():
                while not stop.is_set():
                    during.append(("read", read()))
                    during.append(("write", write(uuid.uuid4().hex)))

            asker = threading.Thread(target=keep_asking)
            asker.start()
            time.sleep(0.5)
            restart()
            time.sleep(0.5)
            stop.set()
            asker.join(timeout=120)
            # Caught in the restart: a clean answer, never a dropped connection.
            for kind, (status, text) in during:
                assert status in (200, 201) or (status in (500, 502, 503) and text), (kind, status, text[:300])
            failed = [key for key, (status, _) in writes.items() if status != 201]

            def retry(key):
                """A write whose claim was committed just before the database went away keeps
                its key "in use" (409) until the claim is stale (IDEMPOTENCY_CLAIM_SECONDS):
                a client retries later, as the answer says, and it is then done once."""
                deadline = time.monotonic() + CLAIM_SECONDS + 30
                answer = write(key)
                while answer[0] == 409 and "idempotency_key_in_use" in answer[1] and time.monotonic() < deadline:
                    time.sleep(2)
                    answer = write(key)
                return answer

            # After it: served, without restarting the app; a failed write retried is done once.
            after = [read() for _ in range(6)] + [retry(key) for key in failed] + \
                [write(uuid.uuid4().hex) for _ in range(4)]
            assert [status for status, _ in after] == [200] * 6 + [201] * (len(failed) + 4), after
        with app.app_context():
            jobs = db.session.scalar(select(func.count()).select_from(Job).where(Job.title.like("Restart write %")))
            created = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
                AuditEvent.action == "job.created",
                AuditEvent.target_id.in_(select(Job.id).where(Job.title.like("Restart write %")))))
            db.session.remove()
            db.engine.dispose()
    print(f"\n{len(during)} requests during the restart, {sum(1 for _, (s, _) in during if s not in (200, 201))} "
          f"answered 5xx; {len(failed)} writes retried")
    assert (jobs, created) == (len(writes), len(writes))
