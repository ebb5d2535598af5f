"""Forms of the coordinator: a co-op's capacity, inviting co-ops to bid, declining an invitation."""
from __future__ import annotations

from typing import TYPE_CHECKING
from flask_wtf import FlaskForm
from wtforms import IntegerField, SubmitField, TextAreaField
from wtforms.validators import Length, NumberRange, Optional, ValidationError

from ..core.forms import strip_filter
from ..jobs.forms import MultiCheckboxField
from .services import MAX_DAY_RATE, MAX_PEOPLE, MAX_REASON

if TYPE_CHECKING:
    from typing import Any


def _people(label: str) -> Any:
    return IntegerField(label, validators=[
        Optional(), NumberRange(min=0, max=MAX_PEOPLE, message=f"Must be a whole number from 0 to {MAX_PEOPLE:,}.")])


def _rate(label: str) -> Any:
    return IntegerField(label, validators=[
        Optional(), NumberRange(min=0, max=MAX_DAY_RATE, message=f"Must be between £0 and £{MAX_DAY_RATE:,}.")])


class CapacityForm(FlaskForm):
    people_1m = _people("People free to start within the next month")
    people_3m = _people("People free to start within the next 3 months")
    people_6m = _people("People free to start within the next 6 months")
    day_rate_min = _rate("Lowest day rate (£)")
    day_rate_max = _rate("Highest day rate (£)")
    submit = SubmitField("Save capacity")

    def validate_day_rate_max(self, field: Any) -> None:
        low = self.day_rate_min.data
        if field.data is not None and low is not None and not self.day_rate_min.errors and field.data < low:
            raise ValidationError("The highest day rate must not be below the lowest.")

    def values(self) -> dict[Any, Any]:
        return {name: self[name].data for name in
                ("people_1m", "people_3m", "people_6m", "day_rate_min", "day_rate_max")}


class InviteForm(FlaskForm):
    coops = MultiCheckboxField("Co-ops to invite", coerce=int, validate_choice=False)
    submit = SubmitField("Invite to bid")


class DeclineForm(FlaskForm):
    reason = TextAreaField("Why not? (optional: the co-op that invited you sees it)", filters=[strip_filter],
                           validators=[Optional(), Length(max=MAX_REASON)], render_kw={"rows": 3})
    submit = SubmitField("Decline the invitation")
