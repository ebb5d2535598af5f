"""``/healthz``: can this worker serve? The database answers and the search index opens.
``/favicon.ico``, asked for by browsers whatever the pages link to: the site's icon.

It says "ok" or "unavailable" and nothing else: what failed, and why, goes to the log, never
to whoever asks (the address is public, as monitors need it to be). Never cached.
"""
import logging

from flask import Blueprint, current_app, jsonify, send_from_directory
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db
from ..search import backend

bp = Blueprint("operations", __name__)
log = logging.getLogger(__name__)


def problems():
    """What stops this worker from serving, in words for the log (empty when all is well)."""
    found = []
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        db.session.rollback()
        found.append(f"database: {type(error).__name__}: {error}".splitlines()[0])
    try:
        status = backend().status()
    except Exception as error:  # a damaged index must still give an answer, not a 500
        status = f"{type(error).__name__}: {error}"
    if status != "ready":
        found.append(f"search: {status}")
    return found


@bp.get("/healthz")
def healthz():
    found = problems()
    for problem in found:
        log.error("health check failed: %s", problem)
    response = jsonify({"status": "unavailable" if found else "ok"})
    response.status_code = 503 if found else 200
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/favicon.ico")
def favicon():
    return send_from_directory(str(current_app.static_folder), "favicon.svg", mimetype="image/svg+xml",
                               max_age=86400)
