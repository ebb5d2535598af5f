"""The feed links of the job lists open a page saying what a feed is and how to subscribe,
with the list's feed addresses; the feeds themselves stay valid feeds."""
import re

import pytest

from ..factories import make_coop, make_job
from .conftest import parse_feed


@pytest.fixture
def job(networks, skills):
    return make_job(make_coop("Feeder", {networks["cotech"]: "active"}), "public", skills=[skills["python"]],
                    title="Python tender", location="Leeds", work_mode="hybrid")


def test_a_list_links_to_the_page_that_explains_its_feed(client, job):
    html = client.get("/jobs?skill=python&location=Leeds&sort=closing").get_data(as_text=True)
    link = re.search(r'<a href="(/feeds/subscribe\?[^"]+)">Subscribe to ', html).group(1).replace("&amp;", "&")
    page = client.get(link)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "A feed is a list of the newest jobs" in text and "How to subscribe" in text
    atom = re.search(r'id="feed-atom" value="([^"]+)"', text).group(1).replace("&amp;", "&")
    rss = re.search(r'id="feed-rss" value="([^"]+)"', text).group(1).replace("&amp;", "&")
    assert "location=Leeds" in atom and "skill=python" in atom and "sort" not in atom
    for address in (atom, rss):
        feed = parse_feed(client.get(address.replace("http://marketplace.test", "")))
        assert not feed.bozo and [e.title for e in feed.entries] == ["Python tender"]
    assert "Python tender" not in {e.title for e in parse_feed(client.get("/feeds/jobs.atom?location=York")).entries}


def test_a_feed_is_newest_first_whatever_the_lists_order(client, job, networks):
    older = make_job(job.coop, "public", title="Big older job", budget_min=90000, budget_max=None,
                     published_at=job.published_at.replace(year=job.published_at.year - 1))
    assert [e.title for e in parse_feed(client.get("/feeds/jobs.atom?sort=budget")).entries] == \
        ["Python tender", older.title]


def test_the_page_without_a_feed_explains_the_feed_of_all_jobs(client):
    assert 'value="http://marketplace.test/feeds/jobs.rss"' in client.get("/feeds/subscribe").get_data(as_text=True)


@pytest.mark.parametrize("feed", ["https://evil.example/feeds/jobs.atom", "/jobs", "/feeds/tokens",
                                  "/feeds/private/abc/jobs.atom", "javascript:alert(1)"])
def test_only_this_sites_public_feeds(client, feed):
    response = client.get("/feeds/subscribe", query_string={"feed": feed})
    assert response.status_code == 400
    assert "not the address of one of this site" in response.get_data(as_text=True)
