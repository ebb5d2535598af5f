"""Accounts: loading users for Flask-Login."""
from ..extensions import db
from .models import User


def load_user(user_id):
    try:
        user = db.session.get(User, int(user_id))
    except (TypeError, ValueError):
        return None
    return user if user is not None and user.active else None
