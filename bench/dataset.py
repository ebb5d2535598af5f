"""Builds a large SQLite database for the page benchmarks: co-ops, networks, memberships,
people, jobs with skills, and the audit events a real history would have left.

Rows go in with SQLAlchemy Core ``insert()`` and lists of dicts, in chunks (one executemany
each), inside one transaction. Everything is drawn from a seeded random generator, so the
same counts always give the same database.
"""
import os
import random
import zlib
from datetime import timedelta

import click
from sqlalchemy import func, insert, select, text
from werkzeug.security import generate_password_hash

from marketplace.accounts.models import User
from marketplace.audit.models import AuditEvent
from marketplace.coops.models import Coop, CoopMember, coop_skill
from marketplace.core.markdown import render_markdown
from marketplace.core.time import utcnow
from marketplace.extensions import db
from marketplace.federation.models import Network, NetworkCoordinator, NetworkMembership
from marketplace.jobs.models import Job, job_skill
from marketplace.skills.models import Skill
from marketplace.skills.services import load_taxonomy, slugify

SEED = 20231
CHUNK = 5000
# Bump when the generated data changes; the schema is fingerprinted on its own (schema_mark).
DATA_VERSION = 1
PASSWORD = "bench-password"

# The bench member: user 1, admin of co-op 1, an active member of CoTech and workers.coop.
MEMBER_USER_ID = 1
MEMBER_COOP_ID = 1

TOWNS = (
    "Leeds", "Sheffield", "Bristol", "Manchester", "Glasgow", "Cardiff", "Norwich", "Brighton", "York",
    "Nottingham", "Newcastle upon Tyne", "Exeter", "Oxford", "Liverpool", "Stroud", "Lancaster",
    "Belfast", "Edinburgh", "Hull", "Swansea", "Derby", "Aberdeen", "Plymouth", "Bradford", "London",
)
COOP_WORDS = (
    "Hazel", "Slate", "Meadow", "Harbour", "Lantern", "Bramble", "Cobalt", "Heron", "Juniper", "Kiln",
    "Larch", "Marram", "Nettle", "Oriel", "Pebble", "Quill", "Rowan", "Sorrel", "Tern", "Umbra",
    "Willow", "Yarrow", "Alder", "Basalt", "Cinder", "Dunlin", "Elder", "Fathom",
)
COOP_NOUNS = ("Digital", "Code", "Design", "Systems", "Data", "Media", "Web", "Studio", "Tech", "Works")
COOP_SUFFIXES = ("Co-operative", "Co-op", "Workers' Co-op", "Collective")

ADJECTIVES = (
    "Accessible", "Secure", "Open source", "Low-carbon", "Multilingual", "Mobile-first", "Self-hosted",
    "Simple", "Bilingual", "Offline-first", "Privacy-friendly", "Volunteer-run",
)
THINGS = (
    "booking system", "membership CRM", "donations platform", "data dashboard", "learning platform",
    "website rebuild", "case management tool", "e-commerce shop", "mobile app", "open data portal",
    "hosting migration", "accessibility audit", "brand refresh", "campaign site", "API integration",
    "volunteer rota", "grant reporting tool", "map of services", "newsletter platform", "security review",
)
CLIENTS = (
    "a community energy co-op", "a housing association", "a tenants' union", "a food bank network",
    "a city council", "a credit union", "a refugee charity", "a worker-owned bakery", "a university",
    "a community land trust", "a climate campaign", "an arts centre", "a federation of co-ops",
    "a health board", "a cycling charity", "a community pub", "an adult education co-op",
)
SCOPES = (
    "Discovery with the people who will use it", "Design and build in fortnightly releases",
    "WCAG 2.2 AA throughout", "Migration of existing data", "Hosting in the UK with backups",
    "Training for staff and volunteers", "Support for a year after launch", "Documentation and handover",
    "Integration with the existing finance system", "Single sign-on for staff",
)


