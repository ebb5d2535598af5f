"""The OpenAPI 3.1 description of API v1, served at /api/v1/openapi.json.

The reads of routes.py are described here. Every other endpoint module describes its own
operations in module-level dicts and is named in ``DESCRIBED_MODULES``: ``PATHS`` (path items
keyed by the path relative to the server URL, e.g. "/jobs/{job_id}/bids") and, if it needs
them, ``SCHEMAS`` (component schemas by name). They may use the shared components below:
schemas ``Error``, ``Job``, ``CoopRef``…, responses ``BadRequest``, ``Unauthorized``,
``NotFound``, ``TooManyRequests``, parameters ``JobId``, ``Page``, ``PerPage``.

tests/api/test_openapi.py checks the description against the app's routes, and
tests/api/test_fuzz.py fuzzes the API against it: keep it exact.
"""
import copy
import importlib

from flask import current_app, jsonify

from ..core.models import MAX_ROW_ID
from ..federation.models import Visibility
from ..jobs.models import BudgetType, Currency, JobKind, JobState, WorkMode
from ..search import SORTS
from .base import MAX_PER_PAGE, bp
from .routes import MAX_QUERY

# Endpoint modules of this package whose PATHS and SCHEMAS are merged into the description.
DESCRIBED_MODULES = ("writes", "export")

OPERATION_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
MAX_ID = MAX_ROW_ID  # larger ids are a 404 before any query (RowIdConverter)
STATE_ANY = "any"  # the list's value for "every state" (JobFilters.state)


def ref(name, section="schemas"):
    return {"$ref": f"#/components/{section}/{name}"}


def nullable(schema):
    """``schema`` or null (OpenAPI 3.1: a type list, no ``nullable``)."""
    return {**schema, "type": [schema["type"], "null"]}


def values(enum):
    return [member.value for member in enum]


def json_response(description, schema, headers=None):
    response = {"description": description, "content": {"application/json": {"schema": schema}}}
    if headers:
        response["headers"] = headers
    return response


def obj(properties, optional=()):
    """A closed JSON object: every property is required unless named in ``optional``, and
    no other property is allowed (a field added to a serialiser must be described)."""
    return {"type": "object", "additionalProperties": False, "properties": properties,
            "required": [name for name in properties if name not in optional]}


STRING = {"type": "string"}
INTEGER = {"type": "integer"}
DATE_TIME = {"type": "string", "format": "date-time"}  # UTC, with a Z
DATE = {"type": "string", "format": "date"}

SCHEMAS = {
    "Error": obj({"error": obj({
        "code": {**STRING, "description": "Stable, machine-readable: bad_parameter, not_found…"},
        "message": STRING,
        "fields": {"type": "object", "additionalProperties": STRING,
                   "description": "What is wrong with each field or parameter at fault."},
    })}),
    "Skill": obj({"slug": STRING, "name": STRING, "group": STRING}),
    "SkillList": obj({"items": {"type": "array", "items": ref("Skill")}}),
    "CoopRef": obj({"slug": STRING, "name": STRING}),
    "Coop": obj({
        "slug": STRING, "name": STRING, "website": STRING, "location": STRING,
        "description": {**STRING, "description": "Markdown"},
        "size": nullable({**INTEGER, "description": "Number of workers"}),
    }),
    "Budget": obj({
        "type": {"type": "string", "enum": values(BudgetType)},
        "min": {**INTEGER, "minimum": 0},
        "max": nullable({**INTEGER, "minimum": 0}),
        "currency": {"type": "string", "enum": values(Currency)},
    }),
    "Job": obj({
        "id": INTEGER,
        "title": STRING,
        "summary": STRING,
        "description": {**STRING, "description": "Markdown"},
        "kind": {"type": "string", "enum": values(JobKind)},
        "state": {"type": "string", "enum": values(JobState)},
        "visibility": {"type": "string", "enum": values(Visibility)},
        "budget": ref("Budget"),
        "location": STRING,
        "work_mode": {"type": "string", "enum": values(WorkMode)},
        "questions_deadline": DATE_TIME,
        "bids_deadline": DATE_TIME,
        "start_date": nullable(DATE),
        "looking_for_partners": {"type": "boolean"},
        "published_at": nullable(DATE_TIME),
        "coop": ref("CoopRef"),
        "skills": {"type": "array", "items": ref("Skill")},
    }),
    "JobPage": obj({
        "items": {"type": "array", "items": ref("Job")},
        "page": {**INTEGER, "minimum": 1},
        "per_page": {**INTEGER, "minimum": 1, "maximum": MAX_PER_PAGE},
        "total": {**INTEGER, "minimum": 0},
        "total_capped": {"type": "boolean", "description": "total is a lower bound"},
        "notices": {"type": "array", "items": STRING,
                    "description": "With q only: how the search was understood"},
    }, optional=("notices",)),
}


