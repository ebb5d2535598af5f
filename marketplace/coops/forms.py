"""Forms for the co-op directory, profiles, members and requests to join."""
from __future__ import annotations

from typing import TYPE_CHECKING
import re
from urllib.parse import urlsplit

from flask import request
from flask_wtf import FlaskForm
from wtforms import (EmailField, IntegerField, RadioField, SelectField, StringField,
                     TextAreaField, URLField)
from wtforms.validators import Email, Length, NumberRange, Optional, ValidationError

from ..core.forms import NotBlank
from ..jobs.forms import MultiCheckboxField
from ..skills.services import canonical_slug
from .models import CoopRole
from .services import MAX_SKILLS

if TYPE_CHECKING:
    from typing import Any
    from collections.abc import Iterable
    from collections.abc import Callable
    from collections.abc import Sequence
    from ..skills.models import Skill
    from ..federation.models import Network

MAX_SIZE = 10_000
ROLE_CHOICES = [(r.value, r.value.capitalize()) for r in CoopRole]
# Control characters other than tab and newlines: PostgreSQL refuses NUL in text, and none
# of the others belongs in a name or a description.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(value: Any) -> Any:
    """Strip white space and drop control characters from typed text."""
    return _CONTROL.sub("", value).strip() if isinstance(value, str) else value


class HttpUrl:
    """An absolute http:// or https:// address (no javascript:, data: …)."""

    def __init__(self, message: str = "Give a full web address starting with http:// or https://.") -> None:
        self.message = message

    def __call__(self, form: Any, field: Any) -> None:
        if not field.data:
            return
        try:
            parts = urlsplit(field.data)
        except ValueError:
            raise ValidationError(self.message) from None
        if parts.scheme not in ("http", "https") or not parts.hostname or " " in field.data:
            raise ValidationError(self.message)


def page_arg(limit: int = 100_000) -> int:
    """The ``page`` query argument as a page number in 1..limit (anything else is page 1)."""
    return min(max(request.args.get("page", 1, type=int) or 1, 1), limit)


def grouped(items: Iterable[Any], key: Callable[[Any], Any]) -> dict[Any, Any]:
    groups: dict[Any, list[Any]] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    return groups


class CoopForm(FlaskForm):
    name = StringField("Name", filters=[clean_text], validators=[NotBlank(), Length(max=120)])
    website = URLField("Website", filters=[clean_text], validators=[Optional(), Length(max=300), HttpUrl()])
    email = EmailField("Contact email", filters=[clean_text],
                       validators=[Optional(), Length(max=254), Email("Give a valid email address.")])
    description = TextAreaField("Description", filters=[clean_text],
                                validators=[Optional(), Length(max=20000)], render_kw={"rows": 10})
    size = IntegerField(
        "Size (number of workers)",
        validators=[Optional(),
                    NumberRange(min=0, max=MAX_SIZE, message=f"Must be between 0 and {MAX_SIZE:,}.")],
    )
    location = StringField("Location", filters=[clean_text], validators=[Length(max=120)])
    skills = MultiCheckboxField("Skills", coerce=int)
    networks = MultiCheckboxField("Apply to join these networks", coerce=int)

    def __init__(self, *args: Any, skills: Sequence[Skill] = (), networks: Sequence[Network] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.skills.choices = [(s.id, s.name) for s in skills]
        self.skill_groups = grouped(skills, lambda s: s.group)
        if networks is None:
            del self.networks  # only when registering: later, apply from the network's page
        else:
            self.networks.choices = [(n.id, n.name) for n in networks]
            self.network_list = list(networks)

    def validate_skills(self, field: Any) -> None:
        if len(field.data or []) > MAX_SKILLS:
            raise ValidationError(f"Choose at most {MAX_SKILLS} skills.")

    def values(self) -> dict[Any, Any]:
        return {
            "name": self.name.data, "website": self.website.data or "", "email": self.email.data or "",
            "description": self.description.data or "", "size": self.size.data,
            "location": self.location.data or "",
        }


class DirectoryFilterForm(FlaskForm):
    """The directory's filters (GET, no CSRF); bad values are reported and ignored."""

    class Meta:
        csrf = False

    q = StringField("Name contains", filters=[clean_text], validators=[Optional(), Length(max=100)])
    network = SelectField("Network", validators=[Optional()])
    skill = SelectField("Skill", validators=[Optional()])
    page = IntegerField("Page", default=1, validators=[Optional(), NumberRange(min=1, max=100000)])

    def __init__(self, *args: Any, networks: Sequence[Network] = (), skills: Sequence[Skill] = (),
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.network.choices = [("", "Any network")] + [(n.slug, n.name) for n in networks]
        self.skill.choices = [("", "Any skill")] + [(s.slug, s.name) for s in skills]
        self.skill.data = canonical_slug(self.skill.data, skills)  # a name or synonym works too


class MemberForm(FlaskForm):
    email = EmailField("Email address of the person to add", filters=[clean_text],
                       validators=[NotBlank(), Length(max=254), Email("Give a valid email address.")])
    role = RadioField("Role", choices=ROLE_CHOICES, default=CoopRole.MEMBER.value)


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=ROLE_CHOICES)


class JoinRequestForm(FlaskForm):
    message = TextAreaField("Message to the co-op's admins (optional)", filters=[clean_text],
                            validators=[Optional(), Length(max=2000)], render_kw={"rows": 5})
