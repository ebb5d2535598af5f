"""Memory benchmark: a worker's resident memory at 100,000 jobs under 10 minutes of mixed load.

    .venv/bin/python bench/bench_memory.py [--minutes 10]                       # SQLite and Whoosh
    .venv/bin/python bench/bench_memory.py --postgres postgresql+psycopg://postgres@127.0.0.1/bench_searchdb

Serves a copy of the search benchmark's database (bench/search-bench.db, or a copy of the PostgreSQL
one made with ``CREATE DATABASE … TEMPLATE``, with ``SEARCH_BACKEND=postgres``) with gunicorn as the
README deploys it, 2 workers, default settings, worker recycling off (``--max-requests 0``), so
that what a worker keeps shows. wrk (16 connections) then runs a mix for ``--minutes``: the home
page, list pages, random job pages, the skills, co-ops, searches of two random words, skill feeds and
API lists, and 4 % of requests posting a job through the API as the CoTech member. Each minute it
prints the requests and each worker's ``VmRSS`` and ``RssAnon`` (its own heap, without the pages of
mapped files) from ``/proc``. Target (issue: at most 200 MB a worker after 10 minutes).

The SQLite run needs the Whoosh index of bench/search-bench.db (``--index``; built there when
missing, about 90 s); the copy's index is a copy of it. Nothing is written to the originals.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import timedelta

import click
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

WORDS = ("booking system accessible website housing data dashboard community energy open portal donation "
         "security review membership crm climate campaign learning platform refugee charity api integration "
         "volunteer wcag newsletter mobile app credit union migration hosting").split()

MIX = """
local skills = {%(skills)s}
local coops = {%(coops)s}
local words = {%(words)s}
math.randomseed(os.time())
request = function()
  if math.random(100) <= 4 then
    return wrk.format("POST", "/api/v1/jobs", {["Content-Type"] = "application/json",
                      ["Authorization"] = "Bearer %(token)s"}, %(body)s)
  end
  local r = math.random(100)
  local p
  if r <= 10 then p = "/"
  elseif r <= 25 then p = "/jobs?page=" .. math.random(50)
  elseif r <= 45 then p = "/jobs/" .. math.random(%(max_job)d)
  elseif r <= 50 then p = "/skills/"
  elseif r <= 58 then p = "/skills/" .. skills[math.random(#skills)]
  elseif r <= 63 then p = "/coops/?page=" .. math.random(20)
  elseif r <= 68 then p = "/coops/" .. coops[math.random(#coops)]
  elseif r <= 85 then p = "/search?q=" .. words[math.random(#words)] .. "+" .. words[math.random(#words)]
  elseif r <= 90 then p = "/feeds/skills/" .. skills[math.random(#skills)] .. ".rss"
  elseif r <= 95 then p = "/jobs?skill=" .. skills[math.random(#skills)]
  else p = "/api/v1/jobs?page=" .. math.random(20) end
  return wrk.format("GET", p)
end
"""


def _lua_list(values):
    return ",".join(json.dumps(v) for v in values)


def _copy_postgres(url):
    """A copy of the database of ``url`` (its URL), made from it as a template."""
    parsed = make_url(url)
    copy = f"{parsed.database}_memory"
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{copy}" TEMPLATE "{parsed.database}"')
    admin.dispose()
    return parsed.set(database=copy).render_as_string(hide_password=False), lambda: _drop(parsed, copy)


def _drop(parsed, name):
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def _world(url, env):
    """(the Lua mix, ready) for the database of ``url``: an API token of the CoTech member (user 1)."""
    from marketplace import create_app
    from marketplace.accounts.models import User
    from marketplace.api.services import create_token
    from marketplace.core.time import utcnow
    from marketplace.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": env["SECRET_KEY"]})
    with app.app_context():
        _, token = create_token(db.session.get(User, 1), "memory bench")
        db.session.commit()
        skills = db.session.scalars(text("SELECT slug FROM skill ORDER BY slug")).all()
        coops = db.session.scalars(text("SELECT slug FROM coop ORDER BY id LIMIT 300")).all()
        max_job = db.session.scalar(text("SELECT max(id) FROM job"))
    now = utcnow()
    body = json.dumps({"title": "Memory bench job", "summary": "Build a site for a housing co-op.",
                       "skills": [skills[0]], "budget_min": 1000, "budget_max": 2000, "visibility": "cotech",
                       "questions_deadline": (now + timedelta(days=5)).isoformat(timespec="minutes"),
                       "bids_deadline": (now + timedelta(days=10)).isoformat(timespec="minutes")})
    return MIX % {"skills": _lua_list(skills), "coops": _lua_list(coops), "words": _lua_list(WORDS),
                  "token": token, "body": json.dumps(body), "max_job": max_job}


def _memory(pid):
    found = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(("VmRSS:", "RssAnon:")):
                found[line.split(":")[0]] = int(line.split()[1]) / 1024
    return found


def _workers(master):
    out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout.split()
    return sorted(int(pid) for pid in out)


@click.command()
@click.option("--minutes", default=10, show_default=True)
@click.option("--database", default=os.path.join(HERE, "search-bench.db"), show_default=True)
@click.option("--index", "index_path", default=os.path.join(tempfile.gettempdir(), "marketplace-bench-index"),
              show_default=True, help="The Whoosh index of --database (built there when missing).")
@click.option("--postgres", default=None, help="Serve a copy of this PostgreSQL database instead (its documents).")
@click.option("--workers", default=2, show_default=True)
def main(minutes, database, index_path, postgres, workers):
    if not shutil.which("wrk"):
        sys.exit("wrk is needed (apt-get install wrk).")
    scratch = tempfile.mkdtemp(prefix="marketplace-memory-")
    env = {**os.environ, "SECRET_KEY": "bench-memory", "PROMETHEUS_MULTIPROC_DIR": os.path.join(scratch, "metrics")}
    cleanup = []
    try:
        if postgres:
            url, drop = _copy_postgres(postgres)
            cleanup.append(drop)
            env["SEARCH_BACKEND"] = "postgres"
        else:
            if not os.path.isdir(index_path):
                subprocess.run([sys.executable, "-m", "flask", "--app", "marketplace", "search", "reindex"], check=True,
                               env={**env, "DATABASE_URL": "sqlite:///" + os.path.abspath(database),
                                    "SEARCH_INDEX_PATH": index_path})
            copy = os.path.join(scratch, "bench.db")
            shutil.copyfile(database, copy)
            shutil.copytree(index_path, os.path.join(scratch, "index"))
            url = "sqlite:///" + copy
            env["SEARCH_INDEX_PATH"] = os.path.join(scratch, "index")
        env["DATABASE_URL"] = url
        mix = os.path.join(scratch, "mix.lua")
        with open(mix, "w") as handle:
            handle.write(_world(url, env))
        log = open(os.path.join(scratch, "gunicorn.log"), "wb")
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "python:marketplace.gunicorn_conf", "--workers", str(workers),
             "--max-requests", "0", "--bind", "127.0.0.1:8097", "marketplace:create_app()"],
            env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        cleanup.append(lambda: (server.send_signal(signal.SIGTERM), server.wait(timeout=30)))
        for _ in range(150):
            try:
                if requests.get("http://127.0.0.1:8097/healthz", timeout=5).status_code in (200, 503):
                    break
            except requests.RequestException:
                time.sleep(0.2)
        pids = _workers(server.pid)
        backend = "PostgreSQL" if postgres else "SQLite and Whoosh"
        click.echo(f"{backend}, {workers} workers, default settings, --max-requests 0; wrk -c16, "
                   f"{minutes} min of the mix (4 % API posts)")

        def line(label):
            found = [_memory(pid) for pid in pids]
            return label + "  " + "  |  ".join(f"RSS {m['VmRSS']:.1f} MB, own heap {m['RssAnon']:.1f} MB" for m in found)

        click.echo(line("start  "))
        last = []
        for minute in range(1, minutes + 1):
            out = subprocess.run(["wrk", "-t2", "-c16", "-d60s", "-s", mix, "http://127.0.0.1:8097"],
                                 capture_output=True, text=True).stdout
            rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
            errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
            click.echo(line(f"min {minute:2d} ") + f"  ({rate.group(1) if rate else '?'} req/s, "
                       f"{errors.group(1) if errors else 0} not 2xx/3xx)")
            last = [_memory(pid)["VmRSS"] for pid in pids]
        with open(os.path.join(scratch, "gunicorn.log"), encoding="utf-8", errors="replace") as handle:
            served = handle.read()
        posted, failed = served.count("POST /api/v1/jobs 201"), len(re.findall(r" 5\d\d$", served, re.M))
        worst = max(last or [0])
        click.echo(f"{posted} jobs posted, {failed} answers 5xx; largest worker after {minutes} min: {worst:.1f} MB "
                   f"({'within' if worst <= 200 else 'OVER'} the 200 MB target)")
    finally:
        for step in reversed(cleanup):
            step()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
