"""Security headers on every answer: pages, feeds, the API and errors alike.

The site runs no inline script or style (only its own files), so its Content-Security-Policy
allows its own files only; no page may be framed (the award and withdraw buttons cannot be clickjacked); types
are never sniffed; an address that holds a token (private feeds, password resets) is never sent
on as a referrer; HSTS is sent on answers over https (``request.is_secure``, which trusts
``X-Forwarded-Proto`` only from the proxies ``TRUST_PROXY_HEADERS`` names).

Written out rather than taken from Flask-Talisman: its Referrer-Policy cannot change per view,
and it believes ``X-Forwarded-Proto`` from any client.
"""
from __future__ import annotations

from typing import TYPE_CHECKING
from flask import request

if TYPE_CHECKING:
    from flask import Flask
    from flask import Response

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
    "object-src 'none'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
])


def init_app(app: Flask) -> None:
    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("X-Content-Type-Options", "nosniff")
        holds_token = "token" in (request.view_args or {})
        headers["Referrer-Policy"] = "no-referrer" if holds_token else "strict-origin-when-cross-origin"
        if request.is_secure and app.config["HSTS_SECONDS"]:
            headers["Strict-Transport-Security"] = f"max-age={app.config['HSTS_SECONDS']}; includeSubDomains"
        return response