def schema_mark():
    """A number that changes whenever a table, column or index of the models changes (or
    DATA_VERSION does). Stored in SQLite's user_version when a build has finished, so a
    half-built file, or one built for other models, is never reused."""
    parts = [str(DATA_VERSION)]
    for table in sorted(db.metadata.tables.values(), key=lambda t: t.name):
        columns = ",".join(f"{c.name} {c.type}" for c in table.columns)
        indexes = ",".join(sorted(f"{i.name}({','.join(c.name for c in i.columns)})" for i in table.indexes))
        parts.append(f"{table.name}:{columns}:{indexes}")
    return zlib.crc32("|".join(parts).encode()) & 0x7FFFFFFF


def counts(path):
    """(jobs, co-ops, schema mark) of an existing bench database, or None."""
    if not os.path.exists(path):
        return None
    import sqlite3

    try:
        with sqlite3.connect(path) as conn:
            mark = conn.execute("PRAGMA user_version").fetchone()[0]
            jobs = conn.execute("SELECT count(*) FROM job").fetchone()[0]
            coops = conn.execute("SELECT count(*) FROM coop").fetchone()[0]
    except sqlite3.Error:
        return None
    return jobs, coops, mark


def is_ready(path, jobs, coops):
    """The file holds a finished build with these counts, for the current models."""
    return counts(path) == (jobs, coops, schema_mark())


def remove(path):
    for suffix in ("", "-wal", "-shm", "-journal"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)


def build(app, jobs, coops, seed=SEED, label="Building"):
    """Fill the (empty) database of ``app`` with ``jobs`` jobs and ``coops`` co-ops."""
    with app.app_context():
        db.create_all()
        with db.engine.begin() as conn:
            conn.exec_driver_sql("PRAGMA synchronous=OFF")  # a crash mid-build means a rebuild anyway
            with click.progressbar(length=jobs + coops, label=label, show_eta=True, show_pos=True) as bar:
                insert_rows(conn, jobs, coops, seed, progress=bar.update)
            conn.exec_driver_sql(f"PRAGMA user_version={schema_mark()}")
        with db.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")  # what a maintained production database would have
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        db.engine.dispose()


def insert_rows(conn, jobs, coops, seed=SEED, progress=None):
    """The skill taxonomy, ``coops`` co-ops with their people and ``jobs`` jobs, inserted through
    ``conn`` (in the app context of its database, any dialect), from a generator seeded with
    ``seed``. Rows have their ids set: the tables must be empty."""
    rng = random.Random(seed)
    now = utcnow()
    load_taxonomy()
    db.session.commit()
    skill_ids = _weighted_skills(rng)
    tables, posters = _people_and_coops(rng, now, coops, skill_ids)
    for table, rows in tables:
        for chunk in _chunks(rows, CHUNK):
            conn.execute(insert(table), chunk)
    if progress:
        progress(coops)
    descriptions = _descriptions(rng)
    for start in range(1, jobs + 1, CHUNK):
        # Jobs go in with their skills and audit events, a chunk at a time.
        batch = [_job(rng, now, job_id, posters, skill_ids, descriptions)
                 for job_id in range(start, min(start + CHUNK, jobs + 1))]
        conn.execute(insert(Job.__table__), [row for row, _, _ in batch])
        conn.execute(insert(job_skill), [
            {"job_id": row["id"], "skill_id": s} for row, skills, _ in batch for s in skills
        ])
        conn.execute(insert(AuditEvent.__table__), [e for _, _, history in batch for e in history])
        if progress:
            progress(len(batch))


def _chunks(rows, size):
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _weighted_skills(rng):
    """Skill ids with Zipf-like weights: a few skills are on many jobs, most on few.
    The most common one is 'Websites and web apps', as in the real directory."""
    skills = db.session.execute(select(Skill.id, Skill.slug).order_by(Skill.slug)).all()
    rng.shuffle(skills)
    skills.sort(key=lambda s: s.slug != "websites-and-web-apps")
    ids = [s.id for s in skills]
    weights = [1 / (rank + 1) ** 0.8 for rank in range(len(ids))]
    cumulative, total = [], 0.0
    for weight in weights:
        total += weight
        cumulative.append(total)
    return ids, cumulative


def _pick_skills(rng, skill_ids, n=3):
    ids, cumulative = skill_ids
    chosen = set()
    while len(chosen) < n:
        chosen.add(rng.choices(ids, cum_weights=cumulative)[0])
    return chosen


