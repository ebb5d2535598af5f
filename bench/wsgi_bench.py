"""The app as the benchmark serves it: the real application against a bench database,
plus one bare route that measures the cost of Flask and the server alone.

gunicorn runs it with ``wsgi_bench:create_bench_app()``; the database comes from
``BENCH_DATABASE_URL`` (any database URL) or ``BENCH_DATABASE`` (a SQLite file, default:
bench/bench.db).
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from marketplace import create_app  # noqa: E402

DEFAULT_DATABASE = os.path.join(HERE, "bench.db")
# Only signs the benchmark's own session cookies.
SECRET_KEY = "bench-only-not-secret"


def bare():
    return "bare"


def index_path(database):
    """Where the search index of a SQLite bench database is kept: beside it."""
    return os.path.abspath(database) + ".index"


def create_bench_app(database=None, **overrides):
    url = os.environ.get("BENCH_DATABASE_URL") if database is None else None
    database = database or os.environ.get("BENCH_DATABASE") or DEFAULT_DATABASE
    settings = {"SQLALCHEMY_DATABASE_URI": url or "sqlite:///" + os.path.abspath(database), "SECRET_KEY": SECRET_KEY}
    if not url:  # its own search index, as a site has (bench_pages.ensure_database builds it)
        settings["SEARCH_INDEX_PATH"] = index_path(database)
    app = create_app({**settings, **overrides})
    app.add_url_rule("/bench/bare", "bench_bare", bare)
    return app
