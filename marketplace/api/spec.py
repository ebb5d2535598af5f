"""Each endpoint describes itself where it is routed: ``@operation(…)`` names what it takes
and answers (the models of api/schemas.py), and SpecTree turns those and the blueprint's
routes into the OpenAPI document (api/openapi.py serves it).

SpecTree only describes here: the views check their input themselves, after the caller's
token (a 401 comes before a 422), with ``parsed`` of api/base.py, so that every error keeps
the API's one JSON shape.
"""
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from pydantic import BaseModel
from spectree import Response, SecurityScheme, SpecTree
from spectree.models import SecureType, SecuritySchemeData, Server

from .schemas import Error

DESCRIPTION = ("Jobs, co-ops, skills, bids and questions of the CoTech Marketplace. Reads follow the "
               "site's visibility rule: a job the caller may not see is a 404. Writes need a personal "
               "API token.")

spec = SpecTree(
    "flask", mode="strict", annotations=False,
    title="CoTech Marketplace API", version="1", description=DESCRIPTION,
    servers=[Server(url="/api/v1")],
    security_schemes=[SecurityScheme(name="bearerAuth", data=SecuritySchemeData(
        type=SecureType.HTTP, scheme="bearer", description="A personal API token, made on the site's API tokens page"))],
    validation_error_model=Error,
    # Components are named after the models (the names clients see).
    naming_strategy=lambda model: model.__name__,
    nested_naming_strategy=lambda parent, child: child,
)

ERRORS = {
    400: "A parameter is not valid (code bad_parameter, fields name it)",
    401: "The bearer token is unknown, revoked or malformed",
    403: "The caller may see this but may not act on it",
    404: "No such object, or the caller may not see it",
    409: "Refused by the rules in the object's present state",
    422: "Fields are not valid (error.fields names each)",
    503: "The search index is being rebuilt (with q only)",
}
Token = Literal["required", "optional", "none"]
SECURITY: dict[Token, list[dict[str, list[str]]]] = {
    "required": [{"bearerAuth": []}],
    # Reads answer anyone; a bearer token reads as its user (and a bad one is a 401).
    "optional": [{}, {"bearerAuth": []}],
    "none": [],
}


@dataclass(frozen=True)
class Extra:
    """What an operation's description needs beyond SpecTree's: added by api/openapi.py."""

    created: bool = False  # a 201 with the new object's Location
    body_required: bool = True


EXTRAS: dict[str, Extra] = {}
View = TypeVar("View", bound=Callable[..., Any])


def operation(operation_id: str, tag: str, ok: Mapping[int, tuple[type[BaseModel] | None, str]],
              errors: Sequence[int] = (), body: type[BaseModel] | None = None,
              query: type[BaseModel] | None = None, form: type[BaseModel] | None = None,
              token: Token = "required",
              created: bool = False, body_required: bool = True) -> Callable[[View], View]:
    """Describe the view below: its summary and description are its docstring's."""
    answers = {f"HTTP_{status}": (model, text) for status, (model, text) in ok.items()}
    answers.update({f"HTTP_{status}": (Error, ERRORS[status]) for status in errors})
    EXTRAS[operation_id] = Extra(created=created, body_required=body_required)
    # A bad query argument (any, e.g. a NUL) is a 400; a bad body a 422.
    refusal = 422 if body is not None or form is not None else 400
    describe: Callable[[View], View] = spec.validate(
        query=query, json=body, form=form, resp=Response(**answers), tags=[tag], security=SECURITY[token],
        operation_id=operation_id, skip_validation=True, validation_error_status=refusal)
    return describe
