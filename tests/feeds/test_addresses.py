"""The server fetches feeds from public addresses only (server-side request forgery).

The check is made where the connection is opened, on the addresses the name resolves to then, for
the first request and each redirect; a refused address, an unknown name, a closed port and a
silent server all read the same, so the source form cannot be used to map the networks behind
the server. "Fetch now" only queues the source: the fetch runs in ``flask feeds fetch``.
"""
import ipaddress
import socket

import pytest
from sqlalchemy import select

from marketplace.audit.models import AuditEvent
from marketplace.extensions import db
from marketplace.feeds.addresses import is_public
from marketplace.feeds.fetch import UNREACHABLE
from marketplace.feeds.ingest import fetch_source
from marketplace.feeds.models import FeedSource
from marketplace.jobs.models import Job

from ..conftest import login
from ..factories import make_coop, make_user
from .conftest import data_file

DISCOURSE = "discourse-jobs.rss"

NOT_PUBLIC = [
    "127.0.0.1", "127.8.9.10", "0.0.0.0", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254",
    "100.64.0.1", "192.0.0.8", "198.18.0.1", "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255",
    "::", "::1", "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1",
    "::ffff:169.254.169.254", "2002:7f00:1::1", "2002:a00:1::1", "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe",
    "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo carrying 127.0.0.1 (the client, inverted)
]
PUBLIC = ["1.1.1.1", "81.2.69.160", "151.101.0.223", "2606:4700:4700::1111", "2a00:1450:4009:81f::200e",
          "::ffff:1.1.1.1", "2002:101:101::1"]


@pytest.mark.parametrize("text", NOT_PUBLIC)
def test_local_private_and_special_addresses_are_not_public(text):
    assert not is_public(ipaddress.ip_address(text))


@pytest.mark.parametrize("text", PUBLIC)
def test_global_unicast_addresses_are_public(text):
    assert is_public(ipaddress.ip_address(text))


def test_an_internal_feed_server_is_refused_before_any_request(app, feed_server, make_source, feed_settings):
    url = feed_server.put("/feed.rss", data_file(DISCOURSE))
    source = make_source(url)                       # added while 127.0.0.1 is trusted …
    feed_settings(FEED_ALLOWED_HOSTS="")            # … which a default site does not do
    report = fetch_source(source)
    assert report.error == UNREACHABLE
    assert feed_server.requests == []               # not one byte was sent to it
    assert db.session.scalars(select(Job)).all() == []


@pytest.mark.parametrize("host", ["localhost", "127.1", "2130706433", "0x7f.0.0.1", "[::ffff:127.0.0.1]"])
def test_names_and_spellings_of_loopback_are_refused_where_the_connection_is_opened(
        feed_server, make_source, feed_settings, host):
    """The name is resolved at fetch time, and the address it gives is what is checked."""
    url = feed_server.put("/feed.rss", data_file(DISCOURSE)).replace("127.0.0.1", host)
    feed_settings(FEED_ALLOWED_PORTS=f"80,443,{feed_server.port}")
    source = make_source(feed_server.url("/placeholder"))
    source.url = url                                # as if the name had been pointed inside later
    db.session.commit()
    assert fetch_source(source).error == UNREACHABLE
    assert feed_server.requests == []


def test_a_redirect_inside_is_refused(feed_server, make_source):
    """127.0.0.1 is trusted by name here; the redirect goes to ``localhost``, which is not."""
    feed_server.put("/inside.rss", data_file(DISCOURSE))
    feed_server.redirects["/outside.rss"] = f"http://localhost:{feed_server.port}/inside.rss"
    report = fetch_source(make_source(feed_server.url("/outside.rss")))
    assert report.error == UNREACHABLE
    assert [path for path, _ in feed_server.requests] == ["/outside.rss"]


def test_a_name_that_also_points_inside_is_refused_outright(monkeypatch, make_source, feed_server):
    """A name with one public and one private address is not tried address by address."""
    real = socket.getaddrinfo
    answers = []

    def resolver(host, port, *args, **kwargs):
        if host != "feeds.example.org":
            return real(host, port, *args, **kwargs)
        answers.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port)),
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    source = make_source("https://feeds.example.org/jobs.rss")
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    assert fetch_source(source).error == UNREACHABLE
    assert answers == ["feeds.example.org"]


def test_refused_unknown_and_closed_read_the_same(feed_server, make_source, feed_settings, closed_port):
    refused = make_source(feed_server.url("/x.rss"), name="Refused")
    closed = make_source(f"http://127.0.0.1:{closed_port}/feed.rss", name="Closed")
    unknown = make_source("http://no-such-host.invalid/feed.rss", name="Unknown")
    errors = {fetch_source(closed).error, fetch_source(unknown).error}
    feed_settings(FEED_ALLOWED_HOSTS="")
    errors.add(fetch_source(refused).error)
    assert errors == {UNREACHABLE}


