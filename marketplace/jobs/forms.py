"""Forms for posting, editing, withdrawing and filtering jobs."""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import (BooleanField, DateField, IntegerField, RadioField, SelectField,
                     SelectMultipleField, StringField, SubmitField, TextAreaField, widgets)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from ..core.i18n import format_date, format_datetime, format_money
from ..core.forms import LocalDateTimeField, NotBlank, strip_filter
from ..documents.forms import AttachmentsMixin
from ..federation.models import Visibility
from ..skills.services import canonical_slug
from .models import BudgetType, Currency, JobKind, WorkMode
from .services import MAX_BUDGET, SORTS, JobFilters, job_errors

if TYPE_CHECKING:
    from ..coops.models import Coop
    from ..skills.models import Skill
    from .models import Job


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class JobForm(AttachmentsMixin, FlaskForm):
    coop = SelectField("Posting co-op", coerce=int, validate_choice=False)
    # The job's rules (required text, lengths, budget, skills, deadlines…) are
    # services.job_errors's, asked by ``validate``: the API asks the same.
    title = StringField("Title", filters=[strip_filter])
    summary = TextAreaField("Summary", filters=[strip_filter], render_kw={"rows": 3})
    description = TextAreaField("Description", filters=[strip_filter], render_kw={"rows": 12})
    kind = RadioField("Kind of work", choices=[(k.value, k.label) for k in JobKind],
                      default=JobKind.TENDER.value)
    skills = MultiCheckboxField("Skills", coerce=int)
    budget_type = RadioField("Budget", choices=[(b.value, b.label) for b in BudgetType],
                             default=BudgetType.FIXED.value)
    budget_min = IntegerField(
        "From (whole units)", validators=[InputRequired("Give a budget, or 0 if it is not known.")],
    )
    budget_max = IntegerField("To (optional)", validators=[Optional()])
    currency = SelectField("Currency", choices=[(c.value, c.value) for c in Currency],
                           default=Currency.GBP.value)
    work_mode = RadioField("Where", choices=[(w.value, w.label) for w in WorkMode],
                           default=WorkMode.REMOTE.value)
    location = StringField("Location", filters=[strip_filter])
    questions_deadline = LocalDateTimeField("Questions deadline", validators=[InputRequired("Give a date and time.")])
    bids_deadline = LocalDateTimeField("Bids deadline", validators=[InputRequired("Give a date and time.")])
    start_date = DateField("Start date", validators=[Optional()])
    visibility = RadioField("Who can see it", choices=[(v.value, v.label) for v in Visibility])
    looking_for_partners = BooleanField("Looking for partners to bid together (a consortium)")
    requirements = TextAreaField(
        "Essential requirements (optional)", filters=[strip_filter],
        validators=[Optional(), Length(max=4000)], render_kw={"rows": 4},
    )
    nice_to_have = TextAreaField(
        "Nice-to-have requirements (optional)", filters=[strip_filter],
        validators=[Optional(), Length(max=4000)], render_kw={"rows": 3},
    )
    criteria = TextAreaField(
        "Evaluation criteria (optional)", filters=[strip_filter],
        validators=[Optional(), Length(max=2000)], render_kw={"rows": 4},
    )
    save_draft = SubmitField("Save as draft")
    publish = SubmitField("Publish")

    def __init__(self, *args: Any, coops: Sequence[Coop] = (), skills: Sequence[Skill] = (),
                 visibilities: Iterable[str] = (), job: Job | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.job = job
        self.coops = {c.id: c for c in coops}
        self.coop.choices = [(c.id, c.name) for c in coops]
        self.skills.choices = [(s.id, s.name) for s in skills]
        self.skill_groups = _grouped(skills)
        self.visibility.choices = [
            (v.value, v.label) for v in Visibility if v.value in visibilities
        ] or [(v.value, v.label) for v in Visibility]

    def validate_coop(self, field: Any) -> None:
        ids = [value for value, _ in field.choices]
        if field.data is None and len(ids) == 1:
            field.data = ids[0]
        if field.data not in ids:
            raise ValidationError("Choose one of your co-ops.")

    def requirement_list(self, field: Any = None) -> list[str]:
        field = field or self.requirements
        return [line.strip() for line in (field.data or "").splitlines() if line.strip()]

    def criteria_list(self) -> list[dict[str, Any]]:
        """The criteria typed one a line as "Name: weight" ("Price: 20", "Price 20 %"); a line
        without a weight has None, which the rules refuse."""
        criteria: list[dict[str, Any]] = []
        for line in self.requirement_list(self.criteria):
            match = CRITERION_LINE.match(line)
            criteria.append({"name": match["name"].strip(), "weight": int(match["weight"])} if match
                            else {"name": line, "weight": None})
        return criteria

    def criteria_text(self, criteria: Iterable[dict[str, Any]]) -> str:
        """``criteria`` ([{"name", "weight"}]) as the field shows them."""
        return "\n".join(f"{c['name']}: {c['weight']}" for c in criteria)

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        coop = self.coops.get(self.coop.data)
        for name, message in job_errors(coop, self.values(), self.skills.data or [], self.job).items():
            field = getattr(self, name)
            if not field.errors:  # a value that could not be read says so already
                field.errors.append(message)
                ok = False
        return ok

    def answers(self) -> list[tuple[str, Any, str]]:
        """What was entered, as "check your answers" rows: (label, text, field id)."""
        chosen = dict(self.skills.choices)
        budget = " to ".join(format_money(v, self.currency.data) for v in (self.budget_min.data, self.budget_max.data)
                             if v is not None)
        return [
            *([(self.coop.label.text, dict(self.coop.choices).get(self.coop.data), "coop")] if self.job is None else []),
            *[(f.label.text, f.data, f.id) for f in (self.title, self.summary, self.description)],
            (self.kind.label.text, dict(self.kind.choices).get(self.kind.data), "kind"),
            (self.skills.label.text, ", ".join(chosen[i] for i in self.skills.data or [] if i in chosen), "skills"),
            ("Budget", f"{dict(self.budget_type.choices).get(self.budget_type.data)}: {budget}", "budget_type"),
            (self.work_mode.label.text, dict(self.work_mode.choices).get(self.work_mode.data), "work_mode"),
            (self.location.label.text, self.location.data, "location"),
            *[(f.label.text, format_datetime(f.data), f.id) for f in (self.questions_deadline, self.bids_deadline)],
            (self.start_date.label.text, format_date(self.start_date.data), "start_date"),
            (self.visibility.label.text, dict(self.visibility.choices).get(self.visibility.data), "visibility"),
            ("Looking for partners", "Yes" if self.looking_for_partners.data else "No", "looking_for_partners"),
            (self.requirements.label.text, "\n".join(self.requirement_list()), "requirements"),
            (self.nice_to_have.label.text, "\n".join(self.requirement_list(self.nice_to_have)), "nice_to_have"),
            (self.criteria.label.text, "\n".join(f"{c['name']}: {c['weight']} %" for c in self.criteria_list()),
             "criteria"),
            *([self.documents_answer()] if self.takes_documents else []),
        ]

    def values(self) -> dict[str, Any]:
        """The job's fields as a dict for ``services``."""
        return {
            "title": self.title.data, "summary": self.summary.data,
            "description": self.description.data or "", "kind": self.kind.data,
            "budget_type": self.budget_type.data, "budget_min": self.budget_min.data,
            "budget_max": self.budget_max.data, "currency": self.currency.data,
            "location": self.location.data or "", "work_mode": self.work_mode.data,
            "questions_deadline": self.questions_deadline.data,
            "bids_deadline": self.bids_deadline.data, "start_date": self.start_date.data,
            "visibility": self.visibility.data,
            "looking_for_partners": bool(self.looking_for_partners.data),
            "requirements": self.requirement_list(),
            "nice_to_have": self.requirement_list(self.nice_to_have),
            "criteria": self.criteria_list(),
        }


# "Technical approach: 60", "Price 20 %", "Cultural fit – 20%".
CRITERION_LINE = re.compile(r"^(?P<name>.*?\S)\s*[:–-]?\s*(?P<weight>\d{1,3})\s*%?$")


def _grouped(skills: Iterable[Skill]) -> dict[str, list[Skill]]:
    groups: dict[str, list[Skill]] = {}
    for skill in skills:
        groups.setdefault(skill.group, []).append(skill)
    return groups


class WithdrawForm(FlaskForm):
    reason = TextAreaField("Reason (shown on the job page)", filters=[strip_filter],
                           validators=[Length(max=2000)], render_kw={"rows": 3})
    submit = SubmitField("Withdraw this job")


class CancelForm(FlaskForm):
    reason = TextAreaField("Reason (shown to the bidders and on the job page)", filters=[strip_filter],
                           validators=[NotBlank("Give the reason for cancelling."), Length(max=2000)],
                           render_kw={"rows": 3})
    submit = SubmitField("Cancel this job")



STATE_CHOICES = [("open", "Open"), ("closed", "Closed"), ("awarded", "Awarded"),
                 ("cancelled", "Cancelled"), ("withdrawn", "Withdrawn"), ("draft", "Our drafts"),
                 ("any", "Any state")]


class JobFilterForm(FlaskForm):
    """The list page's filters (GET, no CSRF); bad values are reported and ignored."""

    class Meta:
        csrf = False

    skill = SelectField("Skill", validators=[Optional()])
    kind = SelectField("Kind", choices=[("", "Any kind")] + [(k.value, k.label) for k in JobKind],
                       validators=[Optional()])
    state = SelectField("State", choices=STATE_CHOICES, default="open", validators=[Optional()])
    visibility = SelectField(
        "Visibility", choices=[("", "Any visibility")] + [(v.value, v.label) for v in Visibility],
        validators=[Optional()],
    )
    coop = StringField("Co-op", validators=[Optional(), Length(max=80)])
    partners = BooleanField("Looking for partners")
    location = StringField("Location", filters=[strip_filter], validators=[Optional(), Length(max=120)])
    budget_from = IntegerField(
        "Budget at least", validators=[Optional(), NumberRange(min=0, max=MAX_BUDGET, message="Give a whole number, 0 or more.")],
    )
    sort = SelectField("Sort by", choices=list(SORTS.items()), default="newest", validators=[Optional()])
    page = IntegerField("Page", default=1, validators=[Optional(), NumberRange(min=1, max=100000)])

    def __init__(self, *args: Any, skills: Sequence[Skill] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.skill_objects = list(skills)
        self.skill.choices = [("", "Any skill")] + [(s.slug, s.name) for s in skills]
        self.skill.data = canonical_slug(self.skill.data, skills)  # a name or synonym works too

    def filters(self) -> JobFilters:
        """The validated form as ``JobFilters``; an unknown co-op is reported on its field."""
        from ..coops.models import Coop
        from ..extensions import db

        filters = JobFilters(
            kind=self.kind.data or None,
            state=self.state.data or "open",
            visibility=self.visibility.data or None,
            looking_for_partners=bool(self.partners.data),
            location=self.location.data or None,
            budget_from=self.budget_from.data,
            sort=self.sort.data or "newest",
        )
        if self.skill.data:
            filters.skill = next((s for s in self.skill_objects if s.slug == self.skill.data), None)
        if self.coop.data:
            filters.coop = db.session.scalar(select(Coop).where(Coop.slug == self.coop.data))
            if filters.coop is None:
                self.coop.errors = ["There is no co-op with that name."]
        return filters
