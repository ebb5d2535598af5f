"""``Idempotency-Key`` on the API's writes: a client that retries a write it is unsure of (a
timeout, a connection reset, a worker killed after its commit) gets the first answer again
instead of a second job, question or bid.

As the IETF's Idempotency-Key header draft describes it: the key names one request of one
caller; the same key and the same request within ``IDEMPOTENCY_HOURS`` answer what the first
answered; the same key with another request is 422; a retry while the first is still being
worked on is 409.

How it stays exactly-once: before the view runs, the key is claimed by a row committed on its
own (a second request with the key finds it). The view's answer is stored in that row in the
view's own transaction, by ``commit_with_answer``, so the change and its stored answer commit
together or not at all. A claim whose request ended without a stored answer (a refusal, an
error) is released, so the retry runs afresh; one left by a worker that died is taken over
once it is older than ``IDEMPOTENCY_CLAIM_SECONDS``.
"""
import hashlib
from datetime import timedelta
from typing import Any

from flask import Response, current_app, g, jsonify, request
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from ..core.models import compare_and_set
from ..core.time import utcnow
from ..accounts.models import User
from ..extensions import db
from .models import MAX_IDEMPOTENCY_KEY as MAX_KEY
from .models import IdempotentRequest

HEADER = "Idempotency-Key"
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
# A claim with no answer after this long was left by a request that died: it may be taken over.
def in_progress() -> timedelta:
    """How long a claim with no answer counts as being worked on (IDEMPOTENCY_CLAIM_SECONDS):
    longer than any request runs; after it, a retry takes the claim of a request that died."""
    return timedelta(seconds=current_app.config["IDEMPOTENCY_CLAIM_SECONDS"])


class KeyRefused(Exception):
    """The key cannot be used for this request: (status, code, message)."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for part in (request.method, request.full_path.rstrip("?"), request.get_data(cache=True)):
        digest.update(part if isinstance(part, bytes) else part.encode())
        digest.update(b"\0")
    return digest.hexdigest()


def _kept_for() -> timedelta:
    return timedelta(hours=current_app.config["IDEMPOTENCY_HOURS"])


def key_of_request() -> str | None:
    """The request's key, or None; a malformed one is a 400."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not 1 <= len(key) <= MAX_KEY or not key.isascii() or not key.isprintable():
        raise KeyRefused(400, "bad_idempotency_key",
                        f"{HEADER} must be 1 to {MAX_KEY} printable ASCII characters.")
    return key


def claim(user: User, key: str) -> Response | None:
    """Claim ``key`` for this request (committed at once), or return the stored answer of the
    request that used it first. Raises KeyRefused when the key cannot serve this request."""
    now, fingerprint, user_id = utcnow(), _fingerprint(), user.id
    # End the request's reading transaction first, so that the claim's transaction starts with a
    # write: on SQLite a reader that turns writer after another's commit fails at once, where a
    # writer waits its turn.
    db.session.commit()
    try:
        db.session.execute(delete(IdempotentRequest).where(IdempotentRequest.created_at < now - _kept_for()))
        with db.session.begin_nested():
            claimed = IdempotentRequest(user_id=user_id, key=key, fingerprint=fingerprint, created_at=now,
                                        claimed_at=now)
            db.session.add(claimed)
        db.session.commit()
        g.idempotency_claim = claimed.id
        return None
    except IntegrityError:
        db.session.rollback()
    row = db.session.scalar(select(IdempotentRequest).where(IdempotentRequest.user_id == user_id,
                                                            IdempotentRequest.key == key))
    if row is None:  # released between our insert and this read: the caller may retry at once
        raise KeyRefused(409, "idempotency_key_in_use", f"A request with this {HEADER} was just being "
                        "worked on; send it again.")
    if row.fingerprint != fingerprint:
        raise KeyRefused(422, "idempotency_key_reused",
                        f"This {HEADER} was used for a different request; use a new key for a new request.")
    if row.status is not None:
        return _replay(row)
    # Being worked on, or left by a request that died: take it over only in the second case,
    # and only once (compare and set on the time it was claimed).
    taken = compare_and_set(row, IdempotentRequest.status.is_(None), IdempotentRequest.claimed_at == row.claimed_at,
                            IdempotentRequest.claimed_at < now - in_progress(), claimed_at=now)
    db.session.commit()
    if not taken:
        raise KeyRefused(409, "idempotency_key_in_use",
                        f"A request with this {HEADER} is still being worked on; try again shortly.")
    g.idempotency_claim = row.id
    return None


def _replay(row: IdempotentRequest) -> Response:
    response = current_app.response_class(row.body or "", status=row.status, mimetype="application/json")
    if row.location:
        response.headers["Location"] = row.location
    response.headers["Idempotent-Replayed"] = "true"
    return response


def commit_with_answer(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """Commit the view's change together with its answer, and return that answer. The answer is
    built before the commit, from the objects as the transaction left them: nothing is read
    after the commit, so a commit that succeeded is never answered with an error."""
    response = jsonify(payload) if payload is not None else current_app.response_class(status=status)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    claim_id = g.pop("idempotency_claim", None)
    if claim_id is not None:
        db.session.execute(
            update(IdempotentRequest).where(IdempotentRequest.id == claim_id)
            .values(status=status, body=response.get_data(as_text=True),
                    location=response.headers.get("Location"))
            .execution_options(synchronize_session=False)
        )
    db.session.commit()
    return response


def release_unanswered() -> None:
    """After a request that claimed a key but stored no answer (refused, failed): release the
    claim, so that a retry runs afresh (nothing of the request was committed)."""
    claim_id = g.pop("idempotency_claim", None)
    if claim_id is None:
        return
    db.session.rollback()
    db.session.execute(delete(IdempotentRequest).where(IdempotentRequest.id == claim_id,
                                                       IdempotentRequest.status.is_(None)))
    db.session.commit()