def _error(description, headers=None):
    return json_response(description, ref("Error"), headers)


RESPONSES = {
    "BadRequest": _error("A parameter is not valid (code bad_parameter, fields name it)"),
    "Unauthorized": _error("The bearer token is unknown, revoked or malformed", {
        "WWW-Authenticate": {"required": True, "schema": {"type": "string", "const": "Bearer"}},
    }),
    "NotFound": _error("No such object, or the caller may not see it"),
    "TooManyRequests": _error("Rate limit reached: wait before the next request", {
        "Retry-After": {"required": True, "description": "Seconds to wait",
                        "schema": {"type": "integer", "minimum": 0}},
    }),
}

PARAMETERS = {
    "JobId": {"name": "job_id", "in": "path", "required": True,
              "schema": {**INTEGER, "minimum": 1, "maximum": MAX_ID}},
    "Page": {"name": "page", "in": "query", "schema": {**INTEGER, "minimum": 1, "default": 1}},
    "PerPage": {"name": "per_page", "in": "query",
                "schema": {**INTEGER, "minimum": 1, "maximum": MAX_PER_PAGE, "default": 20}},
    "IdempotencyKey": {
        "name": "Idempotency-Key", "in": "header", "required": False,
        "description": "Any unique string (a UUID, say) naming this write: sent again with the same "
                       "request within IDEMPOTENCY_HOURS (24), the write is not repeated and the first "
                       "answer comes back (with `Idempotent-Replayed: true`). The same key with another "
                       "request is a 422; a retry while the first is still being worked on is a 409. "
                       "Refused requests (4xx) are not kept: fix and send again with the same key.",
        "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[ -~]+$"},
    },
}

SECURITY_SCHEMES = {
    "bearerAuth": {"type": "http", "scheme": "bearer",
                   "description": "A personal API token, made on the site's API tokens page"},
}

# Reads answer anyone; a bearer token reads as its user (and a bad one is a 401).
OPTIONAL_TOKEN = [{}, {"bearerAuth": []}]


def _query(name, schema, description=None):
    parameter = {"name": name, "in": "query", "schema": schema}
    if description:
        parameter["description"] = description
    return parameter


_STATUS = {"BadRequest": "400", "Unauthorized": "401", "NotFound": "404", "TooManyRequests": "429"}

def _read(operation_id, summary, tag, ok, parameters=(), errors=("Unauthorized",), extra=None):
    responses = {"200": ok}
    responses.update({_STATUS[name]: ref(name, "responses") for name in errors})
    responses.update(extra or {})
    operation = {"operationId": operation_id, "summary": summary, "tags": [tag],
                 "security": OPTIONAL_TOKEN, "responses": responses}
    if parameters:
        operation["parameters"] = list(parameters)
    return {"get": operation}


