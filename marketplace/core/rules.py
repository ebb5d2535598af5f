"""The one kind of error a feature's rules raise to refuse a change."""


class RuleError(Exception):
    """A change that the rules refuse; ``field`` names the form field at fault, if any."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.message = message
        self.field = field
