"""The saved-search forms."""
from __future__ import annotations

from typing import TYPE_CHECKING
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.validators import InputRequired, Length

from ..core.forms import NotBlank
from .models import Delivery

if TYPE_CHECKING:
    from typing import Any
    from collections.abc import Sequence
    from ..coops.models import Coop

DELIVERY_CHOICES = [(d.value, d.label) for d in Delivery]


class SaveSearchForm(FlaskForm):
    name = StringField("Name", validators=[NotBlank(), Length(max=120)])
    delivery = RadioField("Send me", choices=DELIVERY_CHOICES, default=Delivery.DAILY.value,
                          validators=[InputRequired()])
    audience = SelectField("For")  # WTForms refuses a value not among the choices
    query = HiddenField(validators=[Length(max=1000)])
    submit = SubmitField("Save the search")

    def __init__(self, *args: Any, coops: Sequence[Coop] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.audience.choices = [("me", "Me alone")] + [(str(c.id), f"Every member of {c.name}") for c in coops]


class EditSearchForm(FlaskForm):
    name = StringField("Name", validators=[NotBlank(), Length(max=120)])
    delivery = RadioField("Send", choices=DELIVERY_CHOICES, validators=[InputRequired()])
    paused = BooleanField("Paused: send nothing for now")
    submit = SubmitField("Save")
