"""API v1 fuzzed against its OpenAPI description with schemathesis: whatever the request, the
answer is no server error, and its status code, content type, headers and body are the ones
the description allows. Run anonymously and with a co-op member's bearer token, over a small
world in which generated ids and slugs are swapped for real ones half the time, so that the
200s are reached too, not only the 404s; then the values that fuzzing finds only by luck.

Every operation is fuzzed before a test fails, and each failure says how to replay it.
"""
from datetime import date

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core import NOT_SET
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (content_type_conformance, response_headers_conformance,
                                               response_schema_conformance, status_code_conformance)
from sqlalchemy import select

from marketplace.api.openapi import OPERATION_METHODS
from marketplace.bids import services as bid_services
from marketplace.extensions import db
from marketplace.federation.models import Visibility
from marketplace.notifications.models import Notification
from marketplace.questions.services import ask_question

from ..conftest import DATABASE
from ..factories import batched, bearer, make_coop, make_job, make_user

# Hypothesis's "explain" phase traces coverage: slow, and the curl of each failure says more.
FUZZ_PHASES = [phase for phase in Phase if phase != Phase.explain]
# Each database's run draws its own examples (a fixed seed each, so a failure replays): the two
# runs together try twice as many requests as one would, for the time of one.
FUZZ_SEED = {"SQLite": 1, "PostgreSQL": 2}[DATABASE]
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]


@pytest.fixture
@batched
def world(networks, skills):
    """Co-ops of each kind of network membership, jobs of each visibility and state, and the
    member's bid, question and notification."""
    member_coop = make_coop("Fuzz Workers", {networks["cotech"]: "active"}, size=7,
                            skills=[skills["python"]], website="https://fuzz.example.coop")
    federated = make_coop("Federated Makers", {networks["workers-coop"]: "active"})
    make_coop("Unaffiliated Co-op")
    member = make_user(coops={member_coop: "admin"})
    other = make_user(coops=[federated])
    jobs = {}
    for coop in (member_coop, federated):
        for visibility in Visibility:
            for state in ("open", "closed", "draft", "withdrawn"):
                jobs[coop, visibility, state] = make_job(
                    coop, visibility.value, state, user=member if coop is member_coop else other,
                    skills=[skills["python"], skills["devops"]])
    make_job(member_coop, "public", "open", budget_max=None, start_date=date(2030, 1, 6),
             looking_for_partners=True, kind="lead", budget_type="day_rate", currency="EUR")
    bid = bid_services.save_bid(jobs[federated, Visibility.PUBLIC, "open"], member_coop, member,
                                bid_services.BidValues(amount=3000, proposal="We can do it."))
    ask_question(jobs[member_coop, Visibility.FEDERATION, "open"], federated, other, "When do you start?")
    db.session.commit()
    return {
        "member": member,
        # Real values for parameters that a fuzzer would hardly ever guess.
        "path": {"job_id": [j.id for j in jobs.values()], "slug": [member_coop.slug, federated.slug],
                 "bid_id": [bid.id],
                 "notification_id": list(db.session.scalars(select(Notification.id)))},
        "query": {"skill": list(skills), "coop": [member_coop.slug, federated.slug]},
    }


@pytest.fixture(params=["anonymous", "member"])
def caller_headers(request, world):
    if request.param == "anonymous":
        return {}
    return bearer(world["member"])


def _sometimes_real(real):
    """A schemathesis flatmap hook: half the time, the parameters named in ``real`` take one
    of its values."""
    def swap(context, parameters):
        choices = {name: st.sampled_from(real[name]) for name in parameters or () if name in real}
        if not choices:
            return st.just(parameters)
        return st.one_of(st.just(parameters),
                         st.fixed_dictionaries(choices).map(lambda values: {**parameters, **values}))
    return swap


@pytest.fixture
def api_schema(app, world):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    schema.hook("flatmap_path_parameters")(_sometimes_real(world["path"]))
    schema.hook("flatmap_query")(_sometimes_real(world["query"]))
    return schema


def _operations(schema):
    """(schemathesis operation, its definition) for each operation of the served description."""
    for path, item in schema.raw_schema["paths"].items():
        for method in OPERATION_METHODS:
            if method in item:
                yield schema.find_operation_by_label(f"{method.upper()} {path}"), item[method]


# The operations are fuzzed in parts, each its own test, so that parallel workers share them.
PARTS = 3


@pytest.mark.parametrize("part", range(PARTS))
def test_every_answer_is_described(api_schema, client, caller_headers, part):
    failures = []
    for operation, definition in list(_operations(api_schema))[part::PARTS]:
        # Without a token, an operation that needs one answers 401 whatever is sent.
        refused = not caller_headers and {} not in definition.get("security", [{}])
        failures += _fuzz(operation, client, caller_headers, examples=5 if refused else 15)
    if failures:
        pytest.fail("\n\n".join(failures), pytrace=False)


# Values that fuzzing hits only by luck: ids past the database's integers, a NUL character
# (PostgreSQL text cannot hold one), a string longer than any limit.
HOSTILE = {"integer": [0, 2**31, 2**63], "string": ["\x00", "a\x00b", "x" * 5000]}


def test_hostile_parameters_are_answered_as_described(api_schema, client, caller_headers, world):
    failures = []
    for operation, _ in _operations(api_schema):
        real_path = {p.name: world["path"].get(p.name, [1])[0] for p in operation.path_parameters}
        body = {} if operation.body and operation.body[0].is_required else NOT_SET
        for parameter in [*operation.path_parameters, *operation.query]:
            kind = parameter.optimized_schema.get("type")
            for value in HOSTILE.get(kind if isinstance(kind, str) else kind[0], ()):
                if parameter.location == "path":
                    case = operation.Case(path_parameters={**real_path, parameter.name: value}, body=body)
                else:
                    case = operation.Case(path_parameters=real_path, query={parameter.name: value}, body=body)
                try:
                    case.call_and_validate(session=client, headers=caller_headers, checks=CHECKS)
                except Exception as error:  # noqa: BLE001 (every value is tried before the test fails)
                    failures.append(_failure(f"{operation.label} {parameter.name}={value!r:.30}", error))
    if failures:
        pytest.fail("\n\n".join(failures), pytrace=False)


def _fuzz(operation, client, headers, examples):
    """Valid requests, then invalid ones; the failures found, as text."""
    failures = []
    for mode in GenerationMode:
        @seed(FUZZ_SEED)
        @settings(max_examples=examples, deadline=None, database=None,
                  phases=FUZZ_PHASES, suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case):
            # ``client`` runs each request in its own application context, as in production.
            case.call_and_validate(session=client, headers=headers, checks=CHECKS)

        try:
            run()
        except Unsatisfiable:
            assert mode == GenerationMode.NEGATIVE  # nothing in the operation can be made invalid
        except Exception as error:  # noqa: BLE001 (every operation is fuzzed before the test fails)
            failures.append(_failure(f"{operation.label} ({mode} data)", error))
    return failures


def _failure(what, error):
    """A failure as text: schemathesis's report of the checks that failed, or the first line of
    the application's exception with the example and a curl command to replay it."""
    if isinstance(error, FailureGroup):
        return f"{what}: {error}"
    notes = "\n".join(getattr(error, "__notes__", ()))
    return f"{what}: {type(error).__name__}: {str(error).splitlines()[0]}\n{notes}"
