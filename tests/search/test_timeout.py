"""A search never holds a worker longer than SEARCH_TIMEOUT_MS: PostgreSQL stops it, and the
page and the API answer 503 saying so, never 500; the request's transaction is still usable
and the next search runs as usual."""
import pytest
from sqlalchemy import func, select, text

from marketplace.extensions import db
from marketplace.search import SearchRequest, SearchTimeout, postgres_backend, query_index
from marketplace.search.query import parse
from marketplace.federation import ANONYMOUS

from ..factories import make_job, settle_index

pytestmark = [pytest.mark.postgres_only, pytest.mark.parametrize("search_backend", ["postgres"], indirect=True)]


@pytest.fixture
def slow_search(app, monkeypatch):
    """Every search spends a second in the database once its time limit is set: longer than the limit."""
    limit_time = postgres_backend.limit_time

    def slow(connection):
        limit_time(connection)
        connection.exec_driver_sql("SELECT pg_sleep(1)")

    app.config["SEARCH_TIMEOUT_MS"] = 200
    monkeypatch.setattr(postgres_backend, "limit_time", slow)
    yield
    monkeypatch.undo()
    app.config["SEARCH_TIMEOUT_MS"] = 3000


@pytest.fixture
def garden(poster):
    _, coop = poster
    job = make_job(coop, "public", "open", title="Community garden rota")
    settle_index()
    return job


def test_a_search_that_runs_too_long_is_stopped(garden, slow_search):
    with pytest.raises(SearchTimeout):
        query_index(SearchRequest(query=parse("garden")), ANONYMOUS)
    # The savepoint took the failure: the transaction goes on, with the usual limit again.
    assert db.session.scalar(select(func.count()).select_from(text("job"))) == 1
    assert db.session.scalar(text("SHOW statement_timeout")) == "0"


def test_the_page_and_the_api_answer_503(client, garden, slow_search):
    page = client.get("/search", query_string={"q": "garden"})
    assert page.status_code == 503
    assert "This search took too long" in page.get_data(as_text=True)
    api = client.get("/api/v1/jobs", query_string={"q": "garden"})
    assert api.status_code == 503
    assert api.get_json()["error"]["code"] == "search_timeout"


def test_within_the_limit_a_search_answers_and_leaves_no_limit_behind(client, garden):
    result = query_index(SearchRequest(query=parse("garden")), ANONYMOUS)
    assert result.total == 1
    assert db.session.scalar(text("SHOW statement_timeout")) == "0"
    assert client.get("/search", query_string={"q": "garden"}).status_code == 200
