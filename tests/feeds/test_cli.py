"""flask --app marketplace feeds fetch | add | list"""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from marketplace.core.time import frozen_now
from marketplace.extensions import db
from marketplace.feeds.models import FeedSource
from marketplace.jobs.models import Job

from .conftest import NOW, data_file

pytestmark = pytest.mark.usefixtures("taxonomy")


def job_count():
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Job))


def test_fetch_every_due_source_with_a_progress_bar(runner, feed_server, make_source, march_2025):
    forum = make_source(feed_server.put("/forum.rss", data_file("discourse-jobs.rss")), name="Forum")
    tenders = make_source(feed_server.put("/ocds.json", data_file("contracts-finder.json")), name="Tenders",
                          kind="ocds", job_kind="tender")
    make_source(feed_server.put("/paused.rss", data_file("partner-board.atom")), name="Paused board", active=False)

    result = runner.invoke(args=["feeds", "fetch"])

    assert result.exit_code == 0, result.output
    assert "Fetching feeds" in result.output
    assert "Forum: 4 new, 0 updated, 0 unchanged, 1 already closed." in result.output
    assert "Tenders: 4 new, 0 updated, 0 unchanged, 1 already closed, 2 skipped." in result.output
    assert "Paused board" not in result.output
    assert job_count() == 8
    assert feed_server.requests_to("/paused.rss") == []

    # Nothing is due again until the interval has passed.
    assert "No feed source is due." in runner.invoke(args=["feeds", "fetch"]).output
    with frozen_now(NOW + timedelta(minutes=61)):
        result = runner.invoke(args=["feeds", "fetch"])
    assert "Forum: not modified since the last fetch." in result.output
    assert "Tenders: not modified since the last fetch." in result.output
    assert job_count() == 8
    db.session.expire_all()
    assert db.session.get(FeedSource, forum.id).last_fetched_at == NOW + timedelta(minutes=61)
    assert db.session.get(FeedSource, tenders.id).entries_seen == 4


def test_fetch_one_source_even_if_paused_or_not_due(runner, feed_server, make_source, march_2025):
    source = make_source(feed_server.put("/board.atom", data_file("partner-board.atom")), active=False)
    result = runner.invoke(args=["feeds", "fetch", "--source", str(source.id)])
    assert result.exit_code == 0, result.output
    assert job_count() == 2
    again = runner.invoke(args=["feeds", "fetch", "--source", str(source.id), "--force"])
    assert "0 new, 0 updated, 2 unchanged" in again.output
    assert "If-None-Match" not in feed_server.requests_to("/board.atom")[-1]


def test_a_failing_source_is_reported_and_the_others_still_run(runner, feed_server, make_source, march_2025):
    make_source(feed_server.url("/status/500"), name="Broken")
    make_source(feed_server.put("/forum.rss", data_file("discourse-jobs.rss")), name="Forum")
    result = runner.invoke(args=["feeds", "fetch"])
    assert result.exit_code == 1
    assert "Broken: failed: The server answered HTTP 500 Internal Server Error." in result.output
    assert "Forum: 4 new" in result.output
    assert job_count() == 4
    listing = runner.invoke(args=["feeds", "list"]).output
    assert "FAILING" in listing and "last error: The server answered HTTP 500" in listing


def test_fetch_an_unknown_source(runner, networks):
    result = runner.invoke(args=["feeds", "fetch", "--source", "42"])
    assert result.exit_code == 1 and "There is no feed source 42." in result.output


def test_add_a_source(runner, coordinator, network_coop):
    result = runner.invoke(args=[
        "feeds", "add", "https://www.contractsfinder.service.gov.uk/Published/Notices/OCDS/Search?stages=tender",
        "--name", "Contracts Finder", "--coop", network_coop.slug, "--kind", "ocds", "--job-kind", "tender",
        "--skill", "python", "--skill", "web-design", "--interval", "120", "--by", coordinator.email,
    ])
    assert result.exit_code == 0, result.output
    source = db.session.scalars(select(FeedSource)).one()
    assert result.output.strip() == f"Feed source {source.id} added: Contracts Finder ({source.url})."
    assert (source.kind, source.job_kind, source.visibility, source.fetch_interval_minutes) == ("ocds", "tender", "public", 120)
    assert sorted(s.slug for s in source.default_skills) == ["python", "web-design"]
    assert source.created_by_id == coordinator.id
    assert "Contracts Finder" in runner.invoke(args=["feeds", "list"]).output


@pytest.mark.parametrize("args, message", [
    (["ftp://example.coop/x", "--name", "X", "--coop", "cotech-network", "--by", "COORD"], "starting with https://"),
    (["https://example.coop/x", "--name", "X", "--coop", "nobody", "--by", "COORD"], "There is no co-op nobody."),
    (["https://example.coop/x", "--name", "X", "--coop", "cotech-network", "--by", "who@example.coop"], "There is no user"),
    (["https://example.coop/x", "--name", "X", "--coop", "cotech-network", "--skill", "cobol", "--by", "COORD"], "There is no skill cobol."),
    (["https://example.coop/x", "--name", " ", "--coop", "cotech-network", "--by", "COORD"], "Give the source a name."),
    (["https://example.coop/x", "--name", "X", "--coop", "cotech-network", "--interval", "1", "--by", "COORD"], "Fetch every 5 minutes"),
    (["https://example.coop/x", "--name", "X", "--coop", "cotech-network", "--by", "PLAIN"], "Only network coordinators and site admins"),
])
def test_add_refuses_bad_input_with_nothing_saved(runner, coordinator, network_coop, args, message):
    from ..factories import make_user

    plain = make_user(coops=[network_coop])
    args = [{"COORD": coordinator.email, "PLAIN": plain.email}.get(a, a) for a in args]
    result = runner.invoke(args=["feeds", "add", *args])
    assert result.exit_code == 1
    assert message in result.output
    assert db.session.scalars(select(FeedSource)).all() == []
