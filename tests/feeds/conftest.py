"""Fixtures for the feeds: a real HTTP server for feed files, a clock set in March 2025 (when
the feed files in data/ were current), a feed source, and the world of the visibility matrix."""
import gzip
import hashlib
import os
import re
import socket
import time
from datetime import datetime, timezone
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import feedparser
import pytest

from marketplace.core.time import frozen_now
from marketplace.extensions import db
from marketplace.feeds import services
from marketplace.skills.services import load_taxonomy

from ..factories import make_coop, make_user
from ..matrix import SEES, STATES, VISIBILITIES, expected, world  # noqa: F401  (the shared visibility matrix)
from ..servers import in_thread

DATA = os.path.join(os.path.dirname(__file__), "data")
NOW = datetime(2025, 3, 10, 12, 0)
RSS = "application/rss+xml; charset=utf-8"


def data_file(name):
    with open(os.path.join(DATA, name), "rb") as handle:
        return handle.read()


class FeedServer:
    """Serves feed bodies at paths, honouring If-None-Match / If-Modified-Since; records every
    request's headers. Special paths: /slow (no answer for ``slow_seconds``), /trickle (a byte
    at a time), /huge (endless, no length), /huge-declared (a huge Content-Length), /status/N,
    /redirect-file and /redirect-ftp."""

    def __init__(self):
        self.files = {}
        self.redirects = {}  # path -> where it redirects to
        self.requests = []
        self.honour_conditional = True
        self.send_etag = True
        self.slow_seconds = 3
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._serving = in_thread(self._server)

    @property
    def port(self):
        return self._server.server_port

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def put(self, path, body, content_type=RSS, modified=datetime(2025, 3, 9, 6, 0), gzipped=False):
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        self.files[path] = {"body": body, "type": content_type, "etag": etag, "gzip": gzipped,
                            "modified": modified.replace(tzinfo=None)}
        return self.url(path)

    def requests_to(self, path):
        return [headers for p, headers in self.requests if p == path]

    def start(self):
        self._serving.__enter__()

    def stop(self):
        self._serving.__exit__(None, None, None)

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                server.requests.append((self.path, dict(self.headers.items())))
                if self.path in server.redirects:
                    return self._send(302, b"", {"Location": server.redirects[self.path]})
                special = getattr(self, "_" + self.path.strip("/").split("/")[0].replace("-", "_"), None)
                if special is not None:
                    return special()
                return self._file()

            def _file(self):
                item = server.files.get(self.path)
                if item is None:
                    return self._plain(404, b"not found")
                last_modified = format_datetime(item["modified"].replace(tzinfo=timezone.utc), usegmt=True)
                headers = {"Last-Modified": last_modified, "Content-Type": item["type"]}
                if server.send_etag:
                    headers["ETag"] = item["etag"]
                if server.honour_conditional and self._unmodified(item):
                    return self._send(304, b"", headers)
                body = item["body"]
                if item["gzip"] and "gzip" in self.headers.get("Accept-Encoding", ""):
                    body = gzip.compress(body)
                    headers["Content-Encoding"] = "gzip"
                return self._send(200, body, headers)

            def _unmodified(self, item):
                if_none_match = self.headers.get("If-None-Match")
                if if_none_match is not None:
                    return server.send_etag and item["etag"] in [t.strip() for t in if_none_match.split(",")]
                since = self.headers.get("If-Modified-Since")
                if since:
                    try:
                        return item["modified"] <= parsedate_to_datetime(since).replace(tzinfo=None)
                    except (TypeError, ValueError):
                        return False
                return False

            def _send(self, status, body, headers=()):
                self.send_response(status)
                for name, value in dict(headers).items():
                    self.send_header(name, value)
                if status != 304:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if status != 304:
                    self.wfile.write(body)

            def _plain(self, status, body):
                return self._send(status, body, {"Content-Type": "text/plain"})

            def _status(self):
                code = int(self.path.rstrip("/").rsplit("/", 1)[-1])
                return self._plain(code, b"error page")

            def _slow(self):
                time.sleep(server.slow_seconds)
                return self._send(200, data_file("discourse-jobs.rss"), {"Content-Type": RSS})

            def _trickle(self):
                self.send_response(200)
                self.send_header("Content-Type", RSS)
                self.end_headers()
                body = data_file("discourse-jobs.rss")
                deadline = time.monotonic() + server.slow_seconds
                try:
                    for i in range(len(body)):
                        if time.monotonic() > deadline:
                            break
                        self.wfile.write(body[i:i + 1])
                        self.wfile.flush()
                        time.sleep(0.05)
                except OSError:
                    pass
                self.close_connection = True

            def _huge(self):
                self.send_response(200)
                self.send_header("Content-Type", RSS)
                self.send_header("Connection", "close")
                self.end_headers()
                item = b"<item><title>Filler</title><description>" + b"x" * 4000 + b"</description></item>\n"
                try:
                    self.wfile.write(b'<?xml version="1.0"?><rss version="2.0"><channel><title>Huge</title>')
                    for _ in range(5000):  # 20 MB at most, stops when the client hangs up
                        self.wfile.write(item)
                except OSError:
                    pass
                self.close_connection = True

            def _huge_declared(self):
                self.send_response(200)
                self.send_header("Content-Type", RSS)
                self.send_header("Content-Length", str(2 * 1024 ** 3))
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True

            def _gzip_bomb(self):
                body = gzip.compress(b"<rss>" + b" " * (50 * 1024 * 1024))
                return self._send(200, body, {"Content-Type": RSS, "Content-Encoding": "gzip"})

            def _redirect_file(self):
                return self._send(302, b"", {"Location": "file:///etc/passwd"})

            def _redirect_ftp(self):
                return self._send(302, b"", {"Location": "ftp://127.0.0.1/feed.rss"})

        return Handler


