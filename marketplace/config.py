"""Settings, read from the environment with safe defaults.

The default install needs nothing set: SQLite under ``instance/``, mail printed to the
console. Production sets at least ``SECRET_KEY`` and ``DATABASE_URL``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING
import os
from datetime import timedelta

if TYPE_CHECKING:
    from typing import Any
    from collections.abc import MutableMapping

DEV_SECRET_KEY = "dev-only-not-secret"


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def _float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value not in (None, "") else default


def _database_url(instance_path: str) -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        return "sqlite:///" + os.path.join(instance_path, "marketplace.db")
    # Hosting platforms hand out postgres:// URLs; SQLAlchemy wants a driver name.
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url[len("postgres://"):]
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def from_environment(instance_path: str) -> dict[Any, Any]:
    """Return the settings dictionary for an app whose instance folder is ``instance_path``."""
    return {
        "SECRET_KEY": os.environ.get("SECRET_KEY"),
        "SQLALCHEMY_DATABASE_URI": _database_url(instance_path),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "SITE_NAME": os.environ.get("SITE_NAME", "CoTech Marketplace"),
        # Unset, the site is where `make run` serves it: on PORT, so emails link to the right port.
        "SITE_URL": os.environ.get("SITE_URL") or f"http://127.0.0.1:{_int('PORT', 5000)}",
        # Logs on stderr: "text" lines, or "json" (one object a line) for a log collector.
        "LOG_FORMAT": os.environ.get("LOG_FORMAT", "text"),
        "TIMEZONE": os.environ.get("TIMEZONE", "Europe/London"),
        # Languages the site answers in, the first by default; a browser asking for another of
        # them (Accept-Language) gets it once translations/<code>/ has its catalogue.
        "LANGUAGES": [code.strip() for code in os.environ.get("LANGUAGES", "en_GB").split(",") if code.strip()],
        "JOBS_PER_PAGE": _int("JOBS_PER_PAGE", 20),
        "COOPS_PER_PAGE": _int("COOPS_PER_PAGE", 20),
        # Days an award stays "intended" (unsuccessful bidders may ask why; the poster may
        # withdraw it) before it is final; 0: final at once.
        "AWARD_STANDSTILL_DAYS": _int("AWARD_STANDSTILL_DAYS", 0),
        # Mail: "console" prints messages (development); "smtp" sends them.
        "MAIL_BACKEND": os.environ.get("MAIL_BACKEND", "console"),
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", "localhost"),
        "MAIL_PORT": _int("MAIL_PORT", 25),
        "MAIL_USE_TLS": _bool("MAIL_USE_TLS"),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME"),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD"),
        "MAIL_DEFAULT_SENDER": os.environ.get("MAIL_DEFAULT_SENDER", "marketplace@coops.tech"),
        "MAIL_TIMEOUT": _int("MAIL_TIMEOUT", 10),
        # Slowing down password guessing (accounts.services, "Signing in" in README.md): past this
        # many failures (per device cookie, per account from other clients, 4x per client
        # address) each attempt waits LOGIN_DELAY_SECONDS, doubled per further failure, at most
        # LOGIN_MAX_DELAY_MINUTES; failures are forgotten after the window.
        "LOGIN_MAX_FAILURES": _int("LOGIN_MAX_FAILURES", 5),
        "LOGIN_DELAY_SECONDS": _int("LOGIN_DELAY_SECONDS", 60),
        "LOGIN_MAX_DELAY_MINUTES": _int("LOGIN_MAX_DELAY_MINUTES", 15),
        "LOGIN_FAILURE_WINDOW_MINUTES": _int("LOGIN_FAILURE_WINDOW_MINUTES", 24 * 60),
        # How long a browser that signed in stays known (its device cookie).
        "DEVICE_COOKIE_DAYS": _int("DEVICE_COOKIE_DAYS", 365),
        "PASSWORD_RESET_MAX_AGE": _int("PASSWORD_RESET_MAX_AGE", 3600),
        # How long the link that confirms a new account's email address works.
        "EMAIL_VERIFY_HOURS": _int("EMAIL_VERIFY_HOURS", 48),
        # Werkzeug's method for new password hashes (stored hashes name their own).
        "PASSWORD_HASH_METHOD": os.environ.get("PASSWORD_HASH_METHOD", "scrypt"),
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE"),
        # Strict-Transport-Security on answers over https (0: not sent).
        "HSTS_SECONDS": _int("HSTS_SECONDS", 365 * 24 * 3600),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE"),
        "REMEMBER_COOKIE_DURATION": timedelta(days=_int("REMEMBER_DAYS", 30)),
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "PREFERRED_URL_SCHEME": os.environ.get("PREFERRED_URL_SCHEME", "http"),
        "TRUST_PROXY_HEADERS": _int("TRUST_PROXY_HEADERS", 0),
        # Search: "whoosh" (an index on local disk) or "postgres" (shared by every app server).
        "SEARCH_BACKEND": os.environ.get("SEARCH_BACKEND", "whoosh"),
        "SEARCH_INDEX_PATH": os.environ.get("SEARCH_INDEX_PATH") or None,  # instance/search-index
        "SEARCH_LOCK_TIMEOUT": _float("SEARCH_LOCK_TIMEOUT", 0.25),  # seconds a request waits for the writer
        "SEARCH_CACHE_MB": _int("SEARCH_CACHE_MB", 64),
        # A rebuild of a big index (20,000 documents or more) runs in this many processes.
        "SEARCH_BUILD_PROCS": _int("SEARCH_BUILD_PROCS", min(4, os.cpu_count() or 1)),
        "SEARCH_BUILD_MEMORY_MB": _int("SEARCH_BUILD_MEMORY_MB", 512),  # postings held before a segment is written
        "SEARCH_AUTO_BUILD_MAX": _int("SEARCH_AUTO_BUILD_MAX", 2000),
        "SEARCH_PER_PAGE": _int("SEARCH_PER_PAGE", 20),
        "ALERTS_DIGEST_HOUR": _int("ALERTS_DIGEST_HOUR", 7),
        "ALERTS_WEEKLY_DAY": _int("ALERTS_WEEKLY_DAY", 1),  # the co-ops' weekly digest: 1 Monday … 7 Sunday
        "SEARCH_TIMEOUT_MS": _int("SEARCH_TIMEOUT_MS", 3000),  # longest a search runs (PostgreSQL backend)
        # Page parts shared by viewers of the same audience (job lists, skill pages, home) are
        # cached this many seconds at most (0: never), and always dropped by the next write.
        # CACHE_TYPE "SimpleCache" keeps them in each worker process; "RedisCache" with
        # CACHE_REDIS_URL (e.g. "redis://127.0.0.1:6379/0") shares them between workers.
        "PAGE_CACHE_SECONDS": _int("PAGE_CACHE_SECONDS", 60),
        "CACHE_TYPE": os.environ.get("CACHE_TYPE", "SimpleCache"),
        "CACHE_REDIS_URL": os.environ.get("CACHE_REDIS_URL", ""),
        "CACHE_THRESHOLD": _int("CACHE_THRESHOLD", 2000),  # SimpleCache: parts kept per process
        "PAGE_CACHE_MB": _float("PAGE_CACHE_MB", 16),  # SimpleCache: and their size at most, per process
        "CACHE_KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "marketplace:"),
        # Feeds out: entries per feed, and how long readers may reuse one (seconds).
        "FEED_ITEMS": _int("FEED_ITEMS", 50),
        "FEED_CACHE_SECONDS": _int("FEED_CACHE_SECONDS", 300),
        # Feeds in: give up after this many seconds or bytes; read at most this many entries a fetch.
        "FEED_TIMEOUT": _int("FEED_TIMEOUT", 20),
        # A 1,000-release Contracts Finder page is 5–7 MB.
        "FEED_MAX_BYTES": _int("FEED_MAX_BYTES", 16 * 1024 * 1024),
        "FEED_MAX_ENTRIES": _int("FEED_MAX_ENTRIES", 2000),
        # Imported entries without a closing date stay open this many days after publication.
        "FEED_DEFAULT_OPEN_DAYS": _int("FEED_DEFAULT_OPEN_DAYS", 30),
        "FEED_FETCH_INTERVAL_MINUTES": _int("FEED_FETCH_INTERVAL_MINUTES", 60),
        # Feeds are fetched from public internet addresses on these ports only. Hosts named in
        # FEED_ALLOWED_HOSTS (names, addresses, or networks such as 10.1.0.0/16, comma-separated)
        # are fetched whatever their address: for feeds served on the operator's own network.
        "FEED_ALLOWED_PORTS": os.environ.get("FEED_ALLOWED_PORTS", "80,443"),
        "FEED_ALLOWED_HOSTS": os.environ.get("FEED_ALLOWED_HOSTS", ""),
        # API rate limits ("N/second|minute|hour|day", several joined by ";"): per API token, and
        # per client address whatever it sends. Counts live in RATELIMIT_STORAGE_URI: "memory://"
        # counts per worker process; "redis://127.0.0.1:6379" shares them between workers and machines.
        "API_RATE_LIMIT": os.environ.get("API_RATE_LIMIT", "300/minute"),
        "API_ADDRESS_RATE_LIMIT": os.environ.get("API_ADDRESS_RATE_LIMIT", "600/minute"),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_HEADERS_ENABLED": True,
        # How long an API write's answer is kept for a retry with the same Idempotency-Key.
        "IDEMPOTENCY_HOURS": _int("IDEMPOTENCY_HOURS", 24),
        "IDEMPOTENCY_CLAIM_SECONDS": _int("IDEMPOTENCY_CLAIM_SECONDS", 90),
        # Who may read /metrics: addresses and networks (comma-separated), or a bearer of the token.
        "METRICS_ALLOWED": os.environ.get("METRICS_ALLOWED", "127.0.0.1,::1"),
        "METRICS_TOKEN": os.environ.get("METRICS_TOKEN", ""),
        # Documents attached to jobs, questions, answers and bids: "local" keeps them in
        # DOCUMENTS_PATH (default instance/documents); "s3" in DOCUMENTS_S3_BUCKET of an
        # S3-compatible store (DOCUMENTS_S3_ENDPOINT for one other than AWS; credentials from
        # AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; needs the "s3" extra), which every app
        # server shares. DOCUMENTS_TYPES: pdf, odt, ods, docx, xlsx, png, jpeg, txt, csv.
        "DOCUMENTS_STORAGE": os.environ.get("DOCUMENTS_STORAGE", "local"),
        "DOCUMENTS_PATH": os.environ.get("DOCUMENTS_PATH") or os.path.join(instance_path, "documents"),
        "DOCUMENTS_S3_BUCKET": os.environ.get("DOCUMENTS_S3_BUCKET", ""),
        "DOCUMENTS_S3_ENDPOINT": os.environ.get("DOCUMENTS_S3_ENDPOINT", ""),
        "DOCUMENTS_S3_REGION": os.environ.get("DOCUMENTS_S3_REGION", ""),
        "DOCUMENTS_S3_PREFIX": os.environ.get("DOCUMENTS_S3_PREFIX", ""),
        "DOCUMENTS_MAX_MB": _float("DOCUMENTS_MAX_MB", 20),
        "DOCUMENTS_TYPES": os.environ.get("DOCUMENTS_TYPES", "pdf,odt,ods,docx,xlsx,png,jpeg,txt,csv"),
        # The largest request (a form with several files): larger ones answer 413.
        "MAX_CONTENT_LENGTH": int(_float("MAX_REQUEST_MB", 4 * _float("DOCUMENTS_MAX_MB", 20) + 1) * 1024 * 1024),
        # OCDS export: each job's ocid is this prefix and its id (register a prefix with OCP to publish).
        "OCDS_OCID_PREFIX": os.environ.get("OCDS_OCID_PREFIX", "ocds-cotech-"),
    }


class ConfigError(RuntimeError):
    """The app cannot start with these settings."""


def check(config: MutableMapping[str, Any], debug: bool) -> None:
    """Refuse to start a production app without a real secret key."""
    if config.get("SECRET_KEY"):
        return
    if debug or config.get("TESTING"):
        config["SECRET_KEY"] = DEV_SECRET_KEY
        return
    raise ConfigError(
        "SECRET_KEY is not set. Set the SECRET_KEY environment variable to a long random "
        "string (for example: python -c 'import secrets; print(secrets.token_hex(32))'), "
        "or run with FLASK_DEBUG=1 for development."
    )

