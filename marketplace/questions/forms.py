"""Forms for asking, answering and publishing answers."""
from __future__ import annotations

from typing import TYPE_CHECKING
from flask_wtf import FlaskForm
from wtforms import SelectField, SubmitField, TextAreaField
from wtforms.validators import Length

from ..bids.forms import CoopChoiceMixin
from ..core.forms import NotBlank, strip_filter
from ..documents.forms import AttachmentsMixin
from .services import MAX_ANSWER, MAX_QUESTION

if TYPE_CHECKING:
    from typing import Any


def _question_field(label: str) -> Any:
    return TextAreaField(label, filters=[strip_filter],
                         validators=[NotBlank("Write your question."), Length(max=MAX_QUESTION)],
                         render_kw={"rows": 4})


def _answer_field(label: str = "Answer") -> Any:
    return TextAreaField(label, filters=[strip_filter],
                         validators=[NotBlank("Write the answer."), Length(max=MAX_ANSWER)],
                         render_kw={"rows": 4})


class AskForm(AttachmentsMixin, CoopChoiceMixin, FlaskForm):
    coop = SelectField("Asking for", coerce=int, validate_choice=False)
    text = _question_field("Your question")
    submit = SubmitField("Send the question")


class AnswerForm(AttachmentsMixin, FlaskForm):
    answer = _answer_field("Answer (Markdown; published to everyone who can see the job)")
    submit = SubmitField("Publish the answer")


class PublishAnswerForm(AttachmentsMixin, FlaskForm):
    text = _question_field("Question")
    answer = _answer_field()
    submit = SubmitField("Publish")
