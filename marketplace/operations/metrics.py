"""Prometheus metrics: requests by endpoint, method and status; how long they take; how long
searches take; and how many search index changes wait in the database (``search_queue``).

Under gunicorn every worker counts in files of its own in ``PROMETHEUS_MULTIPROC_DIR`` (set by
``marketplace.gunicorn_conf`` when the environment does not), and ``/metrics`` adds them up,
whichever worker answers; the files of a worker that died are marked so by gunicorn's
``child_exit`` hook. Without that variable (``flask run``, the tests) the process counts alone.

``/metrics`` tells how busy the site is and what its pages are, so it is not public: only
addresses in ``METRICS_ALLOWED`` (the machine itself by default) or a bearer of
``METRICS_TOKEN`` may read it; anyone else gets 404. A request that came through a proxy whose
headers are not trusted (``TRUST_PROXY_HEADERS``) is not taken for the proxy's own address.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import hmac
import ipaddress
import os
import time

from flask import Blueprint, Response, abort, current_app, g, request

from ..core.fragments import cache

if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    # The metrics below open their files there at once: a command run with gunicorn's environment
    # (cron's `flask feeds fetch`) must not fail for want of the directory.
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

from prometheus_client import (CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Gauge,  # noqa: E402
                               Histogram, generate_latest, multiprocess)
from prometheus_client.core import GaugeMetricFamily  # noqa: E402

if TYPE_CHECKING:
    from collections.abc import Iterator
    from prometheus_client.metrics_core import Metric
    from typing import Any
    from typing import Iterable
    from flask import Flask

bp = Blueprint("metrics", __name__)

REQUESTS = Counter("marketplace_requests", "Requests answered, by endpoint, method and status.",
                   ["endpoint", "method", "status"])
REQUEST_SECONDS = Histogram("marketplace_request_duration_seconds", "Time taken to answer a request, by endpoint.",
                            ["endpoint", "method"],
                            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
SEARCH_SECONDS = Histogram("marketplace_search_duration_seconds", "Time a search query takes in the index.",
                           buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))
SEARCH_CACHE_BYTES = Gauge("marketplace_search_cache_bytes", "Bytes of search bitsets a worker keeps "
                           "(bounded by SEARCH_CACHE_MB).", multiprocess_mode="liveall")
PAGE_CACHE_BYTES = Gauge("marketplace_page_cache_bytes", "Bytes of shared page parts a worker keeps "
                         "(bounded by PAGE_CACHE_MB).", multiprocess_mode="liveall")
PROXY_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-IP")


class SearchQueueCollector:
    """The search index changes waiting in the database, counted when scraped (one figure for
    every worker and machine, as the queue is shared)."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from ..search import queue_length

        gauge = GaugeMetricFamily("marketplace_search_queue_length",
                                  "Search index changes waiting in the database to be applied.")
        try:
            gauge.add_metric([], queue_length())
        except Exception:  # the database is down: say nothing rather than a wrong figure
            current_app.logger.exception("metrics: the search queue could not be counted")
            return
        yield gauge


def search_cache_used(engine: object) -> None:
    """After a search: how much the engine's cache holds now (an engine without one: 0)."""
    SEARCH_CACHE_BYTES.set(engine.cache_bytes() if hasattr(engine, "cache_bytes") else 0)


def _endpoint() -> str:
    """The route's endpoint, never the path: one series per page, not per address asked for."""
    return request.url_rule.endpoint if request.url_rule is not None else "unmatched"


def _may_read() -> bool:
    token = current_app.config["METRICS_TOKEN"]
    sent = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
        return True
    if not current_app.config["TRUST_PROXY_HEADERS"] and any(h in request.headers for h in PROXY_HEADERS):
        return False  # relayed by a proxy on an allowed address: the real client is unknown
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(address in network for network in allowed_networks(current_app.config["METRICS_ALLOWED"]))


def allowed_networks(setting: str) -> list[Any]:
    """``METRICS_ALLOWED``: addresses and networks, comma-separated."""
    return [ipaddress.ip_network(part.strip(), strict=False) for part in setting.split(",") if part.strip()]


@bp.get("/metrics")
def metrics() -> Response:
    if not _may_read():
        abort(404)
    registry = CollectorRegistry()
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        multiprocess.MultiProcessCollector(registry)  # every worker's files, added up
    else:
        registry.register(_Process())
    registry.register(SearchQueueCollector())
    response = Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
    response.headers["Cache-Control"] = "no-store"
    return response


class _Process:
    """This process's own metrics (the default registry), when it counts alone."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def init_app(app: Flask) -> None:
    allowed_networks(app.config["METRICS_ALLOWED"])  # a mistyped setting stops the start, not a scrape

    @app.before_request
    def _start() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _count(response: Response) -> Response:
        started = g.pop("metrics_started", None)
        if started is not None:
            endpoint = _endpoint()
            REQUESTS.labels(endpoint, request.method, str(response.status_code)).inc()
            REQUEST_SECONDS.labels(endpoint, request.method).observe(time.perf_counter() - started)
        # The worker's own store of page parts (core.partcache); a shared store (Redis) has no such figure.
        PAGE_CACHE_BYTES.set(getattr(getattr(cache, "cache", None), "bytes", 0))
        return response

    app.register_blueprint(bp)
