"""Rules of the API as plain functions: personal API tokens (the shared token rules of
``core.tokens``, for ``ApiToken``)."""
from ..accounts.models import User
from ..core import tokens
from .models import ApiToken


def create_token(user: User, label: str = "") -> tuple[ApiToken, str]:
    """Make a token for ``user``; returns (ApiToken, plain token). Show the plain token once."""
    return tokens.create_token(ApiToken, user, label)


def user_tokens(user: User) -> list[ApiToken]:
    return tokens.user_tokens(ApiToken, user)


def revoke_token(token: ApiToken, user: User) -> None:
    tokens.revoke_token(token, user)


def user_for_token(plain: str) -> User | None:
    """The live token's active user, or None. Notes the token's use (the caller commits)."""
    return tokens.owner_of(ApiToken, plain)
