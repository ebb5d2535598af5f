"""The app served as production serves it: gunicorn with several worker processes, on the test's
database, for tests of requests that race each other across processes (each worker has its own
connections, sessions and caches, so nothing is shared but the database)."""
import contextlib
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit


@contextlib.contextmanager
def in_thread(server):
    """Serve ``server`` (a socketserver) from a daemon thread until the block ends. It looks
    for shutdown every 20 ms: at the default half second, stopping took longer than the test."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@contextlib.contextmanager
def threaded_app(app, wsgi=None):
    """The app (or ``wsgi`` in front of it) on 127.0.0.1 (a free port), one thread per request,
    as a real server runs it; yields the base URL."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, wsgi or app, threaded=True)
    server.request_queue_size = 256  # a burst of simultaneous connections must not be refused
    with in_thread(server):
        yield f"http://127.0.0.1:{server.server_port}"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def gunicorn(app, tmp_path, workers=4, env=None):
    """Yields the base URL of gunicorn serving ``create_app()`` with the README's settings file,
    configured from the environment as a deployment is: the test app's database and secret key."""
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": app.config["SECRET_KEY"],
        "MAIL_BACKEND": "memory",
        "SEARCH_INDEX_PATH": str(tmp_path / "search-index"),
        "API_RATE_LIMIT": "100000/minute",
        "API_ADDRESS_RATE_LIMIT": "100000/minute",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
        **(env or {}),
    }
    log = open(tmp_path / "gunicorn.log", "wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "python:marketplace.gunicorn_conf", "--workers", str(workers),
         "--bind", f"127.0.0.1:{port}", "--timeout", "60", "marketplace:create_app()"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError("gunicorn stopped: " + (tmp_path / "gunicorn.log").read_text()[-2000:])
            with contextlib.suppress(OSError):
                if request(base_url, "GET", "/api/v1/openapi.json")[0] == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not answer within 30 s")
            time.sleep(0.2)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def request(base_url, method, path, body=None, token=None, extra_headers=None):
    """One request; returns (status, parsed JSON body or None)."""
    parts = urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    headers = {"Accept": "application/json", **(extra_headers or {})}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if body is not None:
        headers["Content-Type"] = "application/json"
    try:
        conn.request(method, path, json.dumps(body) if body is not None else None, headers)
        response = conn.getresponse()
        data = response.read()
        try:
            return response.status, json.loads(data) if data else None
        except ValueError:
            return response.status, None
    finally:
        conn.close()


def at_once(base_url, calls):
    """Send ``calls`` ((method, path, body, token[, headers]) tuples) together, one thread each; returns
    their (status, body) in the order given."""
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(lambda call: request(base_url, *call), calls))
