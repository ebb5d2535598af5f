"""The scoring form: a score and an optional comment for each of the job's criteria."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from flask_wtf import FlaskForm
from wtforms import IntegerField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange

from ..core.forms import strip_filter
from .models import MAX_SCORE
from .services import MAX_COMMENT, Entry

if TYPE_CHECKING:
    from ..jobs.models import JobCriterion
    from .models import BidScore


class ScoreForm(FlaskForm):
    submit = SubmitField("Save our scores")

    criteria: list[JobCriterion]

    def criterion_fields(self) -> list[tuple[JobCriterion, Any, Any]]:
        """(criterion, score field, comment field) for each criterion, in order."""
        return [(c, self[f"score_{c.id}"], self[f"comment_{c.id}"]) for c in self.criteria]

    def entries(self) -> dict[int, Entry]:
        """What was typed, as ``services.submit_scores`` takes it."""
        return {c.id: Entry(score.data, comment.data or "") for c, score, comment in self.criterion_fields()}


def score_form(criteria: Iterable[JobCriterion], own: Mapping[int, BidScore] | None = None,
               formdata: Any = None) -> ScoreForm:
    """A ScoreForm with fields for ``criteria``, filled with the scorer's ``own`` scores
    ({criterion id: BidScore}) when it is not posted."""
    class Form(ScoreForm):
        pass

    out_of = f"A whole number from 0 to {MAX_SCORE}."
    for criterion in criteria:
        setattr(Form, f"score_{criterion.id}", IntegerField(
            f"{criterion.name} ({criterion.weight} %): score from 0 to {MAX_SCORE}",
            validators=[InputRequired(out_of), NumberRange(0, MAX_SCORE, out_of)],
            render_kw={"min": 0, "max": MAX_SCORE}))
        setattr(Form, f"comment_{criterion.id}", TextAreaField(
            f"Comment on {criterion.name} (optional)", filters=[strip_filter],
            validators=[Length(max=MAX_COMMENT)], render_kw={"rows": 2}))
    data: dict[str, Any] = {}
    for criterion_id, row in (own or {}).items():
        data[f"score_{criterion_id}"], data[f"comment_{criterion_id}"] = row.score, row.comment
    form = Form(formdata=formdata, data=data) if formdata is not None else Form(data=data)
    form.criteria = list(criteria)
    return form
