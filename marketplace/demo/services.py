"""Loading the demo world into an empty database, and describing its logins.

Jobs are posted, published and withdrawn through ``marketplace.jobs.services`` so that they
carry the same audit events as real ones. Jobs that are closed today were posted weeks ago:
the clock is set back (``frozen_now``) to the moment each was posted, so the posting rules
(deadlines in the future) hold at that moment and every timestamp tells a consistent story.
"""
from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from ..accounts.models import User, hash_method
from ..audit.services import record
from ..coops.models import Coop, CoopMember, CoopRole
from ..core.markdown import render_markdown
from ..core.time import frozen_now, utcnow
from ..extensions import db
from ..federation.models import (MembershipStatus, Network, NetworkCoordinator, NetworkMembership,
                                 Visibility)
from ..federation import posting_visibilities, viewer_for
from ..jobs.models import BudgetType, Currency, Job, JobKind
from ..jobs.services import JobRuleError, post_job, withdraw_job
from ..skills.models import Skill
from ..skills.services import load_taxonomy
from . import data

T = TypeVar("T")

SEED = 1844  # the Rochdale Pioneers; any fixed number keeps the demo the same on every machine

PAYMENT_TERMS = ("monthly in arrears", "in three milestones", "within 30 days of each invoice")


class DemoError(Exception):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass
class DemoLogin:
    email: str
    password: str
    coops: str
    can_see: str


def is_loaded() -> bool:
    """True when the demo site admin or any demo co-op is already in the database."""
    slugs = [spec.slug for spec in data.COOPS]
    return bool(
        db.session.scalar(select(func.count()).select_from(User).where(User.email == data.SITE_ADMIN["email"]))
        or db.session.scalar(select(func.count()).select_from(Coop).where(Coop.slug.in_(slugs)))
    )


def has_other_data() -> bool:
    """True when co-ops or users exist that are not the demo's: demo data is not mixed into them."""
    return bool(
        db.session.scalar(select(func.count()).select_from(Coop))
        or db.session.scalar(select(func.count()).select_from(User))
    )


def load_demo(seed: int = SEED) -> dict[str, int]:
    """Add the demo networks, co-ops, people and jobs to the current session (the caller
    commits). Returns a summary {name: count}."""
    rng = random.Random(seed)
    now = utcnow()
    skills_added, _ = load_taxonomy()
    networks = _networks()
    skills = {s.slug: s for s in db.session.scalars(select(Skill))}
    password_hash = generate_password_hash(data.PASSWORD, method=hash_method())  # one hash: same password, much faster

    admin = _user(data.SITE_ADMIN["email"], data.SITE_ADMIN["name"], password_hash,
                  now - timedelta(days=1000), is_site_admin=True)
    for spec in data.COORDINATORS:
        coordinator = _user(spec["email"], spec["name"], password_hash, now - timedelta(days=900))
        db.session.add(NetworkCoordinator(user=coordinator, network=networks[spec["network"]]))

    coops = [_coop(spec, networks, skills, admin, rng, now) for spec in data.COOPS]
    people = _people(coops, password_hash, rng, now)
    jobs = _jobs(coops, people, skills, rng, now)
    db.session.flush()
    summary: dict[str, int] = {
        "skills added": skills_added, "networks": len(networks), "co-ops": len(coops),
        "users": db.session.scalar(select(func.count()).select_from(User)) or 0, "jobs": len(jobs),
    }
    for job in jobs:
        summary[job.state.value] = summary.get(job.state.value, 0) + 1
    return summary


def _networks() -> dict[str, Network]:
    """The two networks, reused when they already exist."""
    networks: dict[str, Network] = {}
    for spec in data.NETWORKS:
        network = db.session.scalar(select(Network).where(Network.slug == spec["slug"]))
        if network is None:
            network = Network(**spec)
            db.session.add(network)
        networks[spec["slug"]] = network
    return networks


def _user(email: str, name: str, password_hash: str, created_at: datetime, is_site_admin: bool = False) -> User:
    user = User(email=email, name=name, password_hash=password_hash, is_site_admin=is_site_admin,
                created_at=created_at, email_verified_at=created_at)
    db.session.add(user)
    return user


def _coop(spec: data.CoopSpec, networks: Mapping[str, Network], skills: Mapping[str, Skill], admin: User,
          rng: random.Random, now: datetime) -> Coop:
    missing = [slug for slug in spec.skills if slug not in skills]
    if missing:
        raise DemoError(f"The skill taxonomy has no {', '.join(missing)} (needed by {spec.name}).")
    created_at = now - timedelta(days=rng.randint(300, 1500))
    coop = Coop(
        name=spec.name, slug=spec.slug, website=f"https://{spec.slug}.example.coop",
        email=f"hello@{spec.slug}.example.coop", description=spec.description,
        description_html=render_markdown(spec.description), size=spec.size, location=spec.location,
        created_at=created_at, updated_at=created_at, skills=[skills[slug] for slug in spec.skills],
    )
    for slug, status in spec.memberships.items():
        pending = status == MembershipStatus.PENDING
        joined = now - timedelta(days=rng.randint(5, 20) if pending else rng.randint(60, 700))
        coop.memberships.append(NetworkMembership(
            network=networks[slug], status=status, since=None if pending else joined.date(), created_at=joined,
        ))
    db.session.add(coop)
    event = record("coop.created", coop, actor=admin, coop=coop, name=coop.name)
    event.created_at = created_at
    return coop