PATHS = {
    "/jobs": _read(
        "listJobs", "Jobs the caller may see, newest first; with q, a full-text search", "jobs",
        json_response("One page of jobs", ref("JobPage")),
        parameters=[
            ref("Page", "parameters"), ref("PerPage", "parameters"),
            _query("q", {**STRING, "maxLength": MAX_QUERY}, "Full-text search"),
            _query("sort", {"type": "string", "enum": list(SORTS), "default": SORTS[0]},
                   "Order of search results (with q only)"),
            _query("skill", STRING, "A skill's slug, name or synonym (a11y: Accessibility)"),
            _query("coop", STRING, "The posting co-op's slug"),
            _query("kind", {"type": "string", "enum": values(JobKind)}),
            _query("state", {"type": "string", "enum": [*values(JobState), STATE_ANY]},
                   f"Default: open (without q), every state (with q); {STATE_ANY}: every state"),
            _query("visibility", {"type": "string", "enum": values(Visibility)}),
            _query("looking_for_partners", {"type": "boolean"}, "Not with q"),
        ],
        errors=("BadRequest", "Unauthorized"),
        extra={"503": _error("The search index is being rebuilt (with q only)")},
    ),
    "/jobs/{job_id}": _read(
        "getJob", "A job the caller may see", "jobs", json_response("The job", ref("Job")),
        parameters=[ref("JobId", "parameters")], errors=("Unauthorized", "NotFound"),
    ),
    "/coops/{slug}": _read(
        "getCoop", "A co-op's profile", "coops", json_response("The co-op", ref("Coop")),
        parameters=[{"name": "slug", "in": "path", "required": True, "schema": STRING}],
        errors=("Unauthorized", "NotFound"),
    ),
    "/skills": _read(
        "listSkills", "The skill taxonomy, by group and name", "skills",
        json_response("Every skill", ref("SkillList")),
    ),
    "/openapi.json": {"get": {
        "operationId": "getOpenApi", "summary": "This description", "tags": ["meta"], "security": [],
        "responses": {"200": json_response("The OpenAPI 3.1 document", {
            "type": "object", "required": ["openapi", "info", "paths"]})},
    }},
}


def _merge(target, addition, where):
    """Add ``addition``'s keys to ``target``; a key both describe differently is a mistake."""
    for key, value in addition.items():
        if key in target and target[key] != value:
            raise ValueError(f"{where}: {key!r} is described twice")
        target[key] = copy.deepcopy(value)


def build_document():
    document = {
        "openapi": "3.1.0",
        "info": {
            "title": "CoTech Marketplace API",
            "version": "1",
            "description": "Jobs, co-ops, skills, bids and questions of the CoTech Marketplace. "
                           "Reads follow the site's visibility rule: a job the caller may not "
                           "see is a 404. Writes need a personal API token.",
        },
        "servers": [{"url": bp.url_prefix}],
        "paths": copy.deepcopy(PATHS),
        "components": {
            "schemas": copy.deepcopy(SCHEMAS),
            "responses": copy.deepcopy(RESPONSES),
            "parameters": copy.deepcopy(PARAMETERS),
            "securitySchemes": copy.deepcopy(SECURITY_SCHEMES),
        },
    }
    for name in DESCRIBED_MODULES:
        module = importlib.import_module(f".{name}", __package__)
        for path, item in getattr(module, "PATHS", {}).items():
            _merge(document["paths"].setdefault(path, {}), item, f"{name}.PATHS[{path!r}]")
        _merge(document["components"]["schemas"], getattr(module, "SCHEMAS", {}), f"{name}.SCHEMAS")
    # The rate limiter may answer any request.
    for item in document["paths"].values():
        for method in OPERATION_METHODS:
            if method in item:
                item[method]["responses"].setdefault("429", ref("TooManyRequests", "responses"))
    return document


@bp.get("/openapi.json")
def openapi_document():
    document = current_app.extensions.get("api_openapi")
    if document is None:  # static: built once per app
        document = current_app.extensions["api_openapi"] = build_document()
    return jsonify(document)
