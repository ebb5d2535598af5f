"""Rules of the API as plain functions: personal API tokens (same scheme as private feed tokens)."""
import secrets

from sqlalchemy import select

from ..audit.services import record
from ..core.time import utcnow
from ..extensions import db
from ..feeds.services import LAST_USED_RESOLUTION, hash_token
from .models import ApiToken


class ApiTokenError(Exception):
    pass


def create_token(user, label=""):
    """Make a token for ``user``; returns (ApiToken, plain token). Show the plain token once."""
    plain = secrets.token_urlsafe(32)
    token = ApiToken(user=user, token_hash=hash_token(plain), label=(label or "").strip()[:80])
    db.session.add(token)
    record("api_token.created", token, actor=user, label=token.label)
    return token, plain


def revoke_token(token, user):
    if token.user_id != user.id:
        raise ApiTokenError("This is not one of your API tokens.")
    if token.revoked_at is not None:
        raise ApiTokenError("This API token was already revoked.")
    token.revoked_at = utcnow()
    record("api_token.revoked", token, actor=user, label=token.label)


def user_for_token(plain):
    """The live token's active user, or None. Notes the token's use (the caller commits)."""
    if not plain or len(plain) > 100:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(plain)))
    if token is None or token.revoked_at is not None or not token.user.is_active:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        token.last_used_at = now
    return token.user
