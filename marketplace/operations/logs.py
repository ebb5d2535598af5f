"""Logs an operator can follow: every request gets an id (the proxy's ``X-Request-ID`` when it
sends a sane one, else a new one), answered in ``X-Request-ID`` and carried by every line logged
while the request runs; each request ends with one line (method, path, status, milliseconds).
``LOG_FORMAT=json`` writes one JSON object a line, for a log collector; ``text`` (the default)
stays readable in a terminal.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import json
import logging
import re
import time
import uuid

from flask import g, has_request_context, request

if TYPE_CHECKING:
    from flask import Flask, Response

log = logging.getLogger("marketplace.requests")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# Attributes every LogRecord has: anything else on a record was passed in ``extra``.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def request_id() -> str | None:
    return g.get("request_id") if has_request_context() else None


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on every record logged while it runs."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = getattr(record, "request_id", None) or request_id()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request id, the record's extras,
    and the traceback of an exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD and v is not None})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


JsonFormatter.converter = time.gmtime


def configure(app: Flask) -> None:
    """Send the site's logs to stderr in ``LOG_FORMAT``, each line with its request id. Once per
    process: gunicorn's workers and the tests make several apps."""
    root = logging.getLogger()
    if any(getattr(h, "_marketplace", False) for h in root.handlers):
        return
    handler = logging.StreamHandler()
    handler._marketplace = True  # type: ignore[attr-defined]  # marks the handler as ours
    handler.addFilter(RequestIdFilter())
    if app.config["LOG_FORMAT"] == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def init_app(app: Flask) -> None:
    @app.before_request
    def _start() -> None:
        sent = request.headers.get("X-Request-ID", "")
        g.request_id = sent if REQUEST_ID.match(sent) else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def _finish(response: Response) -> Response:
        if "request_id" not in g:  # refused before our first hook ran
            return response
        response.headers["X-Request-ID"] = g.request_id
        log.info("%s %s %s", request.method, request.path, response.status_code, extra={
            "method": request.method, "path": request.path, "status": response.status_code,
            "ms": round((time.perf_counter() - g.request_started) * 1000, 1),
        })
        return response
