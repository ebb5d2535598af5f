"""Forms for interests, bids and the poster's decisions."""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from flask import request
from flask_wtf import FlaskForm
from wtforms import (BooleanField, DateField, HiddenField, IntegerField, RadioField, SelectField, SubmitField,
                     TextAreaField)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from ..documents import services as document_services
from ..documents.forms import AttachmentsMixin
from ..core.forms import strip_filter
from ..core.i18n import format_date
from ..jobs.models import BudgetType
from .models import price_text
from .services import (MAX_ANSWER, MAX_FEEDBACK, MAX_PRICE, MAX_PROPOSAL, BidValues, amount_field,
                       price_errors, start_errors)

if TYPE_CHECKING:
    from ..coops.models import Coop
    from ..jobs.models import JobRequirement
    from .models import Bid

ANSWER_FIELD = re.compile(r"answer_(\d+)")


class CoopChoiceMixin:
    """A "which of your co-ops" choice (the form's ``coop`` SelectField) among ``coops``, given
    when the form is made; chosen already when there is only one (or, with ``first_chosen``,
    the first of several)."""

    coop: Any  # the SelectField of the form this mixes into
    first_chosen = False
    not_yours = "Choose one of your co-ops."

    def __init__(self, *args: Any, coops: Sequence[Coop] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.coop.choices = [(c.id, c.name) for c in coops]
        if self.coop.data is None and (len(coops) == 1 or (self.first_chosen and coops)):
            self.coop.data = coops[0].id

    def validate_coop(self, field: Any) -> None:
        if field.data not in [value for value, _ in field.choices]:
            raise ValidationError(self.not_yours)


class InterestForm(CoopChoiceMixin, FlaskForm):
    coop = SelectField("Co-op", coerce=int, validate_choice=False)
    bid_by = DateField("We will bid by",
                       validators=[InputRequired("Give the date by which your co-op will bid.")])
    submit = SubmitField("Register interest")


class BidForm(AttachmentsMixin, CoopChoiceMixin, FlaskForm):
    coop = SelectField("Bidding co-op", coerce=int, validate_choice=False)
    # The bid this form edits, so that a form opened before a withdrawal cannot reopen it.
    bid_id = HiddenField()
    price_type = RadioField("How you price the work", choices=[(b.value, b.label) for b in BudgetType],
                            default=BudgetType.FIXED.value)
    price = IntegerField("Fixed price (whole units)", validators=[Optional()])
    day_rate = IntegerField("Day rate (whole units)", validators=[Optional()])
    days = IntegerField("Days of work", validators=[Optional()])
    available_from = DateField("Available to start from", validators=[Optional()])
    proposal = TextAreaField("Proposal", filters=[strip_filter],
                             validators=[Optional(), Length(max=MAX_PROPOSAL)], render_kw={"rows": 12})
    save_draft = SubmitField("Save draft")
    submit = SubmitField("Submit bid")
    requirements: list[JobRequirement]  # set by bid_form on the class it makes

    @property
    def answer_fields(self) -> list[tuple[JobRequirement, Any]]:
        return [(r, self[f"answer_{r.id}"]) for r in self.requirements]

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        unknown = [k for k in request.form if ANSWER_FIELD.fullmatch(k) and k not in self._fields]
        if unknown:
            self.form_errors.append(
                "The form answers a requirement this job does not have (the job may have changed "
                "since you opened it). Reload the page and answer its current requirements."
            )
            ok = False
        amount = self.day_rate.data if self.price_type.data == BudgetType.DAY_RATE else self.price.data
        errors = {**price_errors(self.price_type.data, amount, self.days.data),
                  **start_errors(self.available_from.data)}
        for name, message in errors.items():
            if not self[name].errors:
                self[name].errors.append(message)
            ok = False
        return ok

    def load(self, bid: Bid) -> None:
        """Fill the form from a saved bid."""
        self.bid_id.data = str(bid.id)
        self.price_type.data = bid.price_type
        self[amount_field(bid.price_type)].data = bid.amount
        self.days.data = bid.days
        self.available_from.data = bid.available_from
        self.proposal.data = bid.proposal
        for requirement, answer in self.answer_fields:
            answer.data = bid.answer_to(requirement)

    def values(self) -> BidValues:
        day_rate = self.price_type.data == BudgetType.DAY_RATE
        return BidValues(
            price_type=self.price_type.data,
            amount=self.day_rate.data if day_rate else self.price.data,
            days=self.days.data if day_rate else None,
            available_from=self.available_from.data,
            proposal=self.proposal.data or "",
            answers={r.id: f.data or "" for r, f in self.answer_fields},
        )

    def answers(self, currency: str) -> list[tuple[str, Any, str]]:
        """What was entered, as "check your answers" rows: (label, text, field id)."""
        day_rate = self.price_type.data == BudgetType.DAY_RATE
        price = price_text(self.price_type.data, self.day_rate.data if day_rate else self.price.data,
                           self.days.data, currency)
        return [
            *([(self.coop.label.text, dict(self.coop.choices).get(self.coop.data), "coop")]
              if len(self.coop.choices) > 1 else []),
            (self.price_type.label.text, price, "price_type"),
            (self.available_from.label.text, format_date(self.available_from.data), "available_from"),
            (self.proposal.label.text, self.proposal.data, "proposal"),
            *[(requirement.text, answer.data, answer.id) for requirement, answer in self.answer_fields],
            *([self.documents_answer()] if self.takes_documents else []),
        ]

    @property
    def edited_bid_id(self) -> int | None:
        return int(self.bid_id.data) if (self.bid_id.data or "").isdigit() else None

    def saving(self, save: Callable[..., Bid], coop: Coop, *args: Any) -> Callable[[], Bid]:
        """What the view hands ``save_change``: ``save(*args, values, submit=…, bid_id=…)`` (a
        co-op's ``save_bid`` or a consortium's ``save_consortium_bid``), then the files sent
        with the form attached to the bid, for ``coop``."""
        submit = bool(self.submit.data)

        def save_with_documents() -> Bid:
            bid = save(*args, self.values(), submit=submit, bid_id=self.edited_bid_id)
            document_services.attach(self.pending, "bid", bid, coop)
            return bid

        return save_with_documents


def bid_form(requirements: Iterable[JobRequirement], coops: Sequence[Coop], **kwargs: Any) -> BidForm:
    """A bid form with one answer field per requirement of the job, essential or nice to have."""
    fields = {
        f"answer_{r.id}": TextAreaField(
            r.text if r.essential else f"{r.text} (nice to have)", filters=[strip_filter], validators=[Optional(), Length(max=MAX_ANSWER)],
            render_kw={"rows": 3},
        )
        for r in requirements
    }
    form_class = type("JobBidForm", (BidForm,), {**fields, "requirements": list(requirements)})
    return form_class(coops=coops, **kwargs)


class FeedbackForm(FlaskForm):
    feedback = TextAreaField("Feedback to the bidder (optional)", filters=[strip_filter],
                             validators=[Length(max=MAX_FEEDBACK)], render_kw={"rows": 3})
    submit = SubmitField("Mark unsuccessful")


class AwardForm(FlaskForm):
    agreed_value = IntegerField(
        "Agreed value (whole units)",
        validators=[InputRequired("Give the agreed value."),
                    NumberRange(min=0, max=MAX_PRICE, message=f"Must be between 0 and {MAX_PRICE:,}.")],
    )
    agreed_start = DateField("Agreed start date", validators=[InputRequired("Give the agreed start date.")])
    feedback = TextAreaField("Message to the winning co-op (optional)", filters=[strip_filter],
                             validators=[Length(max=MAX_FEEDBACK)], render_kw={"rows": 2})
    others_feedback = TextAreaField("Feedback to every other bidder (optional)", filters=[strip_filter],
                                    validators=[Length(max=MAX_FEEDBACK)], render_kw={"rows": 2})
    publish_outcome = BooleanField("Publish the outcome publicly: visitors who are not signed in see who won "
                                   "and the agreed value too")
    submit = SubmitField("Award this bid")


def _required_text(label: str, missing: str, rows: int) -> Any:
    """A text the poster or a bidder must write, of at most ``MAX_FEEDBACK`` characters."""
    return TextAreaField(label, filters=[strip_filter], validators=[InputRequired(missing), Length(max=MAX_FEEDBACK)],
                         render_kw={"rows": rows})


class FeedbackReplyForm(FlaskForm):
    """The poster's answer to a bidder's request for feedback."""

    feedback = _required_text("Your feedback to the bidder", "Write your feedback to the bidder.", rows=5)
    submit = SubmitField("Send the feedback")


class FeedbackRequestForm(FlaskForm):
    """An unsuccessful bidder asks the poster for feedback, during the award's standstill."""

    request = _required_text("What would you like feedback on?", "Say what you would like feedback on.", rows=3)
    submit = SubmitField("Ask for feedback")


class WithdrawAwardForm(FlaskForm):
    """The poster withdraws an intended award, during its standstill, with a reason."""

    reason = _required_text("Reason (every bidder is told it)", "Give the reason for withdrawing the award.", rows=3)
    submit = SubmitField("Withdraw the intended award")
