"""The bidding world of tests/bids, with criteria on the job and a second member of the poster co-op."""
import pytest

from marketplace.extensions import db
from marketplace.jobs.models import JobCriterion, JobRequirement

from ..bids.conftest import (after_deadline, alpha, alpha_user, beta, beta_user, bid_data,  # noqa: F401
                             client_for, job, poster, poster_coop, two_bids)
from ..factories import make_user

CRITERIA = (("Technical approach", 60), ("Cultural fit", 20), ("Price", 20))


def add_criteria(job, criteria=CRITERIA):  # noqa: F811
    for position, (name, weight) in enumerate(criteria):
        db.session.add(JobCriterion(job=job, position=position, name=name, weight=weight))
    db.session.add(JobRequirement(job=job, position=9, text="Has worked with charities", kind="nice_to_have"))
    db.session.commit()
    db.session.refresh(job)
    return job


@pytest.fixture
def scored_job(job):  # noqa: F811
    return add_criteria(job)


@pytest.fixture
def second_poster(poster_coop):  # noqa: F811
    return make_user("Sam Second", coops=[poster_coop])


def score_data(job, *scores, comment=""):  # noqa: F811
    """The scoring form with ``scores`` in the order of the job's criteria."""
    data = {}
    for criterion, score in zip(job.criteria, scores):
        data[f"score_{criterion.id}"] = str(score)
        data[f"comment_{criterion.id}"] = comment
    return data


@pytest.fixture
def scoring_alpha(app, scored_job, two_bids, poster):  # noqa: F811
    """The poster's member's client and the scoring page of Alpha's bid, once bids have closed."""
    with after_deadline(scored_job):
        yield client_for(app, poster), f"/jobs/{scored_job.id}/bids/{two_bids[0].id}/score"
