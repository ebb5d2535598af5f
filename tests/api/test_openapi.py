"""The OpenAPI description at /api/v1/openapi.json: valid OpenAPI 3.1, and the same API as
the app's routes (every route described, every description a route, the same path
parameters), with response schemas that the serialisers' real output satisfies."""
import re
from datetime import date

import jsonschema_rs
import pytest
import schemathesis

from marketplace.api.base import bp
from marketplace.api.openapi import OPERATION_METHODS

from ..factories import bearer, make_coop, make_document, make_job, make_user

PREFIX = bp.url_prefix


@pytest.fixture
def document(client):
    response = client.get(f"{PREFIX}/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.get_json()


def _resolve(document, value):
    """``value``, or the component a ``$ref`` names."""
    while isinstance(value, dict) and "$ref" in value:
        section, name = re.fullmatch(r"#/components/(\w+)/(.+)", value["$ref"]).groups()
        value = document["components"][section][name]
    return value


def _refs(value):
    if isinstance(value, dict):
        if isinstance(value.get("$ref"), str):
            yield value["$ref"]
        for item in value.values():
            yield from _refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from _refs(item)


def _described(document):
    """{(METHOD, path): operation} of the description."""
    return {(method.upper(), path): operation
            for path, item in document["paths"].items()
            for method, operation in item.items() if method in OPERATION_METHODS}


def _routes(app):
    """{(METHOD, OpenAPI path): set of the rule's variables} of the app's /api/v1 routes."""
    routes = {}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(PREFIX + "/"):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule[len(PREFIX):])
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routes[(method, path)] = set(rule.arguments)
    return routes


def test_the_description_is_valid_openapi_3_1(document):
    assert document["openapi"].startswith("3.1.")
    assert document["info"]["version"] == "1"
    assert document["servers"] == [{"url": PREFIX}]
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        **document["components"]["securitySchemes"]["bearerAuth"], "type": "http", "scheme": "bearer"}
    # Against the OpenAPI 3.1 meta-schema (raises with the first error).
    schemathesis.openapi.from_dict(document).validate()
    for name, schema in document["components"]["schemas"].items():
        assert jsonschema_rs.meta.is_valid(schema), name
    for target in set(_refs(document)):
        assert _resolve(document, {"$ref": target}) is not None, target
    operation_ids = [op["operationId"] for op in _described(document).values()]
    assert len(operation_ids) == len(set(operation_ids))


def test_every_route_is_described_and_every_description_is_a_route(app, document):
    routes, described = _routes(app), _described(document)
    assert sorted(set(routes) - set(described)) == [], "routes that the description lacks"
    assert sorted(set(described) - set(routes)) == [], "described operations with no route"


def test_path_parameters_are_the_routes_variables(app, document):
    routes = _routes(app)
    for (method, path), operation in _described(document).items():
        parameters = [_resolve(document, p) for p in
                      document["paths"][path].get("parameters", []) + operation.get("parameters", [])]
        in_path = {p["name"] for p in parameters if p["in"] == "path"}
        assert in_path == set(re.findall(r"{(\w+)}", path)) == routes[(method, path)], (method, path)
        assert all(p["required"] for p in parameters if p["in"] == "path"), (method, path)


def test_every_operation_documents_the_rate_limit(document):
    for key, operation in _described(document).items():
        assert operation["responses"]["429"] == {"$ref": "#/components/responses/TooManyRequests"}, key
    retry_after = document["components"]["responses"]["TooManyRequests"]["headers"]["Retry-After"]
    assert retry_after["required"] is True


def _validator(document, name):
    """A validator of component schema ``name`` that resolves the description's $refs."""
    return jsonschema_rs.validator_for({**document["components"]["schemas"][name],
                                        "components": document["components"]})


def test_real_jobs_coops_and_skills_match_their_schemas(client, document, networks, skills):
    """Each nullable field both null and set, and a draft (never published) read by its poster."""
    coop = make_coop("Schema Co-op", {networks["cotech"]: "active"}, size=12, location="Leeds",
                     website="https://schema.example.coop", skills=[skills["python"]])
    bare = make_coop("Bare Co-op", {networks["cotech"]: "active"})
    member = make_user(coops=[coop])
    full = make_job(coop, "cotech", "open", skills=[skills["python"], skills["devops"]],
                    start_date=date(2030, 1, 6), looking_for_partners=True, budget_type="day_rate")
    draft = make_job(coop, "public", "draft", budget_max=None, kind="lead")
    headers = bearer(member)

    job = _validator(document, "JobDetail")
    make_document("job", full)
    for job_id in (full.id, draft.id):
        body = client.get(f"{PREFIX}/jobs/{job_id}", headers=headers).get_json()
        job.validate(body)
    assert [d["name"] for d in client.get(f"{PREFIX}/jobs/{full.id}", headers=headers).get_json()["documents"]] == [
        "spec.pdf"]
    assert body["published_at"] is None and body["budget"]["max"] is None
    page = client.get(f"{PREFIX}/jobs?state=any", headers=headers).get_json()
    assert page["total"] == 2
    _validator(document, "JobPage").validate(page)
    for slug in (coop.slug, bare.slug):
        _validator(document, "Coop").validate(client.get(f"{PREFIX}/coops/{slug}").get_json())
    _validator(document, "SkillList").validate(client.get(f"{PREFIX}/skills").get_json())
    _validator(document, "Error").validate(client.get(f"{PREFIX}/jobs?page=x").get_json())


def test_a_schema_refuses_a_field_the_serialiser_does_not_send(document):
    """Response objects are closed: a field added to a serialiser must be described too."""
    skill = _validator(document, "Skill")
    assert skill.is_valid({"slug": "python", "name": "Python", "group": "Digital"})
    assert not skill.is_valid({"slug": "python", "name": "Python", "group": "Digital", "extra": 1})
    assert not skill.is_valid({"slug": "python", "name": "Python"})
