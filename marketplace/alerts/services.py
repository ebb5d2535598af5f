"""Saved searches and sending them.

A saved search is a /jobs or /search query (``feeds.queries``) with a name and a delivery.
``send_due`` finds, for each search that is due and each of its recipients, the open jobs
published since its last sending that the recipient may see *now* (memberships change between
saving and sending: the visibility rule is applied at send time, through the recipient's own
viewer), claims them in ``alert_delivery`` (one row per search, recipient and job, unique) and
only then sends the email: a job is sent to a recipient at most once, however often and however
many times at once the command runs.
"""
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import parse_qsl, urlencode

from flask import current_app, url_for
from flask_babel import ngettext
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import delete, func, select
from sqlalchemy.orm import joinedload, selectinload

from ..accounts.models import User
from ..coops.models import CoopMember, coop_skill
from ..core.models import claim_new
from ..core.rules import RuleError
from ..core.time import to_local, utcnow
from ..extensions import db
from ..federation import audience_key, viewer_for
from ..feeds import queries
from ..jobs.models import Job, JobState
from ..jobs.services import JobFilters
from ..mail import MailError, send_mail
from ..search import SearchUnavailable
from .models import AlertDelivery, AlertOptOut, Delivery, SavedSearch

log = logging.getLogger(__name__)

MAX_SAVED = 50  # saved searches a user may have
MAX_JOBS = 30  # jobs in one email (the rest are a link away)
UNSUBSCRIBE_SALT = "alert-unsubscribe"
OVERLAP = timedelta(minutes=10)


class AlertRuleError(RuleError):
    pass


# --- saving ----------------------------------------------------------------------------------

def checked_query(args):
    """(query string to keep, ``JobQuery``) of a /jobs or /search query, or ``AlertRuleError``."""
    try:
        query = queries.job_query(args)
    except queries.InvalidQuery as error:
        raise AlertRuleError(f"This search cannot be saved: {error}.") from None
    return urlencode(sorted(query.args.items())), query


def query_of(search):
    """The saved search's ``JobQuery``; a co-op's skill match reads the co-op's skills now.
    ``InvalidQuery`` when it cannot run (a skill or co-op it names has gone, no skills)."""
    if search.match_skills:
        skill_ids = tuple(sorted(s.id for s in search.coop.skills))
        if not skill_ids:
            raise queries.InvalidQuery(f"{search.coop.name} lists no skills")
        return queries.listing(JobFilters(any_skill_ids=skill_ids))
    return queries.job_query(dict(parse_qsl(search.query)))


def can_manage(user, search):
    """Its author, or an admin of the co-op it is for."""
    return search.user_id == user.id or (search.coop is not None and user.is_admin_of(search.coop))


SKILL_MATCH_NAME = "New jobs matching our co-op's skills"


def add_skill_matches(now=None):
    """Give every co-op that lists skills its skill match (a daily digest to every member, who
    may stop it with one click), if it has none yet; returns how many were added."""
    have = select(SavedSearch.coop_id).where(SavedSearch.match_skills.is_(True))
    coop_ids = db.session.scalars(
        select(coop_skill.c.coop_id).where(coop_skill.c.coop_id.not_in(have)).distinct()
    ).all()
    for coop_id in coop_ids:
        db.session.add(SavedSearch(coop_id=coop_id, name=SKILL_MATCH_NAME, query="", match_skills=True,
                                   delivery=Delivery.DAILY.value, sent_up_to=now or utcnow()))
    return len(coop_ids)


def set_getting(search, user, getting):
    """A member of a co-op's saved search starts or stops getting it."""
    found = db.session.get(AlertOptOut, (search.id, user.id))
    if getting and found is not None:
        db.session.delete(found)
    elif not getting and found is None:
        db.session.add(AlertOptOut(saved_search_id=search.id, user_id=user.id))