def _people(coops: Sequence[Coop], password_hash: str, rng: random.Random, now: datetime) -> dict[str, list[User]]:
    """An admin and a member for every co-op, and one person who works in two co-ops.
    Returns {coop slug: [users]}."""
    first_names = rng.sample(data.FIRST_NAMES, 2 * len(coops))
    people: dict[str, list[User]] = {}
    for n, coop in enumerate(coops):
        people[coop.slug] = []
        for offset, role in enumerate((CoopRole.ADMIN, CoopRole.MEMBER)):
            first = first_names[2 * n + offset]
            user = _user(f"{first.lower()}@{coop.slug}.example.coop", f"{first} {rng.choice(data.SURNAMES)}",
                         password_hash, coop.created_at + timedelta(days=rng.randint(0, 30)))
            db.session.add(CoopMember(coop=coop, user=user, role=role.value))
            people[coop.slug].append(user)
    spec = data.TWO_COOP_MEMBER
    both = _user(spec["email"], spec["name"], password_hash, now - timedelta(days=200))
    by_slug = {coop.slug: coop for coop in coops}
    for slug in spec["coops"]:
        db.session.add(CoopMember(coop=by_slug[slug], user=both, role=CoopRole.MEMBER.value))
        people[slug].append(both)
    db.session.flush()  # membership checks compare ids
    return people


def _job_plan(rng: random.Random) -> list[tuple[data.JobSpec, str, str]]:
    """(spec, state, visibility) for every demo job: each state gets every visibility in turn."""
    order = list(range(len(data.JOBS)))
    rng.shuffle(order)
    visibilities = [v.value for v in (Visibility.PUBLIC, Visibility.COTECH, Visibility.FEDERATION)]
    plan: list[tuple[data.JobSpec, str, str]] = []
    start = 0
    for offset, (state, count) in enumerate(data.STATE_PLAN.items()):
        for n, index in enumerate(order[start:start + count]):
            plan.append((data.JOBS[index], state, visibilities[(n + offset) % len(visibilities)]))
        start += count
    if start != len(data.JOBS):
        raise DemoError(f"STATE_PLAN places {start} jobs but there are {len(data.JOBS)}.")
    return plan


def _noon(moment: datetime, days: int) -> datetime:
    return (moment + timedelta(days=days)).replace(hour=12, minute=0, second=0)


def _timeline(state: str, rng: random.Random,
              now: datetime) -> tuple[datetime, datetime, datetime, datetime | None]:
    """When a job of this state was posted, its deadlines and (if withdrawn) when it was withdrawn."""
    posted = now - timedelta(days=rng.randint(1, 20), hours=rng.randint(0, 8))
    withdrawn = None
    if state in ("open", "draft"):
        if state == "open" and rng.random() < 0.15:
            # Questions have closed, bids have not.
            posted = now - timedelta(days=rng.randint(3, 20))
            questions = _noon(now, -1)
        else:
            questions = _noon(now, rng.randint(2, 16))
    else:
        ago = rng.randint(40, 150) if state == "closed" else rng.randint(10, 60)
        posted = now - timedelta(days=ago, hours=rng.randint(0, 8))
        questions = _noon(posted, rng.randint(7, 14))
    bids = questions + timedelta(days=rng.randint(5, 12))
    posted = posted.replace(second=0)
    if state == "withdrawn":
        withdrawn = posted + (min(now, bids) - posted) * rng.uniform(0.2, 0.8)
        withdrawn = withdrawn.replace(microsecond=0)
    return posted, questions, bids, withdrawn


def _description(spec: data.JobSpec, rng: random.Random) -> str:
    symbol = Currency(spec.currency).symbol
    amount = f"{symbol}{spec.budget_min:,}"
    if spec.budget_max and spec.budget_max != spec.budget_min:
        amount += f" to {symbol}{spec.budget_max:,}"
    if spec.budget_type == BudgetType.DAY_RATE:
        money = f"We pay {amount} a day, for about {rng.randint(10, 60)} days"
    else:
        money = f"The budget is {amount}, excluding VAT"
    scope = "\n".join(f"- {item}" for item in spec.scope)
    intro = {
        JobKind.TENDER: "We are inviting co-ops to bid for this work.",
        JobKind.SUBCONTRACT: "We are the lead contractor and want a co-op to take on part of the work.",
        JobKind.LEAD: "We are passing on this lead: we will introduce the co-op that takes it to the client.",
    }[JobKind(spec.kind)]
    partners = (
        "\n\nWe would welcome **joint bids**: say which co-ops you would work with and who does what."
        if spec.partners else ""
    )
    return (
        f"{intro}\n\n## Background\n\n{spec.background}\n\n## What we need\n\n{scope}\n\n"
        f"## Money\n\n{money}; paid {rng.choice(PAYMENT_TERMS)}.{partners}\n\n"
        "## How to respond\n\nAsk questions here before the questions deadline: answers are shared with "
        "everyone who can see this post. Bids should say who would do the work, when, and for how much."
    )


