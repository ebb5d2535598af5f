"""Forms for networks, their coordinators and co-ops' memberships."""
from __future__ import annotations

from typing import TYPE_CHECKING
from flask_wtf import FlaskForm
from wtforms import (BooleanField, DateField, EmailField, RadioField, SelectField, StringField, TextAreaField,
                     URLField)
from wtforms.validators import Email, Length, Optional, ValidationError

from ..coops.forms import HttpUrl, clean_text
from ..core.forms import NotBlank
from .models import MembershipStatus
from .services import STATUS_LABELS

if TYPE_CHECKING:
    from typing import Any
    from collections.abc import Sequence
    from ..federation.models import Network
    from ..coops.models import Coop

STATUS_CHOICES = [(s.value, STATUS_LABELS[s]) for s in MembershipStatus]


class MembershipForm(FlaskForm):
    """A coordinator records or changes a co-op's membership (``coop`` only when adding)."""

    coop = StringField("Co-op (its name, or its short name as in its address)", filters=[clean_text],
                       validators=[NotBlank(), Length(max=80)])
    status = RadioField("Status", choices=STATUS_CHOICES, default=MembershipStatus.ACTIVE.value)
    since = DateField("Member since", validators=[Optional()])
    until = DateField("Member until (leave empty while it lasts)", validators=[Optional()])

    def __init__(self, *args: Any, adding: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not adding:
            del self.coop

    def validate_until(self, field: Any) -> None:
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError("The end date must not be before the start date.")


class CoordinatorForm(FlaskForm):
    email = EmailField("Email address of the new coordinator", filters=[clean_text],
                       validators=[NotBlank(), Length(max=254), Email("Give a valid email address.")])


class NetworkForm(FlaskForm):
    slug = StringField("Short name (used in addresses, e.g. cotech)", filters=[clean_text],
                       validators=[NotBlank(), Length(max=40)])
    name = StringField("Name", filters=[clean_text], validators=[NotBlank(), Length(max=120)])
    description = TextAreaField("Description", filters=[clean_text],
                                validators=[Optional(), Length(max=5000)], render_kw={"rows": 4})
    website = URLField("Website", filters=[clean_text], validators=[Optional(), Length(max=300), HttpUrl()])
    in_federation = BooleanField(
        "Part of the federation: its active members see posts open to the whole federation", default=True,
    )


class NetworkApplicationForm(FlaskForm):
    """On a co-op's page: its admins apply for a network it does not belong to."""

    network = SelectField("Apply to join a network", coerce=int)

    def __init__(self, *args: Any, networks: Sequence[Network] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.network.choices = [(n.id, n.name) for n in networks]


class CoopApplicationForm(FlaskForm):
    """On a network's page: a co-op admin applies for one of their co-ops."""

    coop = SelectField("Co-op", coerce=int)

    def __init__(self, *args: Any, coops: Sequence[Coop] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.coop.choices = [(c.id, c.name) for c in coops]