def test_an_operator_can_trust_an_internal_network(feed_server, make_source, feed_settings):
    url = feed_server.put("/feed.rss", data_file(DISCOURSE))
    source = make_source(url)
    feed_settings(FEED_ALLOWED_HOSTS="127.0.0.0/8", FEED_ALLOWED_PORTS=f"{feed_server.port}")
    assert fetch_source(source).ok
    feed_settings(FEED_ALLOWED_PORTS="80,443")      # a trusted network is still held to the ports
    source.body_hash = source.etag = source.last_modified = None
    db.session.commit()
    assert fetch_source(db.session.get(FeedSource, source.id)).error == UNREACHABLE


@pytest.mark.parametrize("url, message", [
    ("http://127.0.0.1/jobs.rss", "public internet addresses"),
    ("http://[::1]/jobs.rss", "public internet addresses"),
    ("http://169.254.169.254/latest/meta-data/", "public internet addresses"),
    ("http://10.0.0.5/jobs.rss", "public internet addresses"),
    ("https://example.org:22/jobs.rss", "only be fetched on ports 80, 443"),
    ("https://example.org:99999/jobs.rss", "full address"),
    ("file:///etc/passwd", "full address"),
])
def test_the_source_form_refuses_addresses_that_will_never_be_fetched(client, coordinator, network_coop, skills,
                                                                     url, message):
    login(client, coordinator)
    response = client.post("/feeds/sources/new", data={
        "name": "Probe", "url": url, "kind": "rss", "coop": str(network_coop.id), "visibility": "public",
        "job_kind": "lead", "fetch_interval_minutes": "60", "active": "y",
    })
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalars(select(FeedSource)).all() == []


def test_fetch_now_queues_the_source_for_the_fetch_command(client, runner, coordinator, make_source, feed_server,
                                                           march_2025, taxonomy):
    source = make_source(feed_server.put("/c/jobs.rss", data_file(DISCOURSE)), active=False)
    login(client, coordinator)
    assert client.post(f"/feeds/sources/{source.id}/fetch").status_code == 302
    assert feed_server.requests == []               # the web request did not fetch
    page = client.get(f"/feeds/sources/{source.id}").get_data(as_text=True)
    assert "Fetch requested" in page and "Fetch now" not in page
    client.post(f"/feeds/sources/{source.id}/fetch")  # asking twice queues it once
    requested = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "feed_source.fetch_requested")).all()
    assert [e.actor_id for e in requested] == [coordinator.id]

    result = runner.invoke(args=["feeds", "fetch"])  # paused, but asked for
    assert result.exit_code == 0, result.output
    assert "4 new" in result.output
    db.session.expire_all()
    assert db.session.get(FeedSource, source.id).fetch_requested_at is None
    assert "No feed source is due." in runner.invoke(args=["feeds", "fetch"]).output


def test_a_failed_requested_fetch_is_not_retried_in_a_loop(client, runner, coordinator, make_source, feed_server):
    source = make_source(feed_server.url("/status/503"))
    login(client, coordinator)
    client.post(f"/feeds/sources/{source.id}/fetch")
    assert runner.invoke(args=["feeds", "fetch"]).exit_code == 1
    db.session.expire_all()
    assert db.session.get(FeedSource, source.id).fetch_requested_at is None
    assert "HTTP 503" in client.get(f"/feeds/sources/{source.id}").get_data(as_text=True)


# --- whose name imported jobs appear in ------------------------------------------------------------

def test_a_coordinator_imports_only_in_the_name_of_their_own_coop(client, runner, networks, coordinator, skills):
    other = make_coop("Someone Else", {networks["cotech"]: "active"})
    login(client, coordinator)
    page = client.get("/feeds/sources/new").get_data(as_text=True)
    assert "CoTech Network" in page and "Someone Else" not in page
    response = client.post("/feeds/sources/new", data={
        "name": "Theirs", "url": "https://example.org/jobs.rss", "kind": "rss", "coop": str(other.id),
        "visibility": "public", "job_kind": "lead", "fetch_interval_minutes": "60", "active": "y",
    })
    assert response.status_code == 422
    result = runner.invoke(args=["feeds", "add", "https://example.org/jobs.rss", "--name", "Theirs",
                                 "--coop", other.slug, "--by", coordinator.email])
    assert result.exit_code != 0 and "not a member of Someone Else" in result.output
    admin = make_user(admin=True)
    result = runner.invoke(args=["feeds", "add", "https://example.org/jobs.rss", "--name", "Theirs",
                                 "--coop", other.slug, "--by", admin.email])
    assert result.exit_code != 0 and "not a member of Someone Else" in result.output
    assert db.session.scalars(select(FeedSource)).all() == []


def test_a_source_of_another_coop_cannot_be_repointed_by_a_non_member(client, networks, make_source):
    source = make_source("https://example.org/jobs.rss")
    outsider = make_user(coops=[make_coop("Outsider Co-op", {networks["cotech"]: "active"})],
                         coordinates=[networks["cotech"]])
    login(client, outsider)
    response = client.post(f"/feeds/sources/{source.id}/edit", data={
        "name": "Hijack", "url": "https://attacker.example/jobs.rss", "kind": "rss", "coop": str(source.coop_id),
        "visibility": "public", "job_kind": "lead", "fetch_interval_minutes": "60", "active": "y",
    })
    assert response.status_code == 422
    db.session.expire_all()
    assert db.session.get(FeedSource, source.id).url == "https://example.org/jobs.rss"
