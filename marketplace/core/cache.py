"""Values computed once per request (the viewer, the skill list).

Kept on ``g`` in a dict that is emptied at the start of every request: ``g`` belongs to the
application context, which can outlive one request (the CLI, tests), and a cached viewer
must never carry over from one request to the next.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Flask, g

T = TypeVar("T")


def request_cached(key: str, compute: Callable[[], T]) -> T:
    cache = g.setdefault("_request_cache", {})
    if key not in cache:
        cache[key] = compute()
    return cache[key]


def has_cached(key: str) -> bool:
    return key in g.setdefault("_request_cache", {})


def remember(key: str, value: object) -> None:
    g.setdefault("_request_cache", {})[key] = value


def forget(key: str) -> None:
    g.setdefault("_request_cache", {}).pop(key, None)


def init_app(app: Flask) -> None:
    @app.before_request
    def _fresh_request_cache() -> None:
        g._request_cache = {}
