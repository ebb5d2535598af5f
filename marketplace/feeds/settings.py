"""The feeds' settings (defined, with their defaults, in marketplace/config.py)."""
from flask import current_app


def setting(name: str) -> int:
    return int(current_app.config[name])


def user_agent() -> str:
    return f"CoTechMarketplace/0.1 (+{current_app.config.get('SITE_URL', 'http://127.0.0.1:5000')})"