@pytest.fixture
def feed_server(app):
    """A feed server on this machine, which the address policy trusts by name (127.0.0.1 only:
    ``localhost`` and the other loopback forms stay refused, as on a real site)."""
    server = FeedServer()
    server.start()
    saved = app.config.get("FEED_ALLOWED_HOSTS", "")
    app.config["FEED_ALLOWED_HOSTS"] = "127.0.0.1"
    try:
        yield server
    finally:
        app.config["FEED_ALLOWED_HOSTS"] = saved
        server.stop()


@pytest.fixture
def closed_port():
    """A local port with nothing listening."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def march_2025():
    """The clock when the feed files in data/ were current."""
    with frozen_now(NOW) as now:
        yield now


@pytest.fixture
def feed_settings(app):
    """Change feed settings for one test: ``feed_settings(FEED_TIMEOUT=1)``."""
    saved = {}

    def change(**values):
        for name, value in values.items():
            saved.setdefault(name, app.config.get(name))
            app.config[name] = value

    yield change
    for name, value in saved.items():
        if value is None:
            app.config.pop(name, None)
        else:
            app.config[name] = value


@pytest.fixture
def taxonomy(networks):
    load_taxonomy()
    db.session.commit()
    from marketplace.skills.services import skill_by_slug

    return skill_by_slug


@pytest.fixture
def network_coop(networks):
    """The co-op in whose name imported jobs appear: a member of both networks."""
    return make_coop("CoTech Network", {networks["cotech"]: "active", networks["workers-coop"]: "active"})


@pytest.fixture
def coordinator(networks, network_coop):
    """Coordinates both networks, and belongs to the co-op that imported jobs appear from."""
    return make_user("Cora Coordinator", coops=[network_coop],
                     coordinates=[networks["cotech"], networks["workers-coop"]])


@pytest.fixture
def make_source(network_coop, coordinator):
    def make(url, name="CoTech forum jobs", kind="rss", visibility="public", skills=(), **fields):
        values = {"name": name, "url": url, "kind": kind, "coop": network_coop, "visibility": visibility,
                  "job_kind": fields.pop("job_kind", "lead"), "active": fields.pop("active", True),
                  "fetch_interval_minutes": fields.pop("fetch_interval_minutes", 60)}
        source = services.create_source(coordinator, values, list(skills))
        db.session.commit()
        return source

    return make


def parse_feed(response):
    """Parse a feed response with feedparser; it must be well-formed (no bozo)."""
    assert response.status_code == 200, response.status_code
    parsed = feedparser.parse(response.data, response_headers={"content-type": response.content_type})
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed


def matrix_titles(parsed):
    return {tuple(m.groups()) for m in (re.match(r"MATRIX (\w+) (\w+)$", e.title) for e in parsed.entries) if m}


def private_token(user, label="reader"):
    """A live private feed token of ``user`` (committed); returns the plain token."""
    _, plain = services.create_token(user, label)
    db.session.commit()
    return plain