def _people_and_coops(rng, now, n_coops, skill_ids):
    """([(table, row dicts)] in insertion order, {visibility: ids of co-ops that may post with it})."""
    networks = [
        {"id": 1, "slug": "cotech", "name": "CoTech", "in_federation": True, "description": "", "website": "",
         "created_at": now},
        {"id": 2, "slug": "workers-coop", "name": "workers.coop", "in_federation": True, "description": "",
         "website": "", "created_at": now},
    ]
    coops, memberships, coop_skills = [], [], []
    # Who may post with each visibility (the posting rule), to pick realistic posters.
    posters = {"cotech": [], "federation": [], "public": []}
    for coop_id in range(1, n_coops + 1):
        name = f"{rng.choice(COOP_WORDS)} {rng.choice(COOP_NOUNS)} {rng.choice(COOP_SUFFIXES)}"
        created = now - timedelta(days=rng.randint(30, 3000))
        description = f"A worker co-op of {rng.randint(2, 40)} people in {rng.choice(TOWNS)}."
        coops.append({
            "id": coop_id, "slug": f"{slugify(name)}-{coop_id}", "name": name,
            "website": f"https://coop{coop_id}.example.coop", "email": f"hello@coop{coop_id}.example.coop",
            "description": description, "description_html": f"<p>{description}</p>",
            "size": rng.randint(2, 40), "location": rng.choice(TOWNS), "created_at": created, "updated_at": created,
        })
        cotech = "active" if coop_id == MEMBER_COOP_ID else _status(rng, active=0.05, guest=0.005, pending=0.005)
        workers = "active" if coop_id == MEMBER_COOP_ID else _status(rng, active=0.7, guest=0, pending=0.02)
        for network_id, status in ((1, cotech), (2, workers)):
            if status:
                memberships.append({
                    "coop_id": coop_id, "network_id": network_id, "status": status,
                    "since": None if status == "pending" else created.date(), "until": None, "created_at": created,
                })
        if cotech in ("active", "guest"):
            posters["cotech"].append(coop_id)
        if "active" in (cotech, workers):
            posters["federation"].append(coop_id)
        if cotech in ("active", "guest") or workers == "active":
            posters["public"].append(coop_id)
        for skill_id in _pick_skills(rng, skill_ids, rng.randint(2, 4)):
            coop_skills.append({"coop_id": coop_id, "skill_id": skill_id})

    password_hash = generate_password_hash(PASSWORD)
    users, members = [], []
    for coop_id in range(1, n_coops + 1):
        for role in ("admin", "member"):
            user_id = len(users) + 1
            users.append({
                "id": user_id, "email": f"user{user_id}@bench.example.coop", "name": f"Bench User {user_id}",
                "password_hash": password_hash, "is_site_admin": False, "active": True, "created_at": now,
                "email_verified_at": now,
            })
            members.append({"coop_id": coop_id, "user_id": user_id, "role": role, "created_at": now})
    coordinators = []
    for network_id in (1, 2):
        user_id = len(users) + 1
        users.append({
            "id": user_id, "email": f"coordinator{network_id}@bench.example.coop", "name": "Coordinator",
            "password_hash": password_hash, "is_site_admin": False, "active": True, "created_at": now,
            "email_verified_at": now,
        })
        coordinators.append({"user_id": user_id, "network_id": network_id, "created_at": now})

    return [
        (Network.__table__, networks),
        (Coop.__table__, coops),
        (NetworkMembership.__table__, memberships),
        (coop_skill, coop_skills),
        (User.__table__, users),
        (CoopMember.__table__, members),
        (NetworkCoordinator.__table__, coordinators),
    ], posters


def _status(rng, active, guest, pending):
    draw = rng.random()
    if draw < active:
        return "active"
    if draw < active + guest:
        return "guest"
    if draw < active + guest + pending:
        return "pending"
    return None


def _descriptions(rng, n=200):
    """(Markdown, HTML) pairs, rendered once and shared by many jobs."""
    pairs = []
    for _ in range(n):
        scope = "\n".join(f"- {s}" for s in rng.sample(SCOPES, rng.randint(3, 6)))
        source = (
            f"## Background\n\nWe work with {rng.choice(CLIENTS)} in {rng.choice(TOWNS)}. "
            + "They have outgrown what they use today and want something they can own and run. " * rng.randint(1, 4)
            + f"\n\n## What we need\n\n{scope}\n\n## How to respond\n\n"
            "Ask questions before the questions deadline; answers are shared with everyone who can see this post."
        )
        pairs.append((source, render_markdown(source)))
    return pairs


