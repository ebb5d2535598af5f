"""Saved searches and sending them.

A saved search is a /jobs or /search query (``feeds.queries``) with a name and a delivery.
``send_due`` finds, for each search that is due and each of its recipients, the open jobs
published since its last sending that the recipient may see *now* (memberships change between
saving and sending: the visibility rule is applied at send time, through the recipient's own
viewer), claims them in ``alert_delivery`` (one row per search, recipient and job, unique) and
only then sends the email: a job is sent to a recipient at most once, however often and however
many times at once the command runs.

Here: saving, managing and unsubscribing; sending is in ``sending``.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from urllib.parse import parse_qsl, urlencode

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import delete, func, select
from sqlalchemy.orm import joinedload

from ..accounts.models import User
from ..coops.models import Coop, coop_skill
from ..core.rules import RuleError
from ..core.time import utcnow
from ..extensions import db
from ..feeds import queries
from ..jobs.services import JobFilters
from .models import AlertDelivery, AlertOptOut, Delivery, SavedSearch

if TYPE_CHECKING:
    from typing import Any
    from collections.abc import Mapping


MAX_SAVED = 50  # saved searches a user may have
MAX_JOBS = 30  # jobs in one email (the rest are a link away)
UNSUBSCRIBE_SALT = "alert-unsubscribe"


class AlertRuleError(RuleError):
    pass


# --- saving ----------------------------------------------------------------------------------

def checked_query(args: Mapping[str, str]) -> tuple[str, queries.JobQuery]:
    """(query string to keep, ``JobQuery``) of a /jobs or /search query, or ``AlertRuleError``."""
    try:
        query = queries.job_query(args)
    except queries.InvalidQuery as error:
        raise AlertRuleError(f"This search cannot be saved: {error}.") from None
    return urlencode(sorted(query.args.items())), query


def query_of(search: SavedSearch) -> queries.JobQuery:
    """The saved search's ``JobQuery``; a co-op's skill match reads the co-op's skills now.
    ``InvalidQuery`` when it cannot run (a skill or co-op it names has gone, no skills)."""
    if search.match_skills:
        coop = search.coop
        if coop is None:  # not kept: the co-op's searches go with it
            raise queries.InvalidQuery("the co-op has gone")
        skill_ids = tuple(sorted(s.id for s in coop.skills))
        if not skill_ids:
            raise queries.InvalidQuery(f"{coop.name} lists no skills")
        return queries.listing(JobFilters(any_skill_ids=skill_ids))
    return queries.job_query(dict(parse_qsl(search.query)))


def can_manage(user: User, search: SavedSearch) -> bool:
    """Its author, or an admin of the co-op it is for."""
    return search.user_id == user.id or (search.coop is not None and user.is_admin_of(search.coop))


SKILL_MATCH_NAME = "New jobs matching our co-op's skills"


def add_skill_matches(now: datetime | None = None) -> int:
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


def set_getting(search: SavedSearch, user: User, getting: bool) -> None:
    """A member of a co-op's saved search starts or stops getting it."""
    found = db.session.get(AlertOptOut, (search.id, user.id))
    if getting and found is not None:
        db.session.delete(found)
    elif not getting and found is None:
        db.session.add(AlertOptOut(saved_search_id=search.id, user_id=user.id))


def save_search(user: User, name: str, args: Mapping[str, str], delivery: str, coop: Coop | None = None) -> SavedSearch:
    if coop is not None and not user.is_member_of(coop):
        raise AlertRuleError("You can only save a search for a co-op you belong to.", field="audience")
    count = db.session.scalar(select(func.count()).select_from(SavedSearch).where(SavedSearch.user_id == user.id))
    if (count or 0) >= MAX_SAVED:
        raise AlertRuleError(f"You have {MAX_SAVED} saved searches: delete one first.")
    query_string, query = checked_query(args)
    search = SavedSearch(user=user, coop=coop, name=(name or "").strip() or query.title, query=query_string,
                         delivery=Delivery(delivery).value, sent_up_to=utcnow())
    db.session.add(search)
    return search


def update_search(search: SavedSearch, user: User, name: str, delivery: str, paused: bool) -> None:
    if not can_manage(user, search):
        raise AlertRuleError("Only whoever saved this search, or an admin of its co-op, can change it.")
    search.name = (name or "").strip() or search.name
    search.delivery = Delivery(delivery).value
    if search.paused and not paused:
        search.sent_up_to = utcnow()  # resumed: news from now on, not what was missed meanwhile
    search.paused = bool(paused)


def delete_search(search: SavedSearch, user: User) -> None:
    if not can_manage(user, search):
        raise AlertRuleError("Only whoever saved this search, or an admin of its co-op, can delete it.")
    db.session.execute(delete(AlertDelivery).where(AlertDelivery.saved_search_id == search.id))
    db.session.delete(search)


def searches_for(user: User) -> list[Any]:
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


def visible_search(user: User, search_id: int) -> SavedSearch | None:
    """A saved search the user may see (their own, or their co-op's), or None."""
    search = db.session.get(SavedSearch, search_id)
    if search is None:
        return None
    if search.user_id == user.id or (search.coop is not None and user.is_member_of(search.coop)):
        return search
    return None


# --- unsubscribing ---------------------------------------------------------------------------

def signed(salt: str, payload: dict[str, Any]) -> str:
    """A link's token holding ``payload`` (a dict), signed with the site's key."""
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=salt).dumps(payload)


def unsigned(salt: str, token: str) -> dict[Any, Any] | None:
    """The dict ``signed`` put in ``token``, or None when it is not valid."""
    try:
        payload = URLSafeSerializer(current_app.config["SECRET_KEY"], salt=salt).loads(token)
    except BadSignature:
        return None
    return payload if isinstance(payload, dict) else None


def unsubscribe_token(search: SavedSearch, user: User) -> str:
    return signed(UNSUBSCRIBE_SALT, {"search": search.id, "user": user.id})


def read_unsubscribe_token(token: str) -> tuple[SavedSearch, User] | None:
    """(saved search, user) a link was made for, or None when it is not valid (or the search
    is gone)."""
    payload = unsigned(UNSUBSCRIBE_SALT, token)
    if payload is None:
        return None
    search, user = db.session.get(SavedSearch, payload.get("search")), db.session.get(User, payload.get("user"))
    return (search, user) if search is not None and user is not None else None


def unsubscribe(search: SavedSearch, user: User) -> None:
    """The recipient stops getting it: their own search is paused; a co-op's is opted out of."""
    if search.user_id == user.id and search.coop_id is None:
        search.paused = True
    else:
        set_getting(search, user, False)
