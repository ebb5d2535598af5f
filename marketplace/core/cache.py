"""Values computed once per request (the viewer, the skill list).

Kept on ``g`` in a dict that is emptied at the start of every request: ``g`` belongs to the
application context, which can outlive one request (the CLI, tests), and a cached viewer
must never carry over from one request to the next.
"""
from flask import g


def request_cached(key, compute):
    cache = g.setdefault("_request_cache", {})
    if key not in cache:
        cache[key] = compute()
    return cache[key]


def forget(key):
    g.setdefault("_request_cache", {}).pop(key, None)


def init_app(app):
    @app.before_request
    def _fresh_request_cache():
        g._request_cache = {}
