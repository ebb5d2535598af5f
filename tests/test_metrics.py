"""Prometheus metrics at /metrics: requests, latency, search latency and the search queue,
readable only from METRICS_ALLOWED addresses or with METRICS_TOKEN; under gunicorn the workers'
counts add up, whichever worker answers the scrape."""
import re
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from prometheus_client.parser import text_string_to_metric_families

from marketplace.extensions import db
from marketplace.search import backend, enqueue

from .servers import gunicorn

OUTSIDE = {"REMOTE_ADDR": "203.0.113.9"}


def samples(text):
    """{(sample name, frozenset of labels): value} of an exposition."""
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def requests_to(found, endpoint, method="GET", status="200"):
    return found.get(("marketplace_requests_total", frozenset(
        {"endpoint": endpoint, "method": method, "status": status}.items())), 0)


def scrape(client, **kwargs):
    response = client.get("/metrics", **kwargs)
    assert response.status_code == 200, response.status_code
    assert response.headers["Cache-Control"] == "no-store"
    return samples(response.get_data(as_text=True))


def test_requests_are_counted_by_endpoint_method_and_status(client):
    status = str(client.get("/healthz").status_code)  # 503 without a search index: counted all the same
    before = scrape(client)
    for _ in range(3):
        client.get("/healthz")
    client.get("/no/such/page")
    client.post("/healthz")
    after = scrape(client)
    assert requests_to(after, "operations.healthz", status=status) - requests_to(before, "operations.healthz",
                                                                                status=status) == 3
    assert requests_to(after, "unmatched", status="404") - requests_to(before, "unmatched", status="404") == 1
    assert requests_to(after, "unmatched", "POST", "405") - requests_to(before, "unmatched", "POST", "405") == 1
    count = ("marketplace_request_duration_seconds_count",
             frozenset({"endpoint": "operations.healthz", "method": "GET"}.items()))
    assert after[count] - before.get(count, 0) == 3
    assert not any("no/such" in str(key) for key in after)  # pages, not the addresses asked for


def test_search_latency_and_the_queue_waiting(app, client, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "SEARCH_INDEX_PATH", str(tmp_path / "index"))
    backend(app).create_empty()
    before = scrape(client)
    assert client.get("/search?q=website").status_code == 200
    enqueue("job", [101, 102, 103])
    after = scrape(client)
    searched = ("marketplace_search_duration_seconds_count", frozenset())
    assert after[searched] - before.get(searched, 0) >= 1
    assert after[("marketplace_search_queue_length", frozenset())] == 3
    assert 0 <= after[("marketplace_search_cache_bytes", frozenset())] <= app.config["SEARCH_CACHE_MB"] * 2**20


def test_metrics_are_not_public(app, client, monkeypatch):
    assert client.get("/metrics", environ_base=OUTSIDE).status_code == 404
    # A proxy on this machine relaying someone else's request, its headers not trusted.
    assert client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 404
    monkeypatch.setitem(app.config, "METRICS_ALLOWED", "203.0.113.0/24")
    assert client.get("/metrics", environ_base=OUTSIDE).status_code == 200
    assert client.get("/metrics").status_code == 404
    monkeypatch.setitem(app.config, "METRICS_TOKEN", "s3cret-scraper")
    assert client.get("/metrics", headers={"Authorization": "Bearer s3cret-scraper"}).status_code == 200
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 404


def _get(url):
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.status, response.read().decode()


def test_workers_counts_add_up_under_gunicorn(app, tmp_path):
    db.session.commit()
    with gunicorn(app, tmp_path, workers=2) as base:
        before = requests_to(samples(_get(base + "/metrics")[1]), "api.openapi_document")
        sent, pids = 0, set()
        with ThreadPoolExecutor(max_workers=8) as pool:
            # Until both workers have answered: one may still be starting while the other
            # takes every request of the first rounds.
            while len(pids) < 2 and sent < 1200:
                statuses = list(pool.map(lambda _: _get(base + "/api/v1/openapi.json")[0], range(60)))
                assert statuses == [200] * 60
                sent += 60
                # Each worker keeps its own file; the scrape (answered by either) adds them all.
                pids = {re.sub(r"\D", "", f.name) for f in (tmp_path / "metrics").glob("counter_*.db")}
        counts = [requests_to(samples(_get(base + "/metrics")[1]), "api.openapi_document") for _ in range(4)]
    assert len(pids) == 2, pids
    assert {count - before for count in counts} == {sent}


def test_the_page_parts_a_worker_keeps_are_measured(app, client):
    """marketplace_page_cache_bytes: what the worker's store of shared page parts holds after the
    request before the scrape, within PAGE_CACHE_MB."""
    assert client.get("/jobs").status_code == 200  # its list is kept as a shared part
    held = scrape(client)[("marketplace_page_cache_bytes", frozenset())]
    assert 0 < held <= app.config["PAGE_CACHE_MB"] * 2**20
