"""The API's blueprint and the parts every endpoint shares: JSON errors, who the caller is,
and reading query arguments and JSON bodies.

Reads use the same visibility rule as the site (``api_viewer``); a job the caller may not
see answers 404, never 403. Writes act only for a bearer token (``token_user``): a signed-in
browser session may read, but cannot write, so the API needs no CSRF token.
"""
from typing import Any, TypeVar

from flask import Blueprint, Response, current_app, g, jsonify, request
from flask_limiter.util import get_remote_address
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from werkzeug.exceptions import HTTPException

from ..accounts.services import why_user_cannot_act
from ..core.tokens import hash_token
from ..extensions import csrf, db, limiter
from ..accounts.models import User
from ..federation import Viewer, current_viewer, viewer_for
from . import idempotency, services

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


def _token_key() -> str:
    # Keyed by the token's fingerprint, so that a token is limited wherever it is used from.
    return "token:" + hash_token(request.headers.get("Authorization", ""))


# Two limits: per token (calls that send one), and per client address (every call, so that
# guessing tokens or calling without one is limited too). Read per request: settings may change.
limiter.limit(lambda: current_app.config["API_RATE_LIMIT"], key_func=_token_key, scope="api-token",
              exempt_when=lambda: not request.headers.get("Authorization"))(bp)
limiter.limit(lambda: current_app.config["API_ADDRESS_RATE_LIMIT"], key_func=get_remote_address,
              scope="api-address")(bp)

Answer = tuple[Response, int, dict[str, str]]


class ApiError(Exception):
    """An error answered as ``{"error": {"code", "message", "fields"}}`` with ``status``."""

    def __init__(self, status: int, code: str, message: str, fields: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields or {}


def error_response(status: int, code: str, message: str, fields: dict[str, str] | None = None,
                   headers: dict[str, str] | None = None) -> Answer:
    body = {"error": {"code": code, "message": message, "fields": fields or {}}}
    return jsonify(body), status, headers or {}


@bp.errorhandler(ApiError)
def _api_error(error: ApiError) -> Answer:
    headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
    return error_response(error.status, error.code, error.message, error.fields, headers)


def http_error_response(error: Exception) -> Answer:
    """JSON for any HTTP error under /api/ (also called by the app's handlers for unrouted URLs)."""
    if not isinstance(error, HTTPException):
        return error_response(500, "internal_server_error", "Internal server error")
    code = (error.name or "error").lower().replace(" ", "_")
    # A 429's Retry-After and X-RateLimit-* headers are added by the limiter after this.
    return error_response(error.code or 500, code, error.description or error.name)


bp.register_error_handler(HTTPException, http_error_response)


@bp.before_request
def _refuse_nul() -> None:
    """PostgreSQL text cannot hold a NUL character, so no object is named with one: refuse such
    a query argument before a query sees it."""
    for name, value in request.args.items(multi=True):
        if "\x00" in value:
            raise ApiError(400, "bad_parameter", f"{name} contains a NUL character", {name: "NUL character"})


@bp.before_request
def _claim_idempotency_key() -> Response | None:
    """A write sent with an Idempotency-Key: claim the key, or answer what its first request got."""
    if request.method not in idempotency.WRITES:
        return None
    try:
        key = idempotency.key_of_request()
        if key is None:
            return None
        return idempotency.claim(token_user(), key)
    except idempotency.KeyRefused as refused:
        raise ApiError(refused.status, refused.code, refused.message)


@bp.after_request
def _release_idempotency_key(response: Response) -> Response:
    try:
        idempotency.release_unanswered()
    except Exception:  # the database is gone too: the claim times out (IDEMPOTENCY_CLAIM_SECONDS)
        current_app.logger.exception("could not release an Idempotency-Key claim")
    return response


def bearer_token() -> str:
    """The plain token of an ``Authorization: Bearer …`` header, '' if there is no header.
    A header of another scheme is refused rather than ignored."""
    header = request.headers.get("Authorization", "")
    if not header:
        return ""
    scheme, _, plain = header.partition(" ")
    if scheme.lower() != "bearer" or not plain.strip():
        raise ApiError(401, "unauthorized", "Send the API token as: Authorization: Bearer <token>")
    return plain.strip()


def _token_user() -> User | None:
    """The bearer token's user, looked up once per request; None without a token. An unknown,
    revoked or malformed token is a 401, never a silent downgrade to anonymous."""
    if "api_token_user" not in g:
        plain = bearer_token()
        user = services.user_for_token(plain) if plain else None
        if plain and user is None:
            raise ApiError(401, "unauthorized", "Invalid or revoked API token")
        if user is not None:
            db.session.commit()  # the token's last use
        g.api_token_user = user
    found: User | None = g.api_token_user
    return found


def api_viewer() -> Viewer:
    """The caller as a viewer: a bearer token's user, else the signed-in session (reads only),
    else anonymous."""
    user = _token_user()
    return viewer_for(user) if user is not None else current_viewer()


def token_user() -> User:
    """The user a write acts for. Writes need a bearer token: a browser session's cookie is
    not enough (a page on another site could otherwise make the browser write). A user who
    has not confirmed their email address reads, but does not write (403)."""
    user = _token_user()
    if user is None:
        raise ApiError(401, "token_required",
                       "Writes need an API token: send Authorization: Bearer <token>")
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        reason = why_user_cannot_act(user)
        if reason is not None:
            raise ApiError(403, "email_unconfirmed", reason)
    return user


def int_arg(name: str, default: int, low: int = 1, high: int | None = None) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, "bad_parameter", f"{name} must be an integer", {name: "not an integer"})
    if value < low or (high is not None and value > high):
        raise ApiError(400, "bad_parameter", f"{name} is out of range", {name: "out of range"})
    return value


def json_body() -> dict[str, Any]:
    """The request's JSON object; a 400 for anything else (bad JSON, a list, no body)."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "bad_json", "Send a JSON object with Content-Type: application/json")
    return body


def invalid(fields: dict[str, str], message: str = "Some fields are not valid.") -> ApiError:
    return ApiError(422, "invalid", message, fields)


Model = TypeVar("Model", bound=BaseModel)
# What a field's value is not, by the kind of pydantic error.
MESSAGES = {
    "missing": "required", "extra_forbidden": "unknown field", "string_type": "must be a string",
    "int_type": "must be an integer", "bool_type": "must be true or false", "list_type": "must be a list",
    "model_type": "must be an object", "model_attributes_type": "must be an object",
    "dict_type": "must be an object",
}


def _message(error: ErrorDetails) -> str:
    if error["type"] in ("enum", "literal_error"):
        return f"must be one of: {error.get('ctx', {}).get('expected', '')}"
    if error["input"] is None and len(error["loc"]) == 1 and error["type"] != "missing":
        return "must not be null"
    return MESSAGES.get(error["type"], error["msg"])


def parsed(model: type[Model], data: dict[str, Any] | None = None) -> Model:
    """The request's JSON body (or ``data``) as ``model``; a 422 names each field at fault
    (a nested value by its top-level field)."""
    try:
        if data is not None:
            return model.model_validate(data)
        json_body()  # a 400 for anything but a JSON object
        return model.model_validate_json(request.get_data())
    except ValidationError as error:
        fields: dict[str, str] = {}
        for detail in error.errors():
            fields.setdefault(str(detail["loc"][0]) if detail["loc"] else "body", _message(detail))
        raise invalid(fields) from None


def optional_body(model: type[Model]) -> Model:
    """A body that may be left out (an action with an optional reason)."""
    return parsed(model) if request.get_data() else model()

