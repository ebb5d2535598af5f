"""Forms for private feed addresses and feed sources."""
from __future__ import annotations

from typing import TYPE_CHECKING
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, RadioField, SelectField, StringField, SubmitField
from wtforms.validators import URL, InputRequired, Length, NumberRange, Optional, ValidationError

from ..core.forms import NotBlank, strip_filter
from ..jobs.forms import MultiCheckboxField
from ..jobs.models import JobKind
from .models import SourceKind
from .services import MAX_INTERVAL, MIN_INTERVAL

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from typing import Any
    from ..coops.models import Coop
    from ..skills.models import Skill


class TokenForm(FlaskForm):
    label = StringField("Name this address (optional)", filters=[strip_filter],
                        validators=[Optional(), Length(max=80)])
    submit = SubmitField("Make a private feed address")


class FeedSourceForm(FlaskForm):
    name = StringField("Name", filters=[strip_filter], validators=[NotBlank(), Length(max=120)])
    url = StringField(
        "Feed address", filters=[strip_filter],
        validators=[NotBlank(), Length(max=1000),
                    URL(require_tld=False, message="Give the feed's full address, starting with https://.")],
    )
    kind = RadioField("Type", choices=[(k.value, k.label) for k in SourceKind],
                      default=SourceKind.RSS.value)
    coop = SelectField("Jobs appear in the name of", coerce=int, validate_choice=False)
    visibility = RadioField("Who can see the imported jobs")
    job_kind = RadioField("Imported entries are", choices=[(k.value, k.label) for k in JobKind],
                          default=JobKind.LEAD.value)
    skills = MultiCheckboxField("Skills every imported job gets", coerce=int)
    fetch_interval_minutes = IntegerField(
        "Fetch every (minutes)", default=60,
        validators=[InputRequired("Give a number of minutes."),
                    NumberRange(min=MIN_INTERVAL, max=MAX_INTERVAL,
                                message=f"Between {MIN_INTERVAL} and {MAX_INTERVAL:,} minutes.")],
    )
    active = BooleanField("Active (fetched on schedule)", default=True)
    bids_here = BooleanField("Co-ops bid here: the feed lists the co-op's own work, not another "
                             "organisation's notices (whose bids go to the original notice)")
    submit = SubmitField("Save source")

    def __init__(self, *args: Any, coops: Sequence[Coop] = (), skills: Sequence[Skill] = (),
                 visibilities: Iterable[tuple[str, str]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.coops = {c.id: c for c in coops}
        self.coop.choices = [(c.id, c.name) for c in coops]
        self.skills.choices = [(s.id, s.name) for s in skills]
        self.visibility.choices = list(visibilities)

    def validate_coop(self, field: Any) -> None:
        if field.data not in self.coops:
            raise ValidationError("Choose a co-op from the list.")

    def values(self) -> dict[str, Any]:
        return {
            "name": self.name.data, "url": self.url.data, "kind": self.kind.data,
            "coop": self.coops.get(self.coop.data), "visibility": self.visibility.data,
            "job_kind": self.job_kind.data, "active": bool(self.active.data),
            "bids_here": bool(self.bids_here.data),
            "fetch_interval_minutes": self.fetch_interval_minutes.data,
        }