def _job(rng, now, job_id, posters, skill_ids, descriptions):
    visibility = rng.choices(("public", "federation", "cotech"), weights=(45, 30, 25))[0]
    coop_id = rng.choice(posters[visibility])
    draw = rng.random()
    status = "draft" if draw < 0.03 else "withdrawn" if draw < 0.07 else "published"
    published = None if status == "draft" else (now - timedelta(minutes=rng.randint(60, 730 * 24 * 60)))
    created = (published or now - timedelta(days=rng.randint(0, 30))) - timedelta(hours=rng.randint(1, 48))
    base = published or created
    bids = (base + timedelta(days=rng.randint(14, 84))).replace(minute=0, second=0)
    questions = bids - timedelta(days=rng.randint(3, 10))
    if questions <= base:
        questions = base + timedelta(hours=1)
    description, html = rng.choice(descriptions)
    budget_type = "day_rate" if rng.random() < 0.3 else "fixed"
    low = rng.randint(250, 600) if budget_type == "day_rate" else rng.randrange(1000, 120000, 500)
    withdrawn = published + (bids - published) * rng.uniform(0.1, 0.9) if status == "withdrawn" else None
    poster_user = 2 * coop_id - 1
    row = {
        "id": job_id, "coop_id": coop_id, "posted_by_id": poster_user,
        "title": f"{rng.choice(ADJECTIVES)} {rng.choice(THINGS)} for {rng.choice(CLIENTS)}",
        "summary": f"{rng.choice(THINGS).capitalize()} for {rng.choice(CLIENTS)} in {rng.choice(TOWNS)}.",
        "description": description, "description_html": html,
        "kind": rng.choices(("tender", "subcontract", "lead"), weights=(40, 30, 30))[0],
        "budget_type": budget_type, "budget_min": low, "budget_max": low + low // 4, "currency": "GBP",
        "location": rng.choice(TOWNS), "work_mode": rng.choice(("remote", "hybrid", "on_site")),
        "questions_deadline": questions, "bids_deadline": bids,
        "start_date": (bids + timedelta(days=rng.randint(14, 60))).date(),
        "visibility": visibility, "looking_for_partners": rng.random() < 0.1, "status": status,
        "withdrawn_reason": "The client postponed the work." if withdrawn else "",
        "published_at": published, "withdrawn_at": withdrawn, "created_at": created,
        "updated_at": withdrawn or published or created,
    }
    history = [_event("job.created", job_id, poster_user, coop_id, created, False)]
    if published:
        history.append(_event("job.published", job_id, poster_user, coop_id, published, True))
    if withdrawn:
        history.append(_event("job.withdrawn", job_id, poster_user, coop_id, withdrawn, True))
    return row, _pick_skills(rng, skill_ids), history


def _event(action, job_id, user_id, coop_id, moment, public):
    return {"action": action, "target_type": "job", "target_id": job_id, "actor_id": user_id,
            "coop_id": coop_id, "public": public, "data": {}, "created_at": moment}


def facts(app):
    """What the benchmark needs to know about a built database: the member, a common skill,
    and a job that both the anonymous viewer and the member can see."""
    with app.app_context():
        common = db.session.execute(
            select(Skill.slug, func.count()).join(job_skill, job_skill.c.skill_id == Skill.id)
            .group_by(Skill.slug).order_by(func.count().desc()).limit(1)
        ).one()
        job_id = db.session.scalar(
            select(Job.id).where(Job.visibility == "public", Job.state == "open")
            .order_by(Job.published_at.desc()).limit(1)
        )
        member = db.session.get(User, MEMBER_USER_ID)
        return {
            "skill": common.slug, "skill_jobs": common[1], "job_id": job_id,
            "member_id": member.id, "member_name": member.name,
            "jobs": db.session.scalar(select(func.count()).select_from(Job)),
            "open": db.session.scalar(select(func.count()).select_from(Job).where(Job.state == "open")),
            "sqlite": db.session.scalar(text("select sqlite_version()")),
        }
