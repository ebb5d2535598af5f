"""Forms for consortia: forming one, inviting, the split, comments and partner offers."""
from __future__ import annotations

from typing import TYPE_CHECKING
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from ..bids.forms import CoopChoiceMixin
from ..core.forms import NotBlank, strip_filter
from .services import MAX_COMMENT, MAX_DESCRIPTION, MAX_NAME, MAX_OFFER, MAX_ROLE, share_errors

if TYPE_CHECKING:
    from typing import Any
    from collections.abc import Sequence
    from ..consortia.models import ConsortiumMember


class ConsortiumForm(CoopChoiceMixin, FlaskForm):
    coop = SelectField("Lead co-op", coerce=int, validate_choice=False)
    name = StringField("Name of the consortium", filters=[strip_filter],
                       validators=[NotBlank("Give a name for the consortium."), Length(max=MAX_NAME)])
    description = TextAreaField("What the consortium offers (optional)", filters=[strip_filter],
                                validators=[Optional(), Length(max=MAX_DESCRIPTION)], render_kw={"rows": 4})
    role = StringField("Your co-op's role", filters=[strip_filter], validators=[Optional(), Length(max=MAX_ROLE)],
                       description="For example: project management, development, design.")
    submit = SubmitField("Form the consortium")


class InviteForm(FlaskForm):
    coop = StringField("Co-op to invite", filters=[strip_filter],
                       validators=[NotBlank("Give the name of the co-op to invite."), Length(max=120)],
                       description="Its name, or its short name as in the address of its page. "
                                   "Names are suggested as you type.",
                       render_kw={"list": "invitable-coops", "autocomplete": "off", "data-combobox": ""})
    role = StringField("Its role", filters=[strip_filter], validators=[Optional(), Length(max=MAX_ROLE)])
    submit = SubmitField("Invite")


class CommentForm(CoopChoiceMixin, FlaskForm):
    coop = SelectField("Comment as", coerce=int, validate_choice=False)
    text = TextAreaField("Comment", filters=[strip_filter],
                         validators=[NotBlank("Write a comment."), Length(max=MAX_COMMENT)], render_kw={"rows": 3})
    submit = SubmitField("Post the comment")
    first_chosen = True
    not_yours = "Choose one of your co-ops in the consortium."


class OfferForm(CoopChoiceMixin, FlaskForm):
    coop = SelectField("Co-op", coerce=int, validate_choice=False)
    message = TextAreaField("What your co-op brings", filters=[strip_filter],
                            validators=[NotBlank("Say in a few words what your co-op brings."),
                                        Length(max=MAX_OFFER)], render_kw={"rows": 2})
    submit = SubmitField("Offer to partner")
    first_chosen = True


class SplitForm(FlaskForm):
    """One row (role, work %, money %) per co-op taking part; built by ``split_form``."""

    team = HiddenField()  # the member ids the form was built for, to catch a changed team
    submit = SubmitField("Save the split")

    def rows(self) -> dict[int, tuple[str | None, int | None, int | None]]:
        return {m.id: (self[f"role_{m.id}"].data, self[f"work_{m.id}"].data, self[f"money_{m.id}"].data)
                for m in self.members}

    def member_fields(self) -> list[Any]:
        return [(m, self[f"role_{m.id}"], self[f"work_{m.id}"], self[f"money_{m.id}"]) for m in self.members]

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        if self.team.data and self.team.data != self.team_key:
            self.form_errors.append("The team changed since you opened the page. Reload it and agree the split again.")
            return False
        if not ok:
            return False
        for (member_id, name), message in share_errors(self.rows()).items():
            if member_id is None:
                self.form_errors.append(message)
            else:
                self[f"{name}_{member_id}"].errors.append(message)
            ok = False
        return ok


def split_form(members: Sequence[ConsortiumMember], **kwargs: Any) -> SplitForm:
    percent = [InputRequired("Give a whole percentage."),
               NumberRange(min=0, max=100, message="Give a whole percentage between 0 and 100.")]
    fields = {}
    for m in members:
        fields[f"role_{m.id}"] = StringField(f"Role of {m.coop.name}", filters=[strip_filter],
                                             validators=[Optional(), Length(max=MAX_ROLE)], default=m.role)
        fields[f"work_{m.id}"] = IntegerField(f"{m.coop.name}: % of the work", validators=percent,
                                              default=m.work_share)
        fields[f"money_{m.id}"] = IntegerField(f"{m.coop.name}: % of the money", validators=percent,
                                               default=m.money_share)
    key = ",".join(str(m.id) for m in members)
    form_class = type("TeamSplitForm", (SplitForm,), {**fields, "members": list(members), "team_key": key})
    form = form_class(**kwargs)
    if not form.team.data:
        form.team.data = key
    return form
