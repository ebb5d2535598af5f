"""What the API's request bodies and answers share: the limits the API adds to the rules' own, and
``doc``, a field whose schema only documents. Also the base of
every answer's object, and the one object a body and an answer share (a bid's answer to a
requirement). Apart so that ``bodies`` and ``schemas`` both build on it without importing each
other."""
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import PydanticUndefined

from ..core.models import MAX_ROW_ID


MAX_PER_PAGE = 100
MAX_QUERY = 500
MAX_REASON = 2000  # the site's withdraw form's limit
MAX_ID = MAX_ROW_ID  # larger ids are a 404 before any query (RowIdConverter)
STATE_ANY = "any"  # the list's value for "every state" (JobFilters.state)


def doc(default: Any = PydanticUndefined, **schema: Any) -> Any:
    """A field whose ``schema`` (e.g. maxLength) only documents: the rules check the value."""
    return Field(default, json_schema_extra=schema)


def values(enum: Any) -> list[str]:
    return [member.value for member in enum]


class Answer(BaseModel):
    """An answer's object: closed, so that a field a serialiser adds must be described."""

    model_config = ConfigDict(extra="forbid")


class RequirementAnswer(Answer):
    requirement_id: int
    answer: str
