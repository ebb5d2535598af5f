"""Personal API tokens, sent as ``Authorization: Bearer …`` and acting as their user."""
from ..core.tokens import PersonalToken
from ..extensions import db


class ApiToken(PersonalToken, db.Model):
    __tablename__ = "api_token"
    AUDIT = "api_token"
    NOUN, NOUNS = "API token", "API tokens"
