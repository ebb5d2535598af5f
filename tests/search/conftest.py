"""Search fixtures: every test runs on the Whoosh backend, and again on the PostgreSQL backend
when the suite runs on PostgreSQL; the index starts empty for each test, as the tables do."""
import re
from html import unescape

import pytest

from marketplace.extensions import db
from marketplace.search import backend

from ..factories import make_coop, make_user
from ..matrix import SEES, STATES, VISIBILITIES, as_viewer, expected, world  # noqa: F401  (the shared visibility matrix)

BACKENDS = ("whoosh", "postgres")


@pytest.fixture(scope="session")
def index_root(tmp_path_factory):
    return tmp_path_factory.mktemp("search-index")


def pytest_generate_tests(metafunc):
    """Each test once per backend, unless it says which (``whoosh_only``), or its module is
    about no backend in particular (``ONE_BACKEND = True``)."""
    if "search_backend" not in metafunc.fixturenames:
        return
    for marker in metafunc.definition.iter_markers("parametrize"):
        if marker.args and marker.args[0] == "search_backend":
            return
    names = BACKENDS[:1] if getattr(metafunc.module, "ONE_BACKEND", False) else BACKENDS
    metafunc.parametrize("search_backend", names, indirect=True)


@pytest.fixture(autouse=True)
def search_backend(request, app, index_root, _database):
    """The backend under test, configured for this test, with an empty index."""
    name = request.param
    if name == "postgres" and db.engine.dialect.name != "postgresql":
        pytest.skip("the PostgreSQL backend needs the suite to run on PostgreSQL")
    app.config["SEARCH_BACKEND"] = name
    app.config["SEARCH_INDEX_PATH"] = str(index_root)
    if name == "whoosh":
        backend(app).create_empty()
    yield name
    app.config["SEARCH_BACKEND"] = "whoosh"


def whoosh_only(test):
    """For tests of the Whoosh index itself (its files, its lock)."""
    return pytest.mark.parametrize("search_backend", ["whoosh"], indirect=True)(test)


# --- reading the search page -------------------------------------------------------------------

class Answer:
    """The parts of a search page the tests look at."""

    def __init__(self, response):
        self.status = response.status_code
        self.html = response.get_data(as_text=True)

    @property
    def titles(self):
        """Result titles, in order."""
        found = re.findall(r'<article class="card[^"]*">\s*<h3><a href="[^"]+">([^<]+)</a>', self.html)
        return [unescape(t) for t in found]

    @property
    def total(self):
        match = re.search(r"(?:of|Showing) ([\d,]+) (?:jobs?|co-ops?)</p>", self.html)
        return int(match.group(1).replace(",", "")) if match else 0

    def facet(self, name):
        """{label: (count, url or None when chosen)} of one facet."""
        section = re.search(rf'<section class="facet" aria-labelledby="facet-{name}">(.*?)</section>',
                            self.html, re.S)
        if not section:
            return {}
        values = {}
        for item in re.findall(r"<li>(.*?)</li>", section.group(1), re.S):
            chosen = re.search(r'<strong aria-current="true">(.+) \((\d+)\)</strong>', item)
            if chosen:
                values[unescape(chosen.group(1))] = (int(chosen.group(2)), None)
                continue
            link = re.search(r'<a href="([^"]+)">(.+?)</a> \((\d+)\)', item)
            values[unescape(link.group(2))] = (int(link.group(3)), unescape(link.group(1)))
        return values

    @property
    def facet_names(self):
        return re.findall(r'<section class="facet" aria-labelledby="facet-(\w+)">', self.html)

    @property
    def notices(self):
        return [unescape(n) for n in re.findall(r'class="flash flash-info">([^<]+)', self.html)]

    @property
    def suggestion(self):
        match = re.search(r"Did you mean <a[^>]*>([^<]+)</a>", self.html)
        return unescape(match.group(1)) if match else None

    @property
    def snippets(self):
        return re.findall(r'<p class="snippet">(.*?)</p>', self.html, re.S)

    @property
    def kind_counts(self):
        return {k.lower(): int(n) for k, n in re.findall(r"(Jobs|Co-ops) \((\d+)\)", self.html)}


@pytest.fixture
def search(client):
    """``search(q, **args)`` → ``Answer`` of GET /search as the client's user."""
    def run(q=None, **args):
        if q is not None:
            args["q"] = q
        return Answer(client.get("/search", query_string=args))
    return run


@pytest.fixture
def poster(networks, skills):
    """A CoTech co-op that posts jobs, and one of its members."""
    coop = make_coop("Outlandish Bytes", {networks["cotech"]: "active", networks["workers-coop"]: "active"})
    return make_user("Pat Poster", coops={coop: "admin"}), coop


@pytest.fixture
def job_form(skills):
    """Valid form data for posting a job through /jobs/new (as tests/jobs posts them)."""
    from datetime import timedelta

    from marketplace.core.time import to_local, utcnow

    def local(moment):
        return to_local(moment).strftime("%Y-%m-%dT%H:%M")

    now = utcnow()
    return {
        "title": "Accessible booking system", "summary": "A booking system for a community energy co-op.",
        "description": "We need **WCAG 2.2 AA**.", "kind": "tender", "skills": [str(skills["python"].id)],
        "budget_type": "fixed", "budget_min": "8000", "budget_max": "12000", "currency": "GBP",
        "work_mode": "remote", "location": "", "questions_deadline": local(now + timedelta(days=7)),
        "bids_deadline": local(now + timedelta(days=14)), "start_date": "", "visibility": "public",
        "publish": "Publish", "confirmed": "yes",
    }