def save_search(user, name, args, delivery, coop=None):
    if coop is not None and not user.is_member_of(coop):
        raise AlertRuleError("You can only save a search for a co-op you belong to.", field="audience")
    count = db.session.scalar(select(func.count()).select_from(SavedSearch).where(SavedSearch.user_id == user.id))
    if count >= MAX_SAVED:
        raise AlertRuleError(f"You have {MAX_SAVED} saved searches: delete one first.")
    query_string, query = checked_query(args)
    search = SavedSearch(user=user, coop=coop, name=(name or "").strip() or query.title, query=query_string,
                         delivery=Delivery(delivery).value, sent_up_to=utcnow())
    db.session.add(search)
    return search


def update_search(search, user, name, delivery, paused):
    if not can_manage(user, search):
        raise AlertRuleError("Only whoever saved this search, or an admin of its co-op, can change it.")
    search.name = (name or "").strip() or search.name
    search.delivery = Delivery(delivery).value
    if search.paused and not paused:
        search.sent_up_to = utcnow()  # resumed: news from now on, not what was missed meanwhile
    search.paused = bool(paused)


def delete_search(search, user):
    if not can_manage(user, search):
        raise AlertRuleError("Only whoever saved this search, or an admin of its co-op, can delete it.")
    db.session.execute(delete(AlertDelivery).where(AlertDelivery.saved_search_id == search.id))
    db.session.delete(search)


def searches_for(user):
    """The user's own saved searches and those of their co-ops, each with whether the user
    gets it (not opted out)."""
    coop_ids = [link.coop_id for link in user.coop_links]
    found = db.session.scalars(
        select(SavedSearch)
        .where((SavedSearch.user_id == user.id) | SavedSearch.coop_id.in_(coop_ids))
        .options(joinedload(SavedSearch.coop)).order_by(SavedSearch.created_at.desc(), SavedSearch.id.desc())
    ).all()
    opted_out = set(db.session.scalars(select(AlertOptOut.saved_search_id).where(AlertOptOut.user_id == user.id)))
    return [(search, search.id not in opted_out) for search in found]


def visible_search(user, search_id):
    """A saved search the user may see (their own, or their co-op's), or None."""
    search = db.session.get(SavedSearch, search_id)
    if search is None:
        return None
    if search.user_id == user.id or (search.coop_id is not None and user.is_member_of(search.coop)):
        return search
    return None


# --- unsubscribing ---------------------------------------------------------------------------

def _serializer():
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT)


def unsubscribe_token(search, user):
    return _serializer().dumps({"search": search.id, "user": user.id})


def read_unsubscribe_token(token):
    """(saved search, user) a link was made for, or None when it is not valid (or the search
    is gone)."""
    try:
        payload = _serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(payload, dict):
        return None
    search, user = db.session.get(SavedSearch, payload.get("search")), db.session.get(User, payload.get("user"))
    return (search, user) if search is not None and user is not None else None


def unsubscribe(search, user):
    """The recipient stops getting it: their own search is paused; a co-op's is opted out of."""
    if search.user_id == user.id and search.coop_id is None:
        search.paused = True
    else:
        set_getting(search, user, False)


# --- sending ---------------------------------------------------------------------------------

@dataclass
class SendReport:
    searches: int = 0
    emails: int = 0
    jobs: int = 0
    failed: list = field(default_factory=list)  # (search id, address, reason)
    skipped: list = field(default_factory=list)  # (search id, reason)


def is_due(search, now):
    """Instant alerts at every sending; digests from the digest hour of the site's time zone,
    once a day (daily) or seven days after the last (weekly)."""
    if search.paused or search.delivery == Delivery.FEED:
        return False
    if search.delivery == Delivery.INSTANT:
        return True
    local = to_local(now)
    if local.hour < current_app.config["ALERTS_DIGEST_HOUR"]:
        return False
    days = (local.date() - to_local(search.sent_up_to).date()).days
    return days >= (1 if search.delivery == Delivery.DAILY else 7)


def recipients(search):
    """Active users who get ``search``: its author, or its co-op's members not opted out."""
    if search.coop_id is None:
        return [search.user] if search.user is not None and search.user.is_active else []
    opted_out = select(AlertOptOut.user_id).where(AlertOptOut.saved_search_id == search.id)
    return db.session.scalars(
        select(User).join(CoopMember, CoopMember.user_id == User.id)
        .where(CoopMember.coop_id == search.coop_id, User.active.is_(True), User.id.not_in(opted_out))
        .order_by(User.id)
    ).all()


