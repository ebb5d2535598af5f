"""The one kind of error a feature's rules raise to refuse a change."""


class RuleError(Exception):
    """A change that the rules refuse; ``field`` names the form field at fault, if any."""

    def __init__(self, message: str, field: str | None=None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def checked_text(value: str | None, limit: int, field: str | None, error: type[RuleError]=RuleError,
                 missing: str | None=None, name: str | None = None) -> str:
    """``value`` stripped, or ``error`` raised: when it is empty and ``missing`` says what to
    write, or when it is longer than ``limit`` (``name`` starts that message)."""
    value = (value or "").strip()
    if missing and not value:
        raise error(missing, field=field)
    if len(value) > limit:
        raise error(f"{name or 'It'} must be at most {limit:,} characters." if name
                    else f"Must be at most {limit:,} characters.", field=field)
    return value
