"""Form helpers shared by the features."""
from datetime import datetime
from typing import Any, TypeVar

from flask_wtf import FlaskForm
from wtforms.fields import DateTimeLocalField
from wtforms.validators import ValidationError

from .time import from_viewer, to_viewer


F = TypeVar("F", bound=FlaskForm)


class LocalDateTimeField(DateTimeLocalField):
    """A datetime typed in the viewer's time zone (core.time.viewer_zone); ``data`` is naive UTC."""

    data: datetime | None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("format", ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"])
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist: list[str]) -> None:
        super().process_formdata(valuelist)
        if self.data is not None:
            typed, self.data = self.data, from_viewer(self.data)
            # A time in the hour skipped when the clocks go forward would be taken as the
            # next hour's: say so instead of moving it silently.
            if to_viewer(self.data).replace(tzinfo=None) != typed:
                self.data = None
                raise ValueError("That time does not exist here: the clocks go forward then. "
                                 "Give a time an hour later.")

    def _value(self) -> str:
        if self.raw_data:
            return " ".join(self.raw_data)
        if self.data is None:
            return ""
        return to_viewer(self.data).strftime("%Y-%m-%dT%H:%M")


class NotBlank:
    """Refuse text that is only white space (``DataRequired`` lets it through after strip)."""

    def __init__(self, message: str = "This field is required.") -> None:
        self.message = message

    def __call__(self, form: Any, field: Any) -> None:
        if field.data is None or not str(field.data).strip():
            raise ValidationError(self.message)


def strip_filter(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def attach_error(form: Any, error: Any) -> None:
    """Show a rule's error (anything with ``field`` and ``message``) on its field, or on the
    form as a whole when it names no field of this form."""
    target = form[error.field] if error.field and error.field in form else None
    if target is not None:
        target.errors = list(target.errors) + [error.message]
    else:
        form.form_errors.append(error.message)


def id_prefixed(form: F, prefix: str) -> F:
    """``form`` with its fields' ids (not their names) starting ``prefix-``: for a page that
    shows several forms with fields of the same name, so that no id is repeated."""
    for field in form:
        field.id = field.label.field_id = f"{prefix}-{field.name}"
    return form


class ActionForm(FlaskForm):
    """A bare POST with CSRF protection (publish, remove, approve, revoke …)."""