def _checked(change: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a job rule; a refusal means the demo data is inconsistent."""
    try:
        return change(*args, **kwargs)
    except JobRuleError as error:
        raise DemoError(f"Demo job refused: {error.message}", field=error.field) from error


def _jobs(coops: Sequence[Coop], people: Mapping[str, Sequence[User]], skills: Mapping[str, Skill],
          rng: random.Random, now: datetime) -> list[Job]:
    plan = []
    for spec, state, visibility in _job_plan(rng):
        posters = [c for c in coops if visibility in posting_visibilities(c)]
        coop = rng.choice(posters)
        posted, questions, bids, withdrawn = _timeline(state, rng, now)
        start = bids.date() + timedelta(days=rng.randint(14, 45)) if rng.random() < 0.7 else None
        values = {
            "title": spec.title, "summary": spec.summary, "description": _description(spec, rng),
            "kind": spec.kind, "budget_type": spec.budget_type, "budget_min": spec.budget_min,
            "budget_max": spec.budget_max, "currency": spec.currency, "location": spec.location,
            "work_mode": spec.work_mode, "questions_deadline": questions, "bids_deadline": bids,
            "start_date": start, "visibility": visibility, "looking_for_partners": spec.partners,
            "criteria": [{"name": name, "weight": weight} for name, weight in spec.criteria],
        }
        plan.append((posted, coop, rng.choice(people[coop.slug]), values, spec, state, withdrawn))

    jobs: list[Job] = []
    # Oldest first, so that ids follow the order in which the jobs were posted.
    for posted, coop, user, values, spec, state, withdrawn in sorted(plan, key=lambda p: p[0]):
        with frozen_now(posted):
            job = _checked(post_job,coop, user, values, [skills[s] for s in spec.skills], publish=state != "draft")
            db.session.flush()
        if withdrawn is not None:
            with frozen_now(withdrawn):
                _checked(withdraw_job, job, user, rng.choice(data.WITHDRAWN_REASONS))
                db.session.flush()
        jobs.append(job)
    return jobs


# --- the logins table ------------------------------------------------------------------------

SEEN_LABELS = {  # widest audience first
    Visibility.PUBLIC.value: "public",
    Visibility.FEDERATION.value: "federation",
    Visibility.COTECH.value: "CoTech-only",
}


def can_see(user: User) -> str:
    """What the visibility rule lets ``user`` see, in a few words."""
    viewer = viewer_for(user)
    seen = " + ".join(label for value, label in SEEN_LABELS.items() if value in viewer.visibilities)
    words = f"{seen} jobs"
    if viewer.coop_ids:
        words += ", own co-op's drafts"
    if viewer.is_site_admin:
        words += " (site admin)"
    coordinated = db.session.scalars(
        select(Network.name).join(NetworkCoordinator).where(NetworkCoordinator.user_id == user.id)
        .order_by(Network.name)
    ).all()
    if coordinated:
        words += f" (coordinator of {', '.join(coordinated)})"
    return words


def _membership_words(coop: Coop) -> str:
    """'CoTech, workers.coop' for active memberships; other statuses are named ('CoTech guest')."""
    return ", ".join(
        m.network.name + ("" if m.status == MembershipStatus.ACTIVE else f" {m.status}")
        for m in sorted(coop.memberships, key=lambda m: m.network.slug)
    )


def demo_logins() -> list[DemoLogin]:
    """Every demo user: the site admin, the coordinators, then the co-ops' people."""
    special = [data.SITE_ADMIN["email"]] + [c["email"] for c in data.COORDINATORS] + [data.TWO_COOP_MEMBER["email"]]
    users = list(db.session.scalars(select(User).where(User.email.like("%example.coop"))))
    rank = {email: n for n, email in enumerate(special)}
    users.sort(key=lambda u: (rank.get(u.email, len(rank)), u.coops[0].name if u.coops else "",
                              u.role_in(u.coops[0]) != CoopRole.ADMIN if u.coops else False))
    logins = []
    for user in users:
        coops = "; ".join(
            f"{link.coop.name} ({link.role}; {_membership_words(link.coop) or 'no network'})"
            for link in user.coop_links
        )
        logins.append(DemoLogin(user.email, data.PASSWORD, coops or "-", can_see(user)))
    return logins
