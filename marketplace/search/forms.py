"""The search page's form: the words, what to search, the facets chosen, the order, the page.

A GET form without CSRF; a value that is not one of the choices is reported and ignored.
"""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SearchField, SelectField
from wtforms.validators import Length, NumberRange, Optional

from .documents import STATIC_LABELS

SCOPES = [("jobs", "Jobs"), ("coops", "Co-ops")]
SORT_CHOICES = [("relevance", "Best match"), ("newest", "Newest"), ("closing", "Closing soonest")]


def _choices(facet: str) -> list[tuple[str, str]]:
    return [("", "Any")] + list(STATIC_LABELS[facet].items())


class SearchForm(FlaskForm):
    class Meta:
        csrf = False

    q = SearchField("Search jobs and co-ops")
    scope = SelectField("Search in", choices=SCOPES, default="jobs", validators=[Optional()])
    sort = SelectField("Order", choices=SORT_CHOICES, default="relevance", validators=[Optional()])
    page = IntegerField("Page", default=1, validators=[Optional(), NumberRange(min=1, max=100_000)])
    kind = SelectField("Kind of work", choices=_choices("kind"), validators=[Optional()])
    state = SelectField("Open or closed", choices=_choices("state"), validators=[Optional()])
    visibility = SelectField("Who can see it", choices=_choices("visibility"), validators=[Optional()])
    budget = SelectField("Budget", choices=_choices("budget"), validators=[Optional()])
    mode = SelectField("Where", choices=_choices("mode"), validators=[Optional()])
    skill = HiddenField("Skill", validators=[Optional(), Length(max=80)])
    location = HiddenField("Location", validators=[Optional(), Length(max=120)])
    coop = HiddenField("Posting co-op", validators=[Optional(), Length(max=80)])

    FACET_FIELDS = ("kind", "state", "visibility", "budget", "mode", "skill", "location", "coop")

    def checked(self) -> list[str]:
        """Validate, then drop (and report) the values that cannot be used."""
        problems: list[str] = []
        if not self.validate():
            for field in self:
                if field.errors:
                    problems.append(f"{field.label.text}: that choice is not available, so it was ignored.")
                    field.data = field.default
                    field.errors = []
        self.q.data = (self.q.data or "")
        return problems