def news_for(viewer, query, since):
    """Open jobs of the query published after ``since`` (give or take OVERLAP) that ``viewer``
    may see now. The overlap catches a job committed just after a sending read the jobs but
    published (stamped) just before it; the claims keep it from being sent twice."""
    found = queries.matching_jobs(viewer, query, MAX_JOBS * 4, (joinedload(Job.coop), selectinload(Job.skills)))
    return [job for job in found if job.published_at and job.published_at > since - OVERLAP
            and job.state == JobState.OPEN][:MAX_JOBS]


def _claim(search, wanted):
    """{(user id, job id)} of the (recipient, jobs) pairs of ``wanted`` not yet sent by
    ``search``, claimed for sending now."""
    rows = [{"saved_search_id": search.id, "user_id": user.id, "job_id": job.id, "sent_at": utcnow()}
            for user, jobs in wanted for job in jobs]
    return set(claim_new(AlertDelivery, rows, ("saved_search_id", "user_id", "job_id"),
                         (AlertDelivery.user_id, AlertDelivery.job_id)))


def send_due(now=None):
    """Send every saved search that is due; returns a ``SendReport``."""
    now = now or utcnow()
    report = SendReport()
    if add_skill_matches(now):
        db.session.commit()
    due = [s for s in db.session.scalars(
        select(SavedSearch).where(SavedSearch.paused.is_(False)).order_by(SavedSearch.id)
        .options(joinedload(SavedSearch.user), joinedload(SavedSearch.coop))
    ) if is_due(s, now)]
    for search in due:
        report.searches += 1
        try:
            query = query_of(search)
        except queries.InvalidQuery as error:  # a skill or co-op it names has gone
            report.skipped.append((search.id, str(error)))
            continue
        outgoing = []
        try:
            # Recipients of one audience (most members of a co-op) see the same jobs: one query each.
            news, wanted = {}, []
            for user in recipients(search):
                viewer = viewer_for(user)
                key = audience_key(viewer)
                if key not in news:
                    news[key] = news_for(viewer, query, search.sent_up_to)
                wanted.append((user, news[key]))
            claimed = _claim(search, wanted)
            for user, jobs in wanted:
                mine = [job for job in jobs if (user.id, job.id) in claimed]
                if mine:
                    outgoing.append(_message(search, user, mine))
        except SearchUnavailable:
            db.session.rollback()
            report.skipped.append((search.id, "the search index is being rebuilt"))
            continue
        search.sent_up_to = max(search.sent_up_to, now)
        db.session.commit()  # the claims first: a job is sent at most once
        for message in outgoing:
            try:
                send_mail(**message)
                report.emails += 1
                report.jobs += len(message["jobs"])
            except MailError as error:
                log.error("alert %s to %s not sent: %s", search.id, message["to"], error)
                report.failed.append((search.id, message["to"], str(error)))
    return report


def _message(search, user, jobs):
    site = current_app.config["SITE_NAME"]
    unsubscribe_link = url_for("alerts.unsubscribe", token=unsubscribe_token(search, user), _external=True)
    count = ngettext("%(num)d new job", "%(num)d new jobs", len(jobs))
    return dict(
        to=user.email, zone=user.time_zone,
        subject=f"[{site}] {count}: {search.name}"[:200],
        template="alert",
        name=user.name, search_name=search.name, count=count,
        jobs=[{"title": j.title, "coop": j.coop.name, "kind": j.kind_label, "budget": j.budget_label,
               "deadline": j.bids_deadline, "link": url_for("jobs.show", job_id=j.id, _external=True)}
              for j in jobs],
        search_link=url_for("alerts.index", _external=True),
        unsubscribe_link=unsubscribe_link,
        for_coop=search.coop.name if search.coop is not None else None,
        headers={"List-Unsubscribe": f"<{unsubscribe_link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
    )
